// One task of the native format (`run` or `steps`, shell, env, dependencies, labels, timeout,
// working directory) read from YAML nodes into a TaskSpec, with the positions later checks need.

import type { StepSpec, TaskSpec } from '../protocol/plan.ts';
import type { Pos } from './issues.ts';
import type { WorkflowLimits } from './limits.ts';
import { readEnv, type TemplateRef } from './native-env.ts';
import type { Field, Located, NodeReader } from './node-reader.ts';
import { joinWorkDir, parseDuration, shellProblem } from './static-values.ts';

export interface ReadContext {
  reader: NodeReader;
  limits: WorkflowLimits;
  /** `defaults.run` of the workflow. */
  defaults: { shell?: string; workingDirectory?: string };
}

export interface Dependency {
  name: string;
  at: Pos;
  path: string;
}

export interface TaskDraft {
  spec: TaskSpec;
  /** Where the task's name stands (its key, or its `name` in the list form). */
  at: Pos;
  path: string;
  dependencies: Dependency[];
  /** Every `run` and env value holding `${{ }}`, for compile-time expression checks. */
  templates: TemplateRef[];
}

const TASK_KEYS = [
  'type',
  'run',
  'steps',
  'shell',
  'env',
  'depends_on',
  'needs',
  'runs_on',
  'timeout',
  'working_directory',
] as const;
const STEP_KEYS = ['name', 'run', 'shell', 'env', 'working_directory', 'timeout'] as const;
const TASK_TYPES = ['exec'] as const;

export function readTask(
  ctx: ReadContext,
  name: string,
  at: Pos,
  task: Located,
  fields: Field[],
  listForm: boolean,
): TaskDraft {
  const { reader } = ctx;
  const owner = `task '${name}'`;
  const allowed = listForm ? ['name', ...TASK_KEYS] : TASK_KEYS;
  const hints: Record<string, string> = listForm
    ? {}
    : { name: `; in the map form a task's name is its key, so remove 'name'` };
  const known = new Map(reader.checkKeys(fields, allowed, owner, hints).map((field) => [field.key, field]));
  const present = (key: string) => {
    const field = known.get(key);
    return field !== undefined && field.node !== null ? field : undefined; // an empty value counts as absent
  };
  const draft: TaskDraft = {
    spec: { name, type: 'exec', steps: [], env: {}, dependsOn: [], runsOn: [] },
    at,
    path: task.path,
    dependencies: [],
    templates: [],
  };

  const type = present('type');
  const typeName = type && reader.string(type, `'type' of ${owner}`);
  if (typeName !== undefined && !(TASK_TYPES as readonly string[]).includes(typeName)) {
    reader.report(
      'invalid_value',
      `${owner} has type '${typeName}'; supported types: ${TASK_TYPES.join(', ')}`,
      type!.at,
      type!.path,
    );
  }

  const shellField = present('shell');
  const shell =
    shellField === undefined
      ? (ctx.defaults.shell ?? 'bash')
      : readShell(reader, shellField, owner, ctx.defaults.shell);
  const wdField = present('working_directory');
  const workingDirectory =
    wdField === undefined ? ctx.defaults.workingDirectory : readWorkDir(reader, wdField, owner, undefined);
  if (workingDirectory !== undefined) draft.spec.workingDirectory = workingDirectory;

  const timeout = present('timeout');
  const timeoutMs = timeout && readTimeout(reader, timeout, owner);
  if (timeoutMs !== undefined) draft.spec.timeoutMs = timeoutMs;

  const env = present('env');
  if (env) draft.spec.env = readEnv(reader, ctx.limits, env, owner, draft.templates);

  const dependsOn = present('depends_on');
  const needs = present('needs');
  if (dependsOn && needs) {
    reader.report(
      'duplicate_key',
      `${owner} has both 'depends_on' and its alias 'needs'; keep one`,
      needs.keyAt,
      needs.path,
    );
  }
  const depsField = dependsOn ?? needs;
  for (const dep of (depsField && reader.stringList(depsField, `'${depsField.key}' of ${owner}`)) ?? []) {
    draft.dependencies.push({ name: dep.value, at: dep.at, path: dep.path });
    if (!draft.spec.dependsOn.includes(dep.value)) draft.spec.dependsOn.push(dep.value);
  }

  const runsOn = present('runs_on');
  for (const label of (runsOn && reader.stringList(runsOn, `'runs_on' of ${owner}`)) ?? []) {
    if (!draft.spec.runsOn.includes(label.value)) draft.spec.runsOn.push(label.value);
  }

  const run = known.get('run');
  const steps = known.get('steps');
  if (run && steps) {
    reader.report(
      'invalid_value',
      `${owner} has both 'run' and 'steps'; use 'run' for one script or 'steps' for several`,
      steps.keyAt,
      steps.path,
    );
  } else if (run) {
    const script = reader.string(run, `'run' of ${owner}`);
    if (script !== undefined) {
      addTemplate(draft.templates, script, run, `'run' of ${owner}`);
      draft.spec.steps.push({
        name,
        run: script,
        shell,
        env: {},
        ...(workingDirectory === undefined ? {} : { workingDirectory }),
      });
    }
  } else if (steps) {
    draft.spec.steps = readSteps(ctx, steps, name, shell, workingDirectory, draft.templates);
  } else {
    reader.report(
      'missing_field',
      `${owner} needs 'run' (one script) or 'steps' (a list of scripts)`,
      at,
      task.path,
    );
  }
  return draft;
}

