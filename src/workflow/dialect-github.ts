// The GitHub Actions dialect: `jobs:` become tasks (`needs`, `runs-on`, `if`, `env`,
// `timeout-minutes`, `continue-on-error`, `strategy`, `outputs`, `defaults`), their `run` steps
// become steps, and `uses:` steps become the steps of the action they name (action-steps.ts). `on:` is not a
// trigger here; its workflow_dispatch/workflow_call inputs are read.

import { isMap } from 'yaml';
import type { StepSpec } from '../protocol/plan.ts';
import { readGitHubCondition } from './github-condition.ts';
import { checkJobId } from './github-job-ids.ts';
import { readGitHubDefaults, readGitHubWorkDir } from './github-work-dir.ts';
import { OUTPUTS_STEP, outputsStep } from './github-outputs.ts';
import type { ActionFiles } from './action-files.ts';
import { readUsesStep } from './github-uses.ts';
import { addTemplate, emptyTaskDraft, type TaskDraft, type WorkflowDraft } from './drafts.ts';
import type { WorkflowLimits } from './limits.ts';
import { readStrategy } from './matrix.ts';
import { readBool } from './native-control.ts';
import { readEnv } from './native-env.ts';
import { readShell, readStepId, StepNames, type ReadContext } from './native-steps.ts';
import { readTypedInputs } from './github-inputs.ts';
import type { Field, Located, NodeReader } from './node-reader.ts';
import { OUTPUT_NAME } from './static-values.ts';
import { checkTaskCount, TaskNames } from './task-names.ts';

/** Keys accepted and ignored: they concern GitHub's hosting (permissions, concurrency groups, display). */
const IGNORED_ROOT = ['on', 'run-name', 'permissions', 'concurrency'];
const ROOT_KEYS = ['name', 'env', 'defaults', 'jobs', ...IGNORED_ROOT] as const;
const IGNORED_JOB = ['name', 'permissions', 'concurrency', 'environment'];
const JOB_KEYS = [
  'needs',
  'runs-on',
  'steps',
  'if',
  'env',
  'timeout-minutes',
  'continue-on-error',
  'strategy',
  'outputs',
  'defaults',
  ...IGNORED_JOB,
] as const;
const UNSUPPORTED_JOB: Record<string, string> = {
  container: '; jobs in containers are not supported: run the steps on a runner that has the tools',
  services: '; service containers are not supported: start the services in a step',
  uses: '; reusable workflows are not supported: copy its jobs into this file',
  with: '; reusable workflows are not supported',
  secrets: '; reusable workflows are not supported; steps read secrets as ${{ secrets.NAME }}',
  ...Object.fromEntries(
    ['isolation', 'network', 'limits'].map((key) => [
      key,
      `; GitHub Actions has no '${key}': write the workflow in Baton's native format ('tasks:') to require it`,
    ]),
  ),
};
const STEP_KEYS = [
  'name',
  'id',
  'run',
  'shell',
  'env',
  'if',
  'working-directory',
  'continue-on-error',
  'timeout-minutes',
] as const;
/** GitHub runs a step without `shell` on Linux as `bash -e {0}`; `shell: bash` adds --noprofile --norc and pipefail. */
export const GITHUB_DEFAULT_SHELL = 'bash -e {0}';

export function readGitHub(
  reader: NodeReader,
  root: Located,
  limits: WorkflowLimits,
  name: string,
  actions: ActionFiles = {},
): WorkflowDraft {
  const draft: WorkflowDraft = { dialect: 'github', name, env: {}, templates: [], inputs: {}, tasks: [] };
  const fields = reader.map(root, 'the workflow') ?? [];
  const known = new Map(
    reader.checkKeys(fields, ROOT_KEYS, 'the workflow').map((field) => [field.key, field]),
  );
  const present = (key: string) => (known.get(key)?.node === null ? undefined : known.get(key));

  const nameField = present('name');
  const given = nameField && reader.string(nameField, "the workflow's 'name'");
  if (given !== undefined) draft.name = given;
  const on = present('on');
  if (on) draft.inputs = readTriggerInputs(reader, on);
  const env = present('env');
  if (env) draft.env = readEnv(reader, limits, env, 'the workflow', draft.templates, 'workflow');
  const ctx: GitHubContext = { reader, limits, defaults: {}, actions };
  const defaults = present('defaults');
  if (defaults) readGitHubDefaults(ctx, defaults, "'defaults'", draft.templates, 'workflow');

  const jobs = known.get('jobs')!; // the dialect was chosen because it is there
  if (!isMap(jobs.node)) {
    reader.report(
      'invalid_type',
      `'jobs' must be a map of job ids to jobs, not ${reader.describe(jobs.node)}`,
      jobs.at,
      jobs.path,
    );
    return draft;
  }
  if (!checkTaskCount(reader, jobs, jobs.node.items.length, limits, "'jobs'")) return draft;
  const names = new TaskNames(reader);
  for (const field of reader.map(jobs, "'jobs'") ?? []) {
    const jobFields = reader.map(field, `job '${field.key}'`);
    const valid = checkJobId(reader, field.key, field.keyAt, field.path);
    if (valid && names.accept(field.key, field.keyAt, field.path) && jobFields !== undefined)
      draft.tasks.push(readJob({ ...ctx, defaults: { ...ctx.defaults } }, field, jobFields));
  }
  return draft;
}

