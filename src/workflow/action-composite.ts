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
import type { Field, Located, NodeReader } from './node-reader.ts';

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

/** What the steps of one composite action share while they are expanded. */
interface CompositeContext {
  x: Expansion;
  call: ActionCall;
  action: Extract<ActionMetadata, { using: 'composite' }>;
  out: ExpandedSteps;
  expand: (x: Expansion, call: ActionCall) => ExpandedSteps;
  /** The condition "the action started" (its first step succeeded). */
  started: string;
  /** The action's steps so far whose failure fails the action (a step's own continue-on-error excuses it). */
  counted: string[];
  ids: Set<string>;
  /** Text of the action rewritten into the job's scope; undefined (with an issue) when it cannot be. */
  rewrite: (text: string, at: Located, kind: 'template' | 'condition') => string | undefined;
}

/** `expand` is action-steps.ts expandUses, for a `uses:` inside the action (passed in: no import cycle). */
export function expandComposite(
  x: Expansion,
  call: ActionCall,
  action: Extract<ActionMetadata, { using: 'composite' }>,
  out: ExpandedSteps,
  warnings: string[],
  expand: (x: Expansion, call: ActionCall) => ExpandedSteps,
): void {
  // The action starts once: its first step decides the caller's `if`, as GitHub decides it before the action.
  // The action's steps then look at that step and at the action's own failures, not at the caller's `if` again.
  const gate = echoStep(`${call.name}/(start)`, warnings);
  if (call.condition !== undefined) gate.if = call.condition;
  out.main.push(finish(x, call, gate));
  const inputs = new Map<string, string>();
  for (const [key, given] of call.with) inputs.set(key, templateExpression(given.value));
  for (const input of action.inputs) {
    const key = input.name.toLowerCase();
    if (!inputs.has(key)) inputs.set(key, templateExpression(input.default ?? ''));
  }
  const scope: ActionScope = { inputs, stepPrefix: `${call.name}/` };
  const ctx: CompositeContext = {
    x,
    call,
    action,
    out,
    expand,
    started: `steps[${quote(gate.name)}].outcome == 'success'`,
    counted: [],
    ids: new Set(),
    rewrite: (text, at, kind) => {
      try {
        return kind === 'template' ? rewriteTemplate(text, scope) : rewriteExpression(text, scope);
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        action.reader.report('invalid_expression', `invalid expression: ${error.message}`, at.at, at.path);
        return undefined;
      }
    },
  };
  action.steps.forEach((item, index) => expandStep(ctx, item, index));
  out.main.push(finish(x, call, recordStep(ctx), `the outputs of ${action.file}`));
}

/** One step of the action: a `run` step, or a nested action's steps. */
function expandStep(ctx: CompositeContext, item: Located, index: number): void {
  const { x, call, action, rewrite } = ctx;
  const { reader } = action;
  const owner = `step ${index + 1} of the action`;
  const fields = reader.map(item, owner);
  if (fields === undefined) return;
  const known = new Map(
    reader.checkKeys(fields, COMPOSITE_STEP_KEYS, owner).map((field) => [field.key, field]),
  );
  const get = (key: string) => (known.get(key)?.node === null ? undefined : known.get(key));
  const idField = get('id');
  const id = idField && readStepId(reader, idField, owner);
  if (id !== undefined && ctx.ids.has(id.toLowerCase())) {
    reader.report('duplicate_key', `the action has two steps with id '${id}'`, idField!.at, idField!.path);
    return;
  }
  if (id !== undefined) ctx.ids.add(id.toLowerCase());
  const name = `${call.name}/${id ?? index + 1}`;
  const conditionField = get('if');
  const own = conditionField && readActionCondition(reader, conditionField, owner);
  const condition = stepCondition(
    ctx,
    own === undefined ? undefined : rewrite(own, conditionField!, 'condition'),
  );
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
    const nested = ctx.expand(x, {
      uses,
      name,
      label: `${owner} '${call.uses}'`,
      with: readWith(reader, get('with'), owner, (text, at) => rewrite(text, at, 'template')),
      condition,
      env,
      continueOnError,
      ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
      depth: call.depth + 1,
      chain: [...call.chain, uses],
    });
    ctx.out.pre.push(...nested.pre);
    ctx.out.main.push(...nested.main);
    ctx.out.post.unshift(...nested.post);
  } else {
    const step = runStep(ctx, item, known, name, owner);
    if (step === undefined) return;
    step.if = condition;
    step.env = env;
    if (continueOnError) step.continueOnError = true;
    if (call.timeoutMs !== undefined) step.timeoutMs = call.timeoutMs;
    ctx.out.main.push(finish(x, call, step, `step ${index + 1} of ${action.file}`));
  }
  if (!ownContinue && x.names.includes(name)) ctx.counted.push(name);
}

