// One task of the native format read from YAML nodes into a TaskDraft: `run` or `steps`, shell,
// env, dependencies, labels, control keys, variables between tasks, uploads and the matrix.

import { readCache } from './cache-spec.ts';
import { addTemplate, emptyTaskDraft, type TaskDraft } from './drafts.ts';
import { readCustomType, readDriverSpec } from './driver-spec.ts';
import type { Pos } from './issues.ts';
import { readStrategy } from './matrix.ts';
import {
  readArtifacts,
  readBool,
  readCondition,
  readDuration,
  readExports,
  readImports,
  readRetries,
  readUploads,
} from './native-control.ts';
import { readEnv } from './native-env.ts';
import { applyRequirements, readRequirements, REQUIREMENT_KEYS } from './native-requirements.ts';
import { readShell, readSteps, readWorkDir, type ReadContext } from './native-steps.ts';
import type { Field, Located, NodeReader } from './node-reader.ts';
import { isMap, isSeq } from 'yaml';

export type { ReadContext } from './native-steps.ts';
export type { TaskDraft } from './drafts.ts';
export { readShell, readWorkDir } from './native-steps.ts';

const TASK_KEYS = [
  'type',
  'spec',
  'run',
  'steps',
  'shell',
  'env',
  'depends_on',
  'needs',
  'runs_on',
  'timeout',
  'working_directory',
  'if',
  'retries',
  'continue_on_error',
  'cancel_grace',
  'exports',
  'imports',
  'uploads',
  'artifacts',
  'strategy',
  'forward',
  'cache',
  ...REQUIREMENT_KEYS,
] as const;
const TASK_TYPES = ['exec'] as const;
const TASK_HINTS: Record<string, string> = {
  matrix: "; put it under 'strategy': strategy: { matrix: {...} }",
  outputs: "; declare outputs with 'exports' and write them to $BATON_OUTPUT",
  'runs-on': "; did you mean 'runs_on'?",
  'timeout-minutes': "; use 'timeout' with a duration like 10m",
  'continue-on-error': "; did you mean 'continue_on_error'?",
  'working-directory': "; did you mean 'working_directory'?",
};

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
    ? TASK_HINTS
    : { ...TASK_HINTS, name: `; in the map form a task's name is its key, so remove 'name'` };
  const known = new Map(reader.checkKeys(fields, allowed, owner, hints).map((field) => [field.key, field]));
  const present = (key: string) => {
    const field = known.get(key);
    return field !== undefined && field.node !== null ? field : undefined; // an empty value counts as absent
  };
  const draft = emptyTaskDraft(name, at, task.path);
  const spec = draft.spec;

  const type = present('type');
  const typeName = type && reader.string(type, `'type' of ${owner}`);
  // Any other name is a custom type, run by a runner's driver of that name with `spec` as its input.
  const custom =
    typeName !== undefined && !(TASK_TYPES as readonly string[]).includes(typeName)
      ? readCustomType(reader, typeName, type!, owner, TASK_TYPES)
      : undefined;
  const specField = present('spec');
  if (specField !== undefined && custom === undefined && typeName === undefined)
    reader.report(
      'invalid_value',
      `${owner} has 'spec' but no 'type'; 'spec' is the input of a custom type's driver (type: <driver name>)`,
      specField.keyAt,
      specField.path,
    );

  const shellField = present('shell');
  const shell =
    shellField === undefined
      ? (ctx.defaults.shell ?? 'bash')
      : readShell(reader, shellField, owner, ctx.defaults.shell);
  const wdField = present('working_directory');
  const workingDirectory =
    wdField === undefined ? ctx.defaults.workingDirectory : readWorkDir(reader, wdField, owner, undefined);
  if (workingDirectory !== undefined) spec.workingDirectory = workingDirectory;

  readControlKeys(reader, present, owner, draft);
  applyRequirements(spec, ctx.requirements ?? {}, readRequirements(reader, present, owner));

  const env = present('env');
  if (env) spec.env = readEnv(reader, ctx.limits, env, owner, draft.templates, 'task');

  readDependencies(reader, present, owner, draft);

  const runsOn = present('runs_on');
  if (runsOn) readRunsOn(reader, runsOn, owner, draft);

  const strategy = present('strategy');
  const matrix =
    strategy &&
    readStrategy(reader, strategy, owner, ctx.limits, { maxParallel: 'max_parallel', failFast: 'fail_fast' });
  if (matrix !== undefined) draft.matrix = matrix;

  const run = known.get('run');
  const steps = known.get('steps');
  if (custom !== undefined) {
    spec.type = custom;
    draft.typeAt = { value: custom, at: type!.at, path: type!.path };
    const input = specField === undefined ? {} : readDriverSpec(reader, specField, owner, draft);
    if (input !== undefined) spec.driverSpec = input;
    const extra = run ?? steps;
    if (extra !== undefined)
      reader.report(
        'invalid_value',
        `${owner} has type '${custom}', run by its driver: it takes 'spec', not '${extra.key}'`,
        extra.keyAt,
        extra.path,
      );
  } else if (
    typeName !== undefined &&
    custom === undefined &&
    !(TASK_TYPES as readonly string[]).includes(typeName)
  ) {
    // The type was refused above; its missing run/steps would only be noise.
  } else if (run && steps) {
    reader.report(
      'invalid_value',
      `${owner} has both 'run' and 'steps'; use 'run' for one script or 'steps' for several`,
      steps.keyAt,
      steps.path,
    );
  } else if (run) {
    const script = reader.string(run, `'run' of ${owner}`);
    if (script !== undefined) {
      addTemplate(draft.templates, script, run, `'run' of ${owner}`, 'step', []);
      spec.steps.push({
        name,
        run: script,
        shell,
        env: {},
        ...(workingDirectory === undefined ? {} : { workingDirectory }),
      });
    }
  } else if (steps) {
    spec.steps = readSteps(ctx, steps, name, shell, workingDirectory, draft.templates);
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

type Present = (key: string) => Field | undefined;

/** if, timeout, retries, continue_on_error, cancel_grace, exports, imports, uploads, artifacts, forward, cache. */
function readControlKeys(reader: NodeReader, present: Present, owner: string, draft: TaskDraft): void {
  const spec = draft.spec;
  const condition = present('if');
  const source = condition && readCondition(reader, condition, owner, draft.templates, 'task-if');
  if (source !== undefined) spec.if = source;
  const timeout = present('timeout');
  const timeoutMs = timeout && readDuration(reader, timeout, owner, 'timeout');
  if (timeoutMs !== undefined) spec.timeoutMs = timeoutMs;
  const retries = present('retries');
  const policy = retries && readRetries(reader, retries, owner);
  if (policy !== undefined) spec.retries = policy;
  const continueOnError = present('continue_on_error');
  if (continueOnError && readBool(reader, continueOnError, owner) === true) spec.continueOnError = true;
  const grace = present('cancel_grace');
  const graceMs = grace && readDuration(reader, grace, owner, 'cancel_grace');
  if (graceMs !== undefined) spec.cancelGraceMs = graceMs;
  const exports = present('exports');
  if (exports) {
    spec.exports = readExports(reader, exports, owner);
    draft.declaresExports = true;
  }
  const imports = present('imports');
  if (imports) {
    draft.imports = readImports(reader, imports, owner);
    spec.imports = draft.imports.map((entry) => entry.value);
  }
  const uploads = present('uploads');
  if (uploads) spec.uploads = readUploads(reader, uploads, owner);
  const artifacts = present('artifacts');
  if (artifacts) draft.artifacts = readArtifacts(reader, artifacts, owner);
  const forward = present('forward');
  const to = forward && readForward(reader, forward, owner);
  if (to !== undefined) spec.forwardTo = to;
  const cache = present('cache');
  if (cache) readCache(reader, cache, owner, draft);
}

function readDependencies(reader: NodeReader, present: Present, owner: string, draft: TaskDraft): void {
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
  const field = dependsOn ?? needs;
  for (const dep of (field && reader.stringList(field, `'${field.key}' of ${owner}`)) ?? []) {
    draft.dependencies.push({ value: dep.value, at: dep.at, path: dep.path });
    if (!draft.spec.dependsOn.includes(dep.value)) draft.spec.dependsOn.push(dep.value);
  }
}

/** `forward: { to: runner-name }`: only that runner may take the task. */
export function readForward(reader: NodeReader, loc: Located, owner: string): string | undefined {
  const what = `'forward' of ${owner}`;
  const fields = reader.map(loc, what) ?? [];
  const to = reader.checkKeys(fields, ['to'], what).find((field) => field.key === 'to');
  if (to === undefined) {
    reader.report('missing_field', `${what} needs 'to': the name of the runner to run on`, loc.at, loc.path);
    return undefined;
  }
  const name = reader.string(to, `'to' of ${what}`);
  if (name !== undefined && name.trim() === '') {
    reader.report('invalid_value', `'to' of ${what} is empty; give a runner name`, to.at, to.path);
    return undefined;
  }
  return name;
}

/**
 * `runs_on: [a, b]` (or `{all: [a, b]}`): a runner carrying every label; `runs_on: {any: [a, b]}`: a runner
 * carrying at least one of them.
 */
function readRunsOn(reader: NodeReader, field: Located, owner: string, draft: TaskDraft): void {
  const what = `'runs_on' of ${owner}`;
  const add = (list: string[], located: Located, where: string, mapForm = true) => {
    if (mapForm && isSeq(located.node) && located.node.items.length === 0)
      reader.report('invalid_value', `${where} must name at least one label`, located.at, located.path);
    for (const label of reader.stringList(located, where) ?? []) {
      addTemplate(draft.templates, label.value, label, what, 'compile');
      if (!list.includes(label.value)) list.push(label.value);
      draft.labels.push(label);
    }
  };
  if (!isMap(field.node)) return add(draft.spec.runsOn, field, what, false);
  const fields = reader.checkKeys(reader.map(field, what) ?? [], RUNS_ON_KEYS, what);
  if (fields.length !== 1) {
    reader.report(
      'invalid_value',
      `${what} as a map takes exactly one of 'all' (every label) or 'any' (at least one label)${fields.length > 1 ? '; it has both' : ''}`,
      field.at,
      field.path,
    );
    if (fields.length === 0) return;
  }
  for (const f of fields) {
    if (f.key === 'all') add(draft.spec.runsOn, f, `'runs_on.all' of ${owner}`);
    else add((draft.spec.runsOnAny ??= []), f, `'runs_on.any' of ${owner}`);
  }
}

const RUNS_ON_KEYS = ['all', 'any'] as const;