function readSteps(
  ctx: ReadContext,
  loc: Located,
  task: string,
  shell: string,
  taskWorkDir: string | undefined,
  templates: TemplateRef[],
): StepSpec[] {
  const { reader } = ctx;
  const items = reader.list(loc, `'steps' of task '${task}'`);
  if (items === undefined) return [];
  if (items.length === 0) {
    reader.report(
      'invalid_value',
      `'steps' of task '${task}' is empty; add at least one step`,
      loc.at,
      loc.path,
    );
    return [];
  }
  if (items.length > ctx.limits.maxStepsPerTask) {
    const message = `task '${task}' has ${items.length} steps; the limit is ${ctx.limits.maxStepsPerTask} steps per task`;
    reader.report('limit_exceeded', message, loc.at, loc.path);
    return [];
  }
  const steps: StepSpec[] = [];
  items.forEach((item, index) => {
    const fields = reader.map(item, `step ${index + 1} of task '${task}'`);
    if (fields === undefined) return;
    const byKey = new Map(fields.map((field) => [field.key, field]));
    const nameField = byKey.get('name');
    const name =
      (nameField && reader.string(nameField, `'name' of step ${index + 1} of task '${task}'`)) ??
      `step-${index + 1}`;
    const owner =
      nameField === undefined ? `step ${index + 1} of task '${task}'` : `step '${name}' of task '${task}'`;
    const known = new Map(reader.checkKeys(fields, STEP_KEYS, owner).map((field) => [field.key, field]));
    const get = (key: string) => (known.get(key)?.node === null ? undefined : known.get(key));

    const step: StepSpec = { name, run: '', shell, env: {} };
    const run = known.get('run');
    if (run === undefined) reader.report('missing_field', `${owner} needs 'run'`, item.at, item.path);
    else {
      step.run = reader.string(run, `'run' of ${owner}`) ?? '';
      addTemplate(templates, step.run, run, `'run' of ${owner}`);
    }
    const shellField = get('shell');
    if (shellField) step.shell = readShell(reader, shellField, owner, shell);
    const env = get('env');
    if (env) step.env = readEnv(reader, ctx.limits, env, owner, templates);
    const wd = get('working_directory');
    const workingDirectory = wd === undefined ? taskWorkDir : readWorkDir(reader, wd, owner, taskWorkDir);
    if (workingDirectory !== undefined) step.workingDirectory = workingDirectory;
    const timeout = get('timeout');
    const timeoutMs = timeout && readTimeout(reader, timeout, owner);
    if (timeoutMs !== undefined) step.timeoutMs = timeoutMs;
    steps.push(step);
  });
  return steps;
}

export function readShell(
  reader: NodeReader,
  loc: Located,
  owner: string,
  fallback: string | undefined,
): string {
  const shell = reader.string(loc, `'shell' of ${owner}`);
  const problem = shell === undefined ? undefined : shellProblem(shell);
  if (problem !== undefined) reader.report('unknown_shell', `${problem} (in ${owner})`, loc.at, loc.path);
  return shell === undefined || problem !== undefined ? (fallback ?? 'bash') : shell;
}

export function readWorkDir(
  reader: NodeReader,
  loc: Located,
  owner: string,
  base: string | undefined,
): string | undefined {
  const relative = reader.string(loc, `'working_directory' of ${owner}`);
  if (relative === undefined) return base;
  const joined = joinWorkDir(base, relative);
  if ('reason' in joined) {
    reader.report('invalid_path', `'working_directory' of ${owner}: ${joined.reason}`, loc.at, loc.path);
    return base;
  }
  return joined.path;
}

function readTimeout(reader: NodeReader, loc: Located, owner: string): number | undefined {
  const value = reader.scalar(loc);
  if (typeof value !== 'string' && typeof value !== 'number') {
    reader.report(
      'invalid_type',
      `'timeout' of ${owner} must be a duration like 90s or 10m, not ${reader.describe(loc.node)}`,
      loc.at,
      loc.path,
    );
    return undefined;
  }
  const parsed = parseDuration(value);
  if ('ms' in parsed) return parsed.ms;
  reader.report(
    'invalid_value',
    `'timeout' of ${owner} (${String(value)}) ${parsed.reason}`,
    loc.at,
    loc.path,
  );
  return undefined;
}

function addTemplate(templates: TemplateRef[], text: string, loc: Located, what: string): void {
  if (text.includes('${{')) templates.push({ text, at: loc.at, path: loc.path, what });
}