/**
 * A step without a status function runs while the action started and none of its steps failed; one with a
 * status function only needs the action to have started (the function then sees the job's status).
 */
function stepCondition(ctx: CompositeContext, own: string | undefined): string {
  if (own !== undefined && usesStatus(own)) return `${ctx.started} && (${own})`;
  const noFailure = ctx.counted.map((name) => ` && steps[${quote(name)}].outcome != 'failure'`).join('');
  return `!cancelled() && ${ctx.started}${noFailure}${own === undefined ? '' : ` && (${own})`}`;
}

/** A `run` step of the action: its script and shell (required, as on GitHub) and working directory. */
function runStep(
  ctx: CompositeContext,
  item: Located,
  known: Map<string, Field>,
  name: string,
  owner: string,
): StepSpec | undefined {
  const { reader } = ctx.action;
  const runField = known.get('run');
  if (runField === undefined) {
    reader.report('missing_field', `${owner} needs 'run' or 'uses'`, item.at, item.path);
    return undefined;
  }
  const shellField = known.get('shell');
  if (shellField === undefined || shellField.node === null)
    reader.report(
      'missing_field',
      `${owner} needs 'shell': every 'run' step of a composite action names its shell (bash, sh, python, node, pwsh or a template with {0})`,
      runField.keyAt,
      runField.path,
    );
  const shell =
    shellField === undefined || shellField.node === null
      ? 'bash'
      : readShell(reader, shellField, owner, 'bash');
  const script = reader.string(runField, `'run' of ${owner}`);
  const run = script === undefined ? undefined : ctx.rewrite(script, runField, 'template');
  if (run === undefined) return undefined;
  const step: StepSpec = { name, run, shell, env: {}, actionPath: ctx.action.dir };
  const wdField = known.get('working-directory');
  const wd =
    wdField && wdField.node !== null
      ? readWorkDir(reader, wdField, owner, undefined, 'working-directory')
      : undefined;
  const workingDirectory = wd === undefined ? undefined : ctx.rewrite(wd, wdField!, 'template');
  if (workingDirectory !== undefined) step.workingDirectory = workingDirectory;
  return step;
}

/**
 * The caller's record, standing for the action in `steps.<caller>`: it writes the action's outputs (rewritten
 * into the job's scope), is skipped when the action did not start, and fails when one of its steps failed
 * (after writing the outputs, as GitHub still sets them).
 */
function recordStep(ctx: CompositeContext): StepSpec {
  const outputs: Array<[string, string]> = [];
  for (const output of ctx.action.outputs) {
    const value = ctx.rewrite(output.value, output.at, 'template');
    if (value !== undefined) outputs.push([output.name, value]);
  }
  const record = outputsStep(outputs);
  record.name = ctx.call.name;
  record.run = record.run.replace(
    "the job's outputs (GitHub Actions `outputs:`)",
    "a composite action's outputs",
  );
  record.if = `!cancelled() && ${ctx.started}`;
  if (ctx.counted.length > 0) {
    const failed = ctx.counted.map((name) => `steps[${quote(name)}].outcome == 'failure'`).join(' || ');
    record.env.BATON_ACTION_FAILED = `\${{ ${failed} }}`;
    record.run += 'if [ "$BATON_ACTION_FAILED" = true ]; then echo "the action failed" >&2; exit 1; fi\n';
  }
  if (ctx.call.continueOnError) record.continueOnError = true;
  return record;
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