/** Inputs of `on.workflow_dispatch` and `on.workflow_call`; the rest of `on` is not read. */
function readTriggerInputs(reader: NodeReader, on: Field): WorkflowDraft['inputs'] {
  if (!isMap(on.node)) return {};
  const inputs: WorkflowDraft['inputs'] = {};
  for (const trigger of reader.map(on, "'on'") ?? []) {
    if ((trigger.key !== 'workflow_dispatch' && trigger.key !== 'workflow_call') || !isMap(trigger.node))
      continue;
    const declared = (reader.map(trigger, `'on.${trigger.key}'`) ?? []).find(
      (field) => field.key === 'inputs',
    );
    if (declared !== undefined && declared.node !== null)
      Object.assign(inputs, readTypedInputs(reader, declared, `'on.${trigger.key}.inputs'`, trigger.key));
  }
  return inputs;
}

/** The `uses: ./…` action files sent with the workflow. */
type GitHubContext = ReadContext & { actions: ActionFiles };

function readJob(ctx: GitHubContext, job: Field, fields: Field[]): TaskDraft {
  const { reader } = ctx;
  const name = job.key;
  const owner = `job '${name}'`;
  const draft = emptyTaskDraft(name, job.keyAt, job.path);
  const spec = draft.spec;
  spec.githubCommands = true; // ::set-output:: and the other state commands (engine/workflow-commands.ts)
  const known = new Map(
    reader.checkKeys(fields, JOB_KEYS, owner, UNSUPPORTED_JOB).map((field) => [field.key, field]),
  );
  const present = (key: string) => (known.get(key)?.node === null ? undefined : known.get(key));

  const defaults = present('defaults');
  if (defaults) readGitHubDefaults(ctx, defaults, `'defaults' of ${owner}`, draft.templates, 'task');
  const needs = present('needs');
  for (const dep of (needs && reader.stringList(needs, `'needs' of ${owner}`)) ?? []) {
    draft.dependencies.push({ value: dep.value, at: dep.at, path: dep.path });
    if (!spec.dependsOn.includes(dep.value)) spec.dependsOn.push(dep.value);
  }
  const runsOn = present('runs-on');
  if (runsOn && isMap(runsOn.node))
    reader.report(
      'invalid_type',
      `'runs-on' of ${owner} as a map (group, labels) is not supported; list the labels`,
      runsOn.at,
      runsOn.path,
    );
  else
    for (const label of (runsOn && reader.stringList(runsOn, `'runs-on' of ${owner}`)) ?? []) {
      addTemplate(draft.templates, label.value, label, `'runs-on' of ${owner}`, 'compile');
      if (!spec.runsOn.includes(label.value)) spec.runsOn.push(label.value);
      draft.labels.push(label);
    }
  const condition = present('if');
  const source = condition && readGitHubCondition(reader, condition, owner, draft.templates, 'task-if');
  if (source !== undefined) spec.if = source;
  const env = present('env');
  if (env) spec.env = readEnv(reader, ctx.limits, env, owner, draft.templates, 'task');
  const timeout = present('timeout-minutes');
  const timeoutMs = timeout && readMinutes(reader, timeout, owner);
  if (timeoutMs !== undefined) spec.timeoutMs = timeoutMs;
  const continueOnError = present('continue-on-error');
  if (continueOnError && readFlag(reader, continueOnError, owner, draft) === true)
    spec.continueOnError = true;
  const strategy = present('strategy');
  const matrix =
    strategy &&
    readStrategy(
      reader,
      strategy,
      owner,
      ctx.limits,
      { maxParallel: 'max-parallel', failFast: 'fail-fast' },
      draft.templates,
    );
  if (matrix !== undefined) draft.matrix = matrix;

  const steps = known.get('steps');
  if (steps === undefined || steps.node === null)
    reader.report('missing_field', `${owner} needs 'steps'`, job.keyAt, job.path);
  else spec.steps = readJobSteps(ctx, steps, owner, draft);
  const outputs = present('outputs');
  if (outputs) readOutputs(reader, outputs, owner, draft);
  return draft;
}

