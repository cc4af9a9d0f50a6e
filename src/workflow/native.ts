// The native workflow format's top level: name, env, inputs, defaults and the `tasks` map or list,
// read into drafts that keep positions for the checks that follow (dependencies, expressions).

import type { InputSpec } from '../protocol/plan.ts';
import { isMap, isSeq } from 'yaml';
import type { TaskDraft, WorkflowDraft } from './drafts.ts';
import type { Pos } from './issues.ts';
import type { WorkflowLimits } from './limits.ts';
import { readDrivers } from './driver-spec.ts';
import { readEnv } from './native-env.ts';
import { readRequirements, REQUIREMENT_KEYS } from './native-requirements.ts';
import { readShell, readTask, readWorkDir, type ReadContext } from './native-task.ts';
import type { Field, Located, NodeReader } from './node-reader.ts';
import { INPUT_NAME } from './static-values.ts';
import { checkTaskCount, TaskNames } from './task-names.ts';

export type { WorkflowDraft } from './drafts.ts';

const ROOT_KEYS = ['name', 'env', 'inputs', 'defaults', 'tasks', 'drivers', ...REQUIREMENT_KEYS] as const;
const ROOT_HINTS: Record<string, string> = {
  taskGroup: "; a Harness task group is a file of its own, with 'taskGroup' and no 'tasks'",
  jobs: "; a GitHub Actions workflow is a file of its own, with 'jobs' and no 'tasks'",
  steps: "; a BountyHub job is a file of its own, with 'steps' and no 'tasks'",
};

export function readWorkflow(
  reader: NodeReader,
  root: Located,
  limits: WorkflowLimits,
  defaultName: string,
): WorkflowDraft {
  const draft: WorkflowDraft = {
    dialect: 'native',
    name: defaultName,
    env: {},
    templates: [],
    inputs: {},
    tasks: [],
  };
  if (root.node === null) {
    reader.report('missing_field', "workflow is empty; it needs at least 'tasks'", root.at, '');
    return draft;
  }
  const fields = reader.map(root, 'the workflow');
  if (fields === undefined) return draft;
  const known = new Map(
    reader.checkKeys(fields, ROOT_KEYS, 'the workflow', ROOT_HINTS).map((field) => [field.key, field]),
  );
  const present = (key: string) => (known.get(key)?.node === null ? undefined : known.get(key));

  const name = present('name');
  const nameValue = name && reader.string(name, "the workflow's 'name'");
  if (nameValue !== undefined) draft.name = nameValue;
  const env = present('env');
  if (env) draft.env = readEnv(reader, limits, env, 'the workflow', draft.templates, 'workflow');
  const inputs = present('inputs');
  if (inputs) draft.inputs = readInputs(reader, inputs, "'inputs'");
  const drivers = present('drivers');
  if (drivers) draft.drivers = readDrivers(reader, drivers);

  const ctx: ReadContext = {
    reader,
    limits,
    defaults: {},
    requirements: readRequirements(reader, present, 'the workflow'),
  };
  const defaults = present('defaults');
  if (defaults) readDefaults(ctx, defaults);

  const tasks = known.get('tasks');
  if (tasks === undefined)
    reader.report(
      'missing_field',
      "workflow needs 'tasks' (a map of task names to tasks, or a list of tasks); Baton also reads a Harness task group ('taskGroup'), a GitHub Actions workflow ('jobs') and a BountyHub job ('steps')",
      root.at,
      'tasks',
    );
  else draft.tasks = readTasks(ctx, tasks);
  return draft;
}

/** `defaults: { run: { shell, working_directory } }` (GitHub spells it `working-directory`). */
export function readDefaults(
  ctx: ReadContext,
  loc: Located,
  owner = "'defaults'",
  workDirKey = 'working_directory',
): void {
  const { reader } = ctx;
  const fields = reader.map(loc, owner);
  const run = reader.checkKeys(fields ?? [], ['run'], owner).find((field) => field.key === 'run');
  if (run === undefined || run.node === null) return;
  const what = `'run' of ${owner}`;
  const runFields = reader.map(run, what) ?? [];
  for (const field of reader.checkKeys(runFields, ['shell', workDirKey], what)) {
    if (field.node === null) continue;
    if (field.key === 'shell') ctx.defaults.shell = readShell(reader, field, what, undefined);
    else ctx.defaults.workingDirectory = readWorkDir(reader, field, what, undefined, workDirKey);
  }
}

