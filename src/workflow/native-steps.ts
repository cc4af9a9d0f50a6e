// Steps of a native task (`steps:` list, or the `run:` shorthand): script, shell, env, working
// directory, timeout, `if`, `continue_on_error` and the `id` that `steps.<id>` reads.

import type { StepSpec } from '../protocol/plan.ts';
import { addTemplate, type TemplateRef } from './drafts.ts';
import type { Pos } from './issues.ts';
import type { WorkflowLimits } from './limits.ts';
import { readBool, readCondition, readDuration } from './native-control.ts';
import { readEnv } from './native-env.ts';
import type { Requirements } from './native-requirements.ts';
import type { Field, Located, NodeReader } from './node-reader.ts';
import { joinWorkDir, shellProblem, STEP_ID } from './static-values.ts';

export interface ReadContext {
  reader: NodeReader;
  limits: WorkflowLimits;
  /** `defaults.run` of the workflow. */
  defaults: { shell?: string; workingDirectory?: string };
  /** The workflow's `isolation`, `network` and `limits`: each task's own values win. */
  requirements?: Requirements;
}

const STEP_KEYS = [
  'name',
  'id',
  'run',
  'shell',
  'env',
  'working_directory',
  'timeout',
  'if',
  'continue_on_error',
] as const;

export function readSteps(
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
  const names = new StepNames(reader, task);
  items.forEach((item, index) => {
    const fields = reader.map(item, `step ${index + 1} of task '${task}'`);
    if (fields === undefined) return;
    const step = readStep(ctx, item, fields, index, task, shell, taskWorkDir, templates, names.earlier());
    if (step !== undefined && names.accept(step.name, step.nameAt)) steps.push(step.spec);
  });
  return steps;
}

/** Step names (ids) must be unique within a task: `steps.<id>` must mean one step. */
export class StepNames {
  readonly #reader: NodeReader;
  readonly #task: string;
  readonly #seen = new Map<string, Pos>();

  constructor(reader: NodeReader, task: string) {
    this.#reader = reader;
    this.#task = task;
  }

  earlier(): string[] {
    return [...this.#seen.keys()];
  }

  accept(name: string, at: Located): boolean {
    const first = this.#seen.get(name);
    if (first !== undefined) {
      const message = `task '${this.#task}' has two steps named '${name}' (the first at line ${first.line}); step names and ids must be unique within a task`;
      this.#reader.report('duplicate_key', message, at.at, at.path);
      return false;
    }
    this.#seen.set(name, at.at);
    return true;
  }
}

function readStep(
  ctx: ReadContext,
  item: Located,
  fields: Field[],
  index: number,
  task: string,
  shell: string,
  taskWorkDir: string | undefined,
  templates: TemplateRef[],
  earlier: readonly string[],
): { spec: StepSpec; name: string; nameAt: Located } | undefined {
  const { reader } = ctx;
  const byKey = new Map(fields.map((field) => [field.key, field]));
  const idField = byKey.get('id');
  const nameField = byKey.get('name');
  const id = idField && readStepId(reader, idField, `step ${index + 1} of task '${task}'`);
  const given = nameField && reader.string(nameField, `'name' of step ${index + 1} of task '${task}'`);
  // StepSpec has no id: a step's id is its name, which is what `steps.<id>` reads.
  const name = id ?? given ?? `step-${index + 1}`;
  const owner =
    id === undefined && given === undefined
      ? `step ${index + 1} of task '${task}'`
      : `step '${name}' of task '${task}'`;
  const known = new Map(reader.checkKeys(fields, STEP_KEYS, owner).map((field) => [field.key, field]));
  const get = (key: string) => (known.get(key)?.node === null ? undefined : known.get(key));

  const step: StepSpec = { name, run: '', shell, env: {} };
  const run = known.get('run');
  if (run === undefined) reader.report('missing_field', `${owner} needs 'run'`, item.at, item.path);
  else {
    step.run = reader.string(run, `'run' of ${owner}`) ?? '';
    addTemplate(templates, step.run, run, `'run' of ${owner}`, 'step', earlier);
  }
  const shellField = get('shell');
  if (shellField) step.shell = readShell(reader, shellField, owner, shell);
  const env = get('env');
  if (env) step.env = readEnv(reader, ctx.limits, env, owner, templates, 'step', earlier);
  const wd = get('working_directory');
  const workingDirectory = wd === undefined ? taskWorkDir : readWorkDir(reader, wd, owner, taskWorkDir);
  if (workingDirectory !== undefined) step.workingDirectory = workingDirectory;
  const timeout = get('timeout');
  const timeoutMs = timeout && readDuration(reader, timeout, owner, 'timeout');
  if (timeoutMs !== undefined) step.timeoutMs = timeoutMs;
  const condition = get('if');
  const source = condition && readCondition(reader, condition, owner, templates, 'step', earlier);
  if (source !== undefined) step.if = source;
  const continueOnError = get('continue_on_error');
  if (continueOnError && readBool(reader, continueOnError, owner) === true) step.continueOnError = true;
  return { spec: step, name, nameAt: idField ?? nameField ?? item };
}

export function readStepId(reader: NodeReader, loc: Located, owner: string): string | undefined {
  const id = reader.string(loc, `'id' of ${owner}`);
  if (id === undefined || STEP_ID.test(id)) return id;
  const message = `step id '${id}' of ${owner} is not valid; use letters, digits, _ and -, not starting with a digit or -`;
  reader.report('invalid_name', message, loc.at, loc.path);
  return undefined;
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
  key = 'working_directory',
): string | undefined {
  const relative = reader.string(loc, `'${key}' of ${owner}`);
  if (relative === undefined) return base;
  const joined = joinWorkDir(base, relative);
  if ('reason' in joined) {
    reader.report('invalid_path', `'${key}' of ${owner}: ${joined.reason}`, loc.at, loc.path);
    return base;
  }
  return joined.path;
}