function readJobSteps(ctx: GitHubContext, loc: Field, owner: string, draft: TaskDraft): StepSpec[] {
  const { reader } = ctx;
  const items = reader.list(loc, `'steps' of ${owner}`);
  if (items === undefined) return [];
  if (items.length === 0) {
    reader.report('invalid_value', `'steps' of ${owner} is empty; add at least one step`, loc.at, loc.path);
    return [];
  }
  if (items.length > ctx.limits.maxStepsPerTask) {
    const message = `${owner} has ${items.length} steps; the limit is ${ctx.limits.maxStepsPerTask} steps per task`;
    reader.report('limit_exceeded', message, loc.at, loc.path);
    return [];
  }
  const ids = new StepNames(reader, draft.spec.name);
  let steps: StepSpec[] = [];
  const pre: StepSpec[] = [];
  const post: StepSpec[] = [];
  /** Names of steps that actions added: `steps.<name>` may read them (a step's display name it may not). */
  const actionNames: string[] = [];
  items.forEach((item, index) => {
    const fields = reader.map(item, `step ${index + 1} of ${owner}`);
    if (fields?.some((field) => field.key === 'uses')) {
      const expanded = readUsesStep(
        { ...ctx, minutes: (field, what) => readMinutes(reader, field, what) },
        fields,
        index,
        owner,
        draft,
        ids,
        actionNames,
      );
      pre.push(...expanded.pre);
      steps.push(...expanded.main);
      post.unshift(...expanded.post);
      return;
    }
    const step =
      fields && readJobStep(ctx, item, fields, index, owner, draft, ids, actionNames, steps.length);
    if (step !== undefined) steps.push(step);
  });
  steps = [...pre, ...steps, ...post];
  if (steps.length > ctx.limits.maxStepsPerTask) {
    const message = `${owner} has ${steps.length} steps once its actions are expanded; the limit is ${ctx.limits.maxStepsPerTask} steps per task`;
    reader.report('limit_exceeded', message, loc.at, loc.path);
    return [];
  }
  // Display names need not be unique in GitHub; ids (which are names here) must. A repeated display name gets a number.
  const used = new Set<string>();
  for (const step of steps) {
    let unique = step.name;
    for (let n = 2; used.has(unique); n++) unique = `${step.name} (${n})`;
    used.add(unique);
    step.name = unique;
  }
  return steps;
}

