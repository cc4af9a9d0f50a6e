// Inputs given to a run, checked against the plan's declared inputs; defaults fill the gaps.

import type { Plan } from '../protocol/plan.ts';
import { didYouMean, makeIssue, type WorkflowIssue } from './issues.ts';
import { valueProblem } from './github-inputs.ts';
import { formatBytes, resolveLimits, type WorkflowLimits } from './limits.ts';

const NOWHERE = { line: 0, column: 0 };

export function resolveInputs(
  plan: Plan,
  given: Record<string, string>,
  limits: Partial<WorkflowLimits> = {},
): { ok: true; inputs: Record<string, string> } | { ok: false; issues: WorkflowIssue[] } {
  const { maxInputValueBytes, maxInputsTotalBytes } = resolveLimits(limits);
  const declared = Object.keys(plan.inputs);
  const issues: WorkflowIssue[] = [];
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(plan.inputs, name)) {
      const known =
        declared.length === 0 ? 'the workflow declares no inputs' : `declared inputs: ${declared.join(', ')}`;
      issues.push(
        makeIssue(
          'unknown_input',
          `unknown input '${name}'${didYouMean(name, declared)}; ${known}`,
          NOWHERE,
          `inputs.${name}`,
        ),
      );
    }
  }
  const entries: Array<[string, string]> = [];
  for (const [name, spec] of Object.entries(plan.inputs)) {
    const value = Object.hasOwn(given, name) ? given[name] : spec.default;
    const problem = value === undefined ? undefined : valueProblem(spec, value);
    if (problem !== undefined)
      issues.push(makeIssue('invalid_value', `input '${name}' ${problem}`, NOWHERE, `inputs.${name}`));
    else if (value !== undefined) entries.push([name, value]);
    else if (spec.required)
      issues.push(
        makeIssue(
          'missing_input',
          `input '${name}' is required and has no default; give it a value`,
          NOWHERE,
          `inputs.${name}`,
        ),
      );
    // Optional without default reads as '' (as in GitHub Actions); a boolean one as false.
    else entries.push([name, spec.type === 'boolean' ? 'false' : '']);
  }
  let total = 0;
  for (const [name, value] of entries) {
    const bytes = Buffer.byteLength(value, 'utf8');
    total += Buffer.byteLength(name, 'utf8') + bytes;
    if (bytes > maxInputValueBytes)
      issues.push(
        makeIssue(
          'limit_exceeded',
          `input '${name}' is ${bytes} bytes; the limit is ${formatBytes(maxInputValueBytes)} per input value`,
          NOWHERE,
          `inputs.${name}`,
        ),
      );
  }
  if (total > maxInputsTotalBytes)
    issues.push(
      makeIssue(
        'limit_exceeded',
        `the inputs are ${total} bytes together (names and values); the limit is ${formatBytes(maxInputsTotalBytes)} per run`,
        NOWHERE,
        'inputs',
      ),
    );
  return issues.length > 0 ? { ok: false, issues } : { ok: true, inputs: Object.fromEntries(entries) };
}
