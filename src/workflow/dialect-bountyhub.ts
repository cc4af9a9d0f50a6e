// The BountyHub job dialect: top-level `steps` (`run`, `shell`, optional `name`), `uploads`,
// `name` and `env`, compiled as one task. A step's shell runs as BountyHub runs it: the program
// (found on PATH) with the script file as its only argument — `bash file`, not `bash -e file`.

import { addTemplate, emptyTaskDraft, type WorkflowDraft } from './drafts.ts';
import type { WorkflowLimits } from './limits.ts';
import { readUploads } from './native-control.ts';
import { readEnv } from './native-env.ts';
import { StepNames } from './native-steps.ts';
import type { Located, NodeReader } from './node-reader.ts';
import { MAX_TASK_NAME_LENGTH } from './static-values.ts';

const ROOT_KEYS = ['name', 'env', 'steps', 'uploads'] as const;
const STEP_KEYS = ['name', 'run', 'shell'] as const;
const PROGRAM = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;
const DEFAULT_JOB_NAME = 'job';

export function readBountyHub(
  reader: NodeReader,
  root: Located,
  limits: WorkflowLimits,
  name: string,
): WorkflowDraft {
  const draft: WorkflowDraft = { dialect: 'bountyhub', name, env: {}, templates: [], inputs: {}, tasks: [] };
  const fields = reader.map(root, 'the job') ?? [];
  const known = new Map(reader.checkKeys(fields, ROOT_KEYS, 'the job').map((field) => [field.key, field]));
  const present = (key: string) => (known.get(key)?.node === null ? undefined : known.get(key));

  const nameField = present('name');
  const jobName = nameField && reader.string(nameField, "the job's 'name'");
  if (jobName !== undefined) draft.name = jobName;
  const taskName = taskNameFor(jobName);
  const owner = `job '${taskName}'`;
  const task = emptyTaskDraft(taskName, nameField?.at ?? root.at, '');
  draft.tasks.push(task);

  const env = present('env');
  if (env) task.spec.env = readEnv(reader, limits, env, owner, task.templates, 'task');
  const uploads = present('uploads');
  if (uploads) task.spec.uploads = readUploads(reader, uploads, owner);

  const steps = known.get('steps')!; // the dialect was chosen because it is there
  const items = reader.list(steps, `'steps' of ${owner}`);
  if (items === undefined) return draft;
  if (items.length === 0) {
    reader.report(
      'invalid_value',
      `'steps' of ${owner} is empty; add at least one step`,
      steps.at,
      steps.path,
    );
    return draft;
  }
  if (items.length > limits.maxStepsPerTask) {
    const message = `${owner} has ${items.length} steps; the limit is ${limits.maxStepsPerTask} steps per task`;
    reader.report('limit_exceeded', message, steps.at, steps.path);
    return draft;
  }
  const names = new StepNames(reader, taskName);
  items.forEach((item, index) => {
    const stepFields = reader.map(item, `step ${index + 1} of ${owner}`);
    if (stepFields === undefined) return;
    const byKey = new Map(
      reader
        .checkKeys(stepFields, STEP_KEYS, `step ${index + 1} of ${owner}`)
        .map((field) => [field.key, field]),
    );
    const given = byKey.get('name');
    const stepName =
      (given && reader.string(given, `'name' of step ${index + 1} of ${owner}`)) ?? `step-${index + 1}`;
    const what = `step '${stepName}' of ${owner}`;
    const run = byKey.get('run');
    const script = run === undefined ? undefined : reader.string(run, `'run' of ${what}`);
    if (run === undefined) reader.report('missing_field', `${what} needs 'run'`, item.at, item.path);
    else if (script !== undefined)
      addTemplate(task.templates, script, run, `'run' of ${what}`, 'step', names.earlier());
    const shellField = byKey.get('shell');
    let shell = 'bash {0}';
    if (shellField !== undefined && shellField.node !== null) {
      const program = reader.string(shellField, `'shell' of ${what}`);
      if (program !== undefined && !PROGRAM.test(program) && !program.includes('{0}')) {
        const message = `'shell' of ${what} is '${program}'; give a program name such as bash, sh, python3 or zsh (it is found on PATH and runs the script file), or a template containing {0}`;
        reader.report('unknown_shell', message, shellField.at, shellField.path);
      } else if (program !== undefined) shell = program.includes('{0}') ? program : `${program} {0}`;
    }
    if (script !== undefined && names.accept(stepName, given ?? item))
      task.spec.steps.push({ name: stepName, run: script, shell, env: {} });
  });
  return draft;
}

/** The job's name as a task name: other characters become '-'; no name (or nothing left) is 'job'. */
export function taskNameFor(jobName: string | undefined): string {
  const slug = (jobName ?? '')
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, MAX_TASK_NAME_LENGTH);
  return slug === '' ? DEFAULT_JOB_NAME : slug;
}