function readJobStep(
  ctx: ReadContext,
  item: Located,
  fields: Field[],
  index: number,
  job: string,
  draft: TaskDraft,
  ids: StepNames,
  actionNames: readonly string[],
  position: number,
): StepSpec | undefined {
  const { reader } = ctx;
  const byKey = new Map(fields.map((field) => [field.key, field]));
  const idField = byKey.get('id');
  const id = idField && readStepId(reader, idField, `step ${index + 1} of ${job}`);
  const nameField = byKey.get('name');
  const display =
    nameField && nameField.node !== null
      ? reader.string(nameField, `'name' of step ${index + 1} of ${job}`, { convert: true })
      : undefined;
  const owner = `step ${index + 1} of ${job}`;
  const known = new Map(reader.checkKeys(fields, STEP_KEYS, owner).map((field) => [field.key, field]));
  const get = (key: string) => (known.get(key)?.node === null ? undefined : known.get(key));
  // Steps of actions count too: `steps['<caller>/<id>']` reads them.
  const earlier = [...ids.earlier(), ...actionNames];
  if (id !== undefined && !ids.accept(id, idField!)) return undefined;

  const shellField = get('shell');
  const shell = shellField
    ? readShell(reader, shellField, owner, undefined)
    : (ctx.defaults.shell ?? GITHUB_DEFAULT_SHELL);
  const step: StepSpec = { name: id ?? display ?? `step-${index + 1}`, run: '', shell, env: {} };
  if (id !== undefined) step.id = id;
  const run = known.get('run');
  if (run === undefined) reader.report('missing_field', `${owner} needs 'run' or 'uses'`, item.at, item.path);
  else {
    step.run = reader.string(run, `'run' of ${owner}`) ?? '';
    addTemplate(draft.templates, step.run, run, `'run' of ${owner}`, 'step', earlier);
  }
  const env = get('env');
  if (env) step.env = readEnv(reader, ctx.limits, env, owner, draft.templates, 'step', earlier);
  const wd = get('working-directory');
  // A step's working-directory replaces the default one (GitHub does not join them).
  const workingDirectory = wd
    ? readGitHubWorkDir(reader, wd, owner, draft.templates, earlier)
    : ctx.defaults.workingDirectory;
  if (workingDirectory !== undefined) step.workingDirectory = workingDirectory;
  const timeout = get('timeout-minutes');
  const timeoutMs = timeout && readMinutes(reader, timeout, owner);
  if (timeoutMs !== undefined) step.timeoutMs = timeoutMs;
  const condition = get('if');
  const source = condition && readGitHubCondition(reader, condition, owner, draft.templates, 'step', earlier);
  if (source !== undefined) step.if = source;
  const continueOnError = get('continue-on-error');
  if (continueOnError && readFlag(reader, continueOnError, owner, draft, position) === true)
    step.continueOnError = true;
  return step;
}

/** `timeout-minutes`: a positive number of minutes (fractions allowed). */
function readMinutes(reader: NodeReader, loc: Field, owner: string): number | undefined {
  const value = reader.scalar(loc);
  const ms = typeof value === 'number' ? Math.round(value * 60_000) : Number.NaN;
  if (Number.isFinite(ms) && ms > 0 && ms <= 2 ** 31 - 1) return ms;
  const message = `'timeout-minutes' of ${owner} must be a number of minutes more than 0 (at most about 35,000), not ${reader.describe(loc.node)}`;
  reader.report(typeof value === 'number' ? 'invalid_value' : 'invalid_type', message, loc.at, loc.path);
  return undefined;
}

/** true/false, or `${{ matrix.x }}` decided per matrix combination. */
function readFlag(
  reader: NodeReader,
  loc: Field,
  owner: string,
  draft: TaskDraft,
  step?: number,
): boolean | undefined {
  const value = reader.scalar(loc);
  if (typeof value === 'string' && value.includes('${{')) {
    addTemplate(draft.templates, value, loc, `'${loc.key}' of ${owner}`, 'compile');
    (draft.matrixFlags ??= []).push(step === undefined ? { text: value } : { text: value, step });
    return undefined;
  }
  return readBool(reader, loc, owner);
}

/** `outputs: { name: ${{ steps.x.outputs.y }} }`: exports, written by a final hidden step. */
function readOutputs(reader: NodeReader, loc: Field, owner: string, draft: TaskDraft): void {
  const outputs: Array<[string, string]> = [];
  const earlier = draft.spec.steps.map((step) => step.name);
  for (const field of reader.map(loc, `'outputs' of ${owner}`) ?? []) {
    if (!OUTPUT_NAME.test(field.key)) {
      const message = `output name '${field.key}' of ${owner} is not valid; use letters, digits, _ and -, not starting with a digit or -`;
      reader.report('invalid_name', message, field.keyAt, field.path);
      continue;
    }
    const value = reader.string(field, `output '${field.key}' of ${owner}`, { convert: true });
    if (value === undefined) continue;
    addTemplate(draft.templates, value, field, `output '${field.key}' of ${owner}`, 'step', earlier);
    outputs.push([field.key, value]);
  }
  draft.declaresExports = true;
  draft.spec.exports = outputs.map(([name]) => ({ name, confidential: false, scope: 'local' }));
  if (outputs.length === 0) return;
  if (earlier.includes(OUTPUTS_STEP)) {
    const message = `${owner} has a step named '${OUTPUTS_STEP}', the name of the step that writes the job's outputs; rename it`;
    reader.report('invalid_name', message, loc.keyAt, loc.path);
    return;
  }
  draft.spec.steps.push(outputsStep(outputs));
}
