// What expanding a GitHub `uses:` step needs, shared by the kinds of action (action-steps.ts dispatches,
// action-composite.ts and action-node.ts expand): the state of one job's expansion, one call of an action,
// and the helpers that record a generated step and build its conditions.

import type { StepSpec } from '../protocol/plan.ts';
import type { ActionFiles } from './action-files.ts';
import { conditionUsesStatus } from './condition.ts';
import { shellQuote } from './dialect-harness.ts';
import type { TemplateRef } from './drafts.ts';
import { ExpressionError } from './expression-error.ts';
import type { Pos } from './issues.ts';
import type { WorkflowLimits } from './limits.ts';
import type { Field, Located, NodeReader } from './node-reader.ts';

/** What one job's `uses:` steps share while they are expanded. */
export interface Expansion {
  /** The workflow's reader: every issue ends up there, at `site`. */
  reader: NodeReader;
  limits: WorkflowLimits;
  actions: ActionFiles;
  /** The job's templates, for the compile-time expression checks. */
  templates: TemplateRef[];
  /** Names of the job's steps so far (what `steps.<name>` may read); expanded steps are added. */
  names: string[];
  /** The workflow's `uses:` being expanded: where every problem inside its actions is reported. */
  site: { at: Pos; path: string };
}

export interface ActionCall {
  /** As written. */
  uses: string;
  /** The caller's step name in the job: what `steps.<name>` reads after the action. */
  name: string;
  /** For messages, e.g. "step 2 of job 'build'". */
  label: string;
  /** `with:` by lower-case input name, each a template in the job's scope. */
  with: Map<string, { name: string; value: string }>;
  /** The caller's `if` in the job's scope (bare). */
  condition?: string;
  env: Record<string, string>;
  continueOnError: boolean;
  timeoutMs?: number;
  /** 1 for a workflow step; each composite level adds one. */
  depth: number;
  /** The `uses:` values from the workflow's step down to this one. */
  chain: string[];
}

export interface ExpandedSteps {
  /** Run at the job's start, in order (node actions' `pre`). */
  pre: StepSpec[];
  main: StepSpec[];
  /** Run at the job's end; the job runs the posts of later actions first. */
  post: StepSpec[];
}

/** GitHub runs a step without `shell` on Linux as `bash -e {0}`. */
export const BASH = 'bash -e {0}';

/** A step printing `lines` (GitHub warns about a required input without a value and runs the action anyway). */
export function echoStep(name: string, lines: string[]): StepSpec {
  return {
    name,
    run: lines.map((line) => `echo ${shellQuote(line)}\n`).join('') || ':\n',
    shell: BASH,
    env: {},
  };
}

/** Records a step's name and its templates for the expression checks, at the workflow's `uses:`. */
export function finish(x: Expansion, call: ActionCall, step: StepSpec, where = call.uses): StepSpec {
  const earlier = [...x.names];
  const ref = (text: string, what: string, kind: 'template' | 'condition') => {
    if (kind === 'template' && !text.includes('${{')) return;
    x.templates.push({
      text,
      at: x.site.at,
      path: x.site.path,
      what,
      kind,
      where: 'step',
      earlierSteps: earlier,
    });
  };
  const what = (field: string) => `'${field}' of ${where} (used by ${call.label})`;
  ref(step.run, what('run'), 'template');
  for (const [name, value] of Object.entries(step.env)) ref(value, what(`env ${name}`), 'template');
  if (step.if !== undefined) ref(step.if, what('if'), 'condition');
  if (step.workingDirectory !== undefined) ref(step.workingDirectory, what('working-directory'), 'template');
  x.names.push(step.name);
  return step;
}

/** `with:` as templates by lower-case name; `convert` rewrites each value (a nested action's caller scope). */
export function readWith(
  reader: NodeReader,
  loc: Field | undefined,
  owner: string,
  convert: (text: string, at: Located) => string | undefined = (text) => text,
): Map<string, { name: string; value: string }> {
  const values = new Map<string, { name: string; value: string }>();
  if (loc === undefined || loc.node === null) return values;
  for (const field of reader.map(loc, `'with' of ${owner}`) ?? []) {
    // A node action gets INPUT_<NAME>: a name must make a valid environment variable name.
    if (!/^[A-Za-z_][A-Za-z0-9_ .-]*$/.test(field.key)) {
      const message = `input name '${field.key}' in 'with' of ${owner} is not valid; use letters, digits, _, -, . and spaces, starting with a letter or _`;
      reader.report('invalid_name', message, field.keyAt, field.path);
      continue;
    }
    const text =
      field.node === null ? '' : reader.string(field, `'with.${field.key}' of ${owner}`, { convert: true });
    const value = text === undefined ? undefined : convert(text, field);
    if (value !== undefined) values.set(field.key.toLowerCase(), { name: field.key, value });
  }
  return values;
}

/** The condition calls a status function (then GitHub does not add `success() &&`). */
export function usesStatus(condition: string): boolean {
  try {
    return conditionUsesStatus(condition);
  } catch (error) {
    if (error instanceof ExpressionError) return false; // reported by the expression checks
    throw error;
  }
}

export function withStatus(condition: string): string {
  try {
    return conditionUsesStatus(condition) ? condition : `success() && (${condition})`;
  } catch (error) {
    if (error instanceof ExpressionError) return condition; // reported by the expression checks
    throw error;
  }
}

export function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