/** `inputs:` of the native format and of GitHub's `workflow_dispatch` (whose `type` is accepted). */
export function readInputs(
  reader: NodeReader,
  loc: Located,
  what: string,
  extraKeys: readonly string[] = [],
): Record<string, InputSpec> {
  const entries: Array<[string, InputSpec]> = [];
  for (const field of reader.map(loc, what) ?? []) {
    if (!INPUT_NAME.test(field.key)) {
      reader.report(
        'invalid_name',
        `input name '${field.key}' is not valid; use letters, digits, _ and -, not starting with a digit or -`,
        field.keyAt,
        field.path,
      );
      continue;
    }
    const owner = `input '${field.key}'`;
    const shorthand = reader.scalar(field);
    if (shorthand !== undefined) {
      // `version: "1.0"` means a default; `version:` (empty) means an optional input without one.
      entries.push([
        field.key,
        shorthand === null ? { required: false } : { required: false, default: String(shorthand) },
      ]);
      continue;
    }
    const spec: InputSpec = { required: false };
    for (const part of reader.checkKeys(
      reader.map(field, owner) ?? [],
      ['description', 'required', 'default', ...extraKeys],
      owner,
    )) {
      if (part.key === 'description') {
        const description = part.node === null ? undefined : reader.string(part, `'description' of ${owner}`);
        if (description !== undefined) spec.description = description;
      } else if (part.key === 'required') {
        const required = reader.scalar(part);
        if (typeof required === 'boolean') spec.required = required;
        else
          reader.report(
            'invalid_type',
            `'required' of ${owner} must be true or false, not ${reader.describe(part.node)}`,
            part.at,
            part.path,
          );
      } else if (part.key === 'default' && part.node !== null) {
        const value = reader.string(part, `'default' of ${owner}`, { convert: true });
        if (value !== undefined) spec.default = value;
      }
    }
    entries.push([field.key, spec]);
  }
  return Object.fromEntries(entries);
}

function readTasks(ctx: ReadContext, loc: Located): TaskDraft[] {
  const { reader, limits } = ctx;
  const node = loc.node;
  if (!isMap(node) && !isSeq(node)) {
    reader.report(
      'invalid_type',
      `'tasks' must be a map of task names to tasks, or a list of tasks, not ${reader.describe(loc.node)}`,
      loc.at,
      loc.path,
    );
    return [];
  }
  if (!checkTaskCount(reader, loc, node.items.length, limits, "'tasks'")) return [];
  const drafts: TaskDraft[] = [];
  const names = new TaskNames(reader);
  const accept = (name: string, at: Pos, path: string) => names.accept(name, at, path);
  if (isMap(node)) {
    for (const field of reader.map(loc, "'tasks'") ?? []) {
      const fields = reader.map(field, `task '${field.key}'`);
      if (accept(field.key, field.keyAt, field.path) && fields !== undefined)
        drafts.push(readTask(ctx, field.key, field.keyAt, field, fields, false));
    }
    return drafts;
  }
  for (const item of reader.list(loc, "'tasks'") ?? []) {
    const fields = reader.map(item, `task ${item.path}`);
    if (fields === undefined) continue;
    const nameField = fields.find((field: Field) => field.key === 'name');
    if (nameField === undefined) {
      reader.report(
        'missing_field',
        `task ${item.path} needs a 'name' (in the list form each task names itself)`,
        item.at,
        item.path,
      );
      continue;
    }
    const name = reader.string(nameField, `'name' of task ${item.path}`);
    if (name !== undefined && accept(name, nameField.at, nameField.path))
      drafts.push(readTask(ctx, name, nameField.at, item, fields, true));
  }
  return drafts;
}
