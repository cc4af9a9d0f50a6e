// A composite action's steps as the job's steps ("Metadata syntax for GitHub Actions", runs.using: composite):
// a first step that decides the caller's `if` once, the action's steps with their expressions rewritten into
// the job's scope (action-rewrite.ts), then a step named after the caller that writes the action's outputs.

import type { StepSpec } from '../protocol/plan.ts';
import type { ActionMetadata } from './action-metadata.ts';
import {
  echoStep,
  finish,
  quote,
  readWith,
  usesStatus,
  type ActionCall,
  type ExpandedSteps,
  type Expansion,
} from './action-expansion.ts';
import {
  rewriteExpression,
  rewriteTemplate,
  templateExpression,
  type ActionScope,
} from './action-rewrite.ts';
import { conditionSource } from './condition.ts';
import { ExpressionError } from './expression-error.ts';
import { outputsStep } from './github-outputs.ts';
import { readBool } from './native-control.ts';
import { readEnv } from './native-env.ts';
import { readShell, readStepId, readWorkDir } from './native-steps.ts';
import type { Located, NodeReader } from './node-reader.ts';

const COMPOSITE_STEP_KEYS = [
  'name',
  'id',
  'run',
  'shell',
  'uses',
  'with',
  'env',
  'if',
  'working-directory',
  'continue-on-error',
] as const;

