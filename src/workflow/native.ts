// The native workflow format's top level: name, env, inputs, defaults and the `tasks` map or list,
// read into drafts that keep positions for the checks that follow (dependencies, expressions).

import type { InputSpec } from '../protocol/plan.ts';
import { isMap, isSeq } from 'yaml';
import type { Pos } from './issues.ts';
import type { WorkflowLimits } from './limits.ts';
import { readEnv, type TemplateRef } from './native-env.ts';
import { readShell, readTask, readWorkDir, type ReadContext, type TaskDraft } from './native-task.ts';
import type { Field, Located, NodeReader } from './node-reader.ts';
import { INPUT_NAME, MAX_TASK_NAME_LENGTH, TASK_NAME } from './static-values.ts';

export interface WorkflowDraft {
  name: string;
  env: Record<string, string>;
  envTemplates: TemplateRef[];
  inputs: Record<string, InputSpec>;
  tasks: TaskDraft[];
}

const ROOT_KEYS = ['name', 'env', 'inputs', 'defaults', 'tasks'] as const;
const ROOT_HINTS: Record<string, string> = {
  jobs: "; Baton calls them 'tasks' (the GitHub Actions dialect is not supported yet)",
  steps: '; put steps inside a task: tasks: { build: { steps: [...] } }',
};

export function readWorkflow(
  reader: NodeReader,
  root: Located,
  limits: WorkflowLimits,
  defaultName: string,
): WorkflowDraft {
  const draft: WorkflowDraft = { name: defaultName, env: {}, envTemplates: [], inputs: {}, tasks: [] };
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
  if (env) draft.env = readEnv(reader, limits, env, 'the workflow', draft.envTemplates);
  const inputs = present('inputs');
  if (inputs) draft.inputs = readInputs(reader, inputs);

  const ctx: ReadContext = { reader, limits, defaults: {} };
  const defaults = present('defaults');
  if (defaults) readDefaults(ctx, defaults);

  const tasks = known.get('tasks');
  if (tasks === undefined)
    reader.report(
      'missing_field',
      "workflow needs 'tasks': a map of task names to tasks, or a list of tasks",
      root.at,
      'tasks',
    );
  else draft.tasks = readTasks(ctx, tasks);
  return draft;
}

function readDefaults(ctx: ReadContext, loc: Located): void {
  const { reader } = ctx;
  const fields = reader.map(loc, "'defaults'");
  const run = reader.checkKeys(fields ?? [], ['run'], "'defaults'").find((field) => field.key === 'run');
  if (run === undefined || run.node === null) return;
  const runFields = reader.map(run, "'defaults.run'") ?? [];
  for (const field of reader.checkKeys(runFields, ['shell', 'working_directory'], "'defaults.run'")) {
    if (field.node === null) continue;
    if (field.key === 'shell') ctx.defaults.shell = readShell(reader, field, "'defaults.run'", undefined);
    else ctx.defaults.workingDirectory = readWorkDir(reader, field, "'defaults.run'", undefined);
  }
}

function readInputs(reader: NodeReader, loc: Located): Record<string, InputSpec> {
  const entries: Array<[string, InputSpec]> = [];
  for (const field of reader.map(loc, "'inputs'") ?? []) {
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
      ['description', 'required', 'default'],
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
      } else if (part.node !== null) {
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
  const count = node.items.length;
  if (count > limits.maxTasks) {
    reader.report(
      'limit_exceeded',
      `workflow has ${count} tasks; the limit is ${limits.maxTasks} tasks per run`,
      loc.at,
      loc.path,
    );
    return [];
  }
  if (count === 0) {
    reader.report('invalid_value', "'tasks' is empty; add at least one task", loc.at, loc.path);
    return [];
  }
  const drafts: TaskDraft[] = [];
  const firstSeen = new Map<string, Pos>();
  const accept = (name: string, at: Pos, path: string): boolean => {
    if (name.length > MAX_TASK_NAME_LENGTH || !TASK_NAME.test(name)) {
      const shown =
        name.length > MAX_TASK_NAME_LENGTH ? `${name.slice(0, 40)}…' (${name.length} characters` : `${name}'`;
      const message = `task name '${shown}${name.length > MAX_TASK_NAME_LENGTH ? ')' : ''} is not valid; use letters, digits, _, . and - (not starting with . or -), at most ${MAX_TASK_NAME_LENGTH} characters`;
      reader.report('invalid_name', message, at, path);
      return false;
    }
    const first = firstSeen.get(name);
    if (first !== undefined) {
      reader.report(
        'duplicate_task',
        `task name '${name}' is used twice; the first is at line ${first.line}`,
        at,
        path,
      );
      return false;
    }
    firstSeen.set(name, at);
    return true;
  };
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