/** `expand` is action-steps.ts expandUses, for a `uses:` inside the action (passed in: no import cycle). */
export function expandComposite(
  x: Expansion,
  call: ActionCall,
  action: Extract<ActionMetadata, { using: 'composite' }>,
  out: ExpandedSteps,
  warnings: string[],
  expand: (x: Expansion, call: ActionCall) => ExpandedSteps,
): void {
  const { reader } = action;
  // The action starts once: its first step decides the caller's `if`, as GitHub decides it before the action.
  // The action's steps then look at that step and at the action's own failures, not at the caller's `if` again.
  const gate = echoStep(`${call.name}/(start)`, warnings);
  if (call.condition !== undefined) gate.if = call.condition;
  out.main.push(finish(x, call, gate));
  const started = `steps[${quote(gate.name)}].outcome == 'success'`;
  /** The action's steps so far whose failure fails the action (a step's own continue-on-error excuses it). */
  const counted: string[] = [];
  const noFailure = () => counted.map((name) => ` && steps[${quote(name)}].outcome != 'failure'`).join('');
  const inputs = new Map<string, string>();
  for (const [key, given] of call.with) inputs.set(key, templateExpression(given.value));
  for (const input of action.inputs) {
    const key = input.name.toLowerCase();
    if (!inputs.has(key)) inputs.set(key, templateExpression(input.default ?? ''));
  }
  const scope: ActionScope = { inputs, stepPrefix: `${call.name}/` };
  const rewrite = (text: string, at: Located, kind: 'template' | 'condition'): string | undefined => {
    try {
      return kind === 'template' ? rewriteTemplate(text, scope) : rewriteExpression(text, scope);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      reader.report('invalid_expression', `invalid expression: ${error.message}`, at.at, at.path);
      return undefined;
    }
  };
  const ids = new Set<string>();
  action.steps.forEach((item, index) => {
    const owner = `step ${index + 1} of the action`;
    const fields = reader.map(item, owner);
    if (fields === undefined) return;
    const known = new Map(
      reader.checkKeys(fields, COMPOSITE_STEP_KEYS, owner).map((field) => [field.key, field]),
    );
    const get = (key: string) => (known.get(key)?.node === null ? undefined : known.get(key));
    const idField = get('id');
    const id = idField && readStepId(reader, idField, owner);
    if (id !== undefined && ids.has(id.toLowerCase())) {
      reader.report('duplicate_key', `the action has two steps with id '${id}'`, idField!.at, idField!.path);
      return;
    }
    if (id !== undefined) ids.add(id.toLowerCase());
    const name = `${call.name}/${id ?? index + 1}`;
    const conditionField = get('if');
    const own = conditionField && readActionCondition(reader, conditionField, owner);
    const ownCondition = own === undefined ? undefined : rewrite(own, conditionField!, 'condition');
    const condition =
      ownCondition !== undefined && usesStatus(ownCondition)
        ? `${started} && (${ownCondition})`
        : `!cancelled() && ${started}${noFailure()}${ownCondition === undefined ? '' : ` && (${ownCondition})`}`;
    const envField = get('env');
    const env = { ...call.env };
    if (envField)
      for (const [key, value] of Object.entries(readEnv(reader, x.limits, envField, owner, [], 'step'))) {
        const text = rewrite(value, envField, 'template');
        if (text !== undefined) env[key] = text;
      }
    const flag = get('continue-on-error');
    const ownContinue = flag !== undefined && readBool(reader, flag, owner) === true;
    const continueOnError = call.continueOnError || ownContinue;
    const count = () => {
      if (!ownContinue && x.names.includes(name)) counted.push(name);
    };
    const usesField = get('uses');
    if (usesField !== undefined) {
      if (get('run') !== undefined)
        reader.report(
          'invalid_value',
          `${owner} has both 'run' and 'uses'; keep one`,
          usesField.at,
          usesField.path,
        );
      const uses = reader.string(usesField, `'uses' of ${owner}`);
      if (uses === undefined) return;
      const withValues = readWith(reader, get('with'), owner, (text, at) => rewrite(text, at, 'template'));
      const nested = expand(x, {
        uses,
        name,
        label: `${owner} '${call.uses}'`,
        with: withValues,
        condition,
        env,
        continueOnError,
        ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
        depth: call.depth + 1,
        chain: [...call.chain, uses],
      });
      out.pre.push(...nested.pre);
      out.main.push(...nested.main);
      out.post.unshift(...nested.post);
      count();
      return;
    }
    const runField = known.get('run');
    if (runField === undefined) {
      reader.report('missing_field', `${owner} needs 'run' or 'uses'`, item.at, item.path);
      return;
    }
    const shellField = get('shell');
    if (shellField === undefined)
      reader.report(
        'missing_field',
        `${owner} needs 'shell': every 'run' step of a composite action names its shell (bash, sh, python, node, pwsh or a template with {0})`,
        runField.keyAt,
        runField.path,
      );
    const shell = shellField === undefined ? 'bash' : readShell(reader, shellField, owner, 'bash');
    const script = reader.string(runField, `'run' of ${owner}`);
    const run = script === undefined ? undefined : rewrite(script, runField, 'template');
    if (run === undefined) return;
    const step: StepSpec = { name, run, shell, env, actionPath: action.dir };
    const wdField = get('working-directory');
    const wd = wdField && readWorkDir(reader, wdField, owner, undefined, 'working-directory');
    const workingDirectory = wd === undefined ? undefined : rewrite(wd, wdField!, 'template');
    if (workingDirectory !== undefined) step.workingDirectory = workingDirectory;
    step.if = condition;
    if (continueOnError) step.continueOnError = true;
    if (call.timeoutMs !== undefined) step.timeoutMs = call.timeoutMs;
    out.main.push(finish(x, call, step, `step ${index + 1} of ${action.file}`));
    count();
  });
  // The caller's own record: the action's outputs, each rewritten into the job's scope.
  const outputs: Array<[string, string]> = [];
  for (const output of action.outputs) {
    const value = rewrite(output.value, output.at, 'template');
    if (value !== undefined) outputs.push([output.name, value]);
  }
  const record = outputsStep(outputs);
  record.name = call.name;
  record.run = record.run.replace(
    "the job's outputs (GitHub Actions `outputs:`)",
    "a composite action's outputs",
  );
  // It stands for the action in `steps.<caller>`: skipped when the action did not start, failed when one of
  // its steps failed (after writing the outputs, as GitHub still sets them).
  record.if = `!cancelled() && ${started}`;
  if (counted.length > 0) {
    record.env.BATON_ACTION_FAILED = `\${{ ${counted.map((name) => `steps[${quote(name)}].outcome == 'failure'`).join(' || ')} }}`;
    record.run += 'if [ "$BATON_ACTION_FAILED" = true ]; then echo "the action failed" >&2; exit 1; fi\n';
  }
  if (call.continueOnError) record.continueOnError = true;
  out.main.push(finish(x, call, record, `the outputs of ${action.file}`));
}

function readActionCondition(reader: NodeReader, loc: Located, owner: string): string | undefined {
  const value = reader.scalar(loc);
  const text = typeof value === 'boolean' ? String(value) : reader.string(loc, `'if' of ${owner}`);
  if (text === undefined) return undefined;
  try {
    return conditionSource(text);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    reader.report('invalid_expression', `invalid 'if' of ${owner}: ${error.message}`, loc.at, loc.path);
    return undefined;
  }
}
