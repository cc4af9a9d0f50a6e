// The Harness task-group dialect: `taskGroup:` of `os_exec` tasks with `spec.command` (a script,
// or an argv list run without a shell string), `spec.envs`, imports/exports, `depends_on`,
// `forward.to`, and `{{ .task.variable }}` templates that read a dependency's exports.

import { isSeq } from 'yaml';
import type { StepSpec } from '../protocol/plan.ts';
import { addTemplate, emptyTaskDraft, type TaskDraft, type WorkflowDraft } from './drafts.ts';
import { readCustomType, readDrivers, readDriverSpec } from './driver-spec.ts';
import { ExpressionError } from './expression-error.ts';
import { didYouMean, makeIssue, type WorkflowIssue } from './issues.ts';
import type { WorkflowLimits } from './limits.ts';
import { readExports, readImports } from './native-control.ts';
import { readCache } from './cache-spec.ts';
import { readShell } from './native-steps.ts';
import { readForward } from './native-task.ts';
import type { Field, Located, NodeReader } from './node-reader.ts';
import { ENV_NAME } from './static-values.ts';
import { checkTaskCount, TaskNames } from './task-names.ts';
import { expressionSource } from './expression-task.ts';
import { checkSecretExports, readSecretSpec } from './secret-task.ts';
import { splitTemplate } from './template.ts';

const ROOT_KEYS = ['name', 'taskGroup', 'forward', 'drivers'] as const;
const TASK_KEYS = ['name', 'type', 'spec', 'imports', 'exports', 'depends_on', 'forward', 'cache'] as const;
const SPEC_KEYS = ['command', 'envs', 'shell'] as const;
const TASK_TYPES = ['os_exec', 'expression', 'expression_evalation', 'secret'] as const;
/** `expression_evalation` is the upstream design's spelling; both compile to Baton's `expression` type. */
const EXPRESSION_TYPES = ['expression', 'expression_evalation'];
const EXPRESSION_SPEC_KEYS = ['expression'] as const;
/** Shells whose scripts get the lines that copy exported shell variables to $BATON_OUTPUT. */
const SH_FAMILY = ['bash', 'sh'];

/** `{{ .task.variable }}`; the task name may hold dots, so the variable is the last segment. */
const HARNESS_TEMPLATE = /\{\{\s*\.([A-Za-z0-9_][A-Za-z0-9_.-]*)\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}/g;
const SIMPLE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** A well-formed template at the cursor (sticky). */
const TEMPLATE_HERE = new RegExp(HARNESS_TEMPLATE.source, 'y');
/**
 * What a `{{` is followed by when it means a Harness template: `.task.variable` (the dot may be missing).
 * `{{ json . }}` or `{{range .Items}}` (Go templates a script hands to another tool) are not read as ours.
 */
const LOOKS_LIKE_REF = /\s*\.?([A-Za-z0-9_][A-Za-z0-9_.-]*)\.([A-Za-z_][A-Za-z0-9_-]*)/y;

interface HarnessRef {
  task: string;
  variable: string;
  text: string;
  at: Located;
}

export function readHarness(
  reader: NodeReader,
  root: Located,
  limits: WorkflowLimits,
  name: string,
): WorkflowDraft {
  const draft: WorkflowDraft = { dialect: 'harness', name, env: {}, templates: [], inputs: {}, tasks: [] };
  const fields = reader.map(root, 'the task group') ?? [];
  const known = new Map(
    reader.checkKeys(fields, ROOT_KEYS, 'the task group').map((field) => [field.key, field]),
  );
  const nameField = known.get('name');
  const given =
    nameField && nameField.node !== null ? reader.string(nameField, "the task group's 'name'") : undefined;
  if (given !== undefined) draft.name = given;
  const driversField = known.get('drivers');
  if (driversField && driversField.node !== null) draft.drivers = readDrivers(reader, driversField);
  const forwardField = known.get('forward');
  const forwardTo =
    forwardField && forwardField.node !== null
      ? readForward(reader, forwardField, 'the task group')
      : undefined;

  const group = known.get('taskGroup')!; // the dialect was chosen because it is there
  const items = reader.list(group, "'taskGroup'");
  if (items === undefined || !checkTaskCount(reader, group, items.length, limits, "'taskGroup'"))
    return draft;
  const names = new TaskNames(reader);
  const refs = new Map<TaskDraft, HarnessRef[]>();
  for (const item of items) {
    const taskFields = reader.map(item, `task ${item.path}`);
    if (taskFields === undefined) continue;
    const nameAt = taskFields.find((field) => field.key === 'name');
    if (nameAt === undefined) {
      reader.report(
        'missing_field',
        `task ${item.path} of the task group needs a 'name'`,
        item.at,
        item.path,
      );
      continue;
    }
    const taskName = reader.string(nameAt, `'name' of task ${item.path}`);
    if (taskName === undefined || !names.accept(taskName, nameAt.at, nameAt.path)) continue;
    const taskRefs: HarnessRef[] = [];
    const task = readHarnessTask(reader, taskName, nameAt, item, taskFields, taskRefs);
    if (task.spec.forwardTo === undefined && forwardTo !== undefined) task.spec.forwardTo = forwardTo;
    refs.set(task, taskRefs);
    draft.tasks.push(task);
  }
  reader.issues.push(...checkHarnessRefs(draft.tasks, refs));
  return draft;
}

function readHarnessTask(
  reader: NodeReader,
  name: string,
  nameAt: Field,
  item: Located,
  fields: Field[],
  refs: HarnessRef[],
): TaskDraft {
  const owner = `task '${name}'`;
  const draft = emptyTaskDraft(name, nameAt.at, item.path);
  const known = new Map(reader.checkKeys(fields, TASK_KEYS, owner).map((field) => [field.key, field]));
  const present = (key: string) => (known.get(key)?.node === null ? undefined : known.get(key));

  const type = present('type');
  const typeName = type && reader.string(type, `'type' of ${owner}`);
  if (type === undefined)
    reader.report(
      'missing_field',
      `${owner} needs 'type'; supported types: ${TASK_TYPES.join(', ')}, or a custom driver's name`,
      nameAt.at,
      item.path,
    );
  // Any other name is a custom type, run by a runner's driver of that name (docs/drivers.md).
  const custom =
    type !== undefined && typeName !== undefined && !(TASK_TYPES as readonly string[]).includes(typeName)
      ? readCustomType(reader, typeName, type, owner, TASK_TYPES)
      : undefined;

  const exports = present('exports');
  if (exports) {
    draft.spec.exports = readExports(reader, exports, owner);
    draft.declaresExports = true;
  }
  const imports = present('imports');
  if (imports) {
    draft.imports = readImports(reader, imports, owner);
    draft.spec.imports = draft.imports.map((entry) => entry.value);
  }
  const dependsOn = present('depends_on');
  for (const dep of (dependsOn && reader.stringList(dependsOn, `'depends_on' of ${owner}`)) ?? []) {
    draft.dependencies.push({ value: dep.value, at: dep.at, path: dep.path });
    if (!draft.spec.dependsOn.includes(dep.value)) draft.spec.dependsOn.push(dep.value);
  }
  const forward = present('forward');
  const to = forward && readForward(reader, forward, owner);
  if (to !== undefined) draft.spec.forwardTo = to;
  const cache = present('cache');
  if (cache) readCache(reader, cache, owner, draft);

  const spec = present('spec');
  if (typeName !== undefined && EXPRESSION_TYPES.includes(typeName)) {
    draft.spec.type = 'expression';
    checkExpressionExports(reader, draft, owner, exports);
    if (spec === undefined)
      reader.report('missing_field', `${owner} needs 'spec' with an 'expression'`, nameAt.at, item.path);
    else readExpressionSpec(reader, spec, owner, draft);
    return draft;
  }
  if (typeName === 'secret') {
    draft.spec.type = 'secret';
    if (spec === undefined)
      reader.report('missing_field', `${owner} needs 'spec' with a 'source'`, nameAt.at, item.path);
    else readSecretSpec(reader, spec, owner, draft);
    checkSecretExports(reader, draft, owner, exports);
    return draft;
  }
  if (custom !== undefined && type !== undefined) {
    draft.spec.type = custom;
    draft.typeAt = { value: custom, at: type.at, path: type.path };
    const input =
      spec === undefined
        ? {}
        : readDriverSpec(reader, spec, owner, draft, (text, at) =>
            translate(reader, text, at, `'spec' of ${owner}`, refs),
          );
    if (input !== undefined) draft.spec.driverSpec = input;
    return draft;
  }
  draft.spec.outputFile = true;
  if (spec === undefined)
    reader.report('missing_field', `${owner} needs 'spec' with a 'command'`, nameAt.at, item.path);
  else if (type === undefined || (TASK_TYPES as readonly string[]).includes(typeName ?? ''))
    readSpec(reader, spec, owner, draft, refs);
  return draft;
}

/**
 * `spec: {expression}` of an `expression` task: one expression, bare or wrapped in `${{ }}`, evaluated on the
 * runner (docs/adr/0002) with the contexts of a task's env; checked here like any task field's expression.
 */
function readExpressionSpec(reader: NodeReader, loc: Located, owner: string, draft: TaskDraft): void {
  const what = `'spec' of ${owner}`;
  const known = new Map(
    reader
      .checkKeys(reader.map(loc, what) ?? [], EXPRESSION_SPEC_KEYS, what)
      .map((field) => [field.key, field]),
  );
  const field = known.get('expression');
  if (field === undefined || field.node === null) {
    reader.report('missing_field', `${what} needs 'expression'`, loc.at, loc.path);
    return;
  }
  const text = reader.string(field, `'expression' of ${owner}`, { convert: true });
  if (text === undefined) return;
  let source: string;
  try {
    source = expressionSource(text);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    reader.report(
      'invalid_expression',
      `invalid expression in 'expression' of ${owner}: ${error.message}`,
      field.at,
      field.path,
    );
    return;
  }
  draft.spec.driverSpec = { expression: text };
  // The same checks as a task env value's `${{ }}`: syntax, contexts, tasks depended on, exports, secrets.
  addTemplate(draft.templates, `\${{ ${source} }}`, field, `'expression' of ${owner}`, 'task');
}

/** An expression task's one output is `result`: a declared export of another name could never be set. */
function checkExpressionExports(
  reader: NodeReader,
  draft: TaskDraft,
  owner: string,
  exports: Field | undefined,
): void {
  for (const spec of draft.spec.exports)
    if (spec.name !== 'result')
      reader.report(
        'invalid_value',
        `${owner} exports '${spec.name}', but an expression task's only output is 'result'`,
        exports?.at ?? draft.at,
        exports?.path ?? draft.path,
      );
}

function readSpec(
  reader: NodeReader,
  loc: Located,
  owner: string,
  draft: TaskDraft,
  refs: HarnessRef[],
): void {
  const what = `'spec' of ${owner}`;
  const known = new Map(
    reader.checkKeys(reader.map(loc, what) ?? [], SPEC_KEYS, what).map((field) => [field.key, field]),
  );
  const envs = known.get('envs');
  if (envs !== undefined && envs.node !== null) draft.spec.env = readEnvs(reader, envs, owner, draft, refs);
  const shellField = known.get('shell');
  const shell =
    shellField && shellField.node !== null ? readShell(reader, shellField, owner, undefined) : 'bash';
  const command = known.get('command');
  if (command === undefined || command.node === null) {
    reader.report(
      'missing_field',
      `${what} needs 'command': a script, or a list of program and arguments`,
      loc.at,
      loc.path,
    );
    return;
  }
  const step = isSeq(command.node)
    ? argvStep(reader, command, owner, draft, refs)
    : scriptStep(reader, command, owner, shell, draft, refs);
  if (step !== undefined) draft.spec.steps.push(step);
}

/** A script: templates translated; for sh-family shells, declared exports also taken from shell variables. */
function scriptStep(
  reader: NodeReader,
  loc: Field,
  owner: string,
  shell: string,
  draft: TaskDraft,
  refs: HarnessRef[],
): StepSpec | undefined {
  const script = reader.string(loc, `'command' of ${owner}`);
  if (script === undefined) return undefined;
  addTemplate(draft.templates, script, loc, `'command' of ${owner}`, 'step', []);
  let run = translate(reader, script, loc, `'command' of ${owner}`, refs);
  if (!SH_FAMILY.includes(shell)) return { name: draft.spec.name, run, shell, env: {} };
  // As upstream runs a command (`sh -c`): a failing line does not stop the script, and its status is the last
  // command's. On the first line, so the script's own line numbers stay as written.
  run = `${shell === 'bash' ? 'set +e +o pipefail' : 'set +e'}; ${run}`;
  const exported = draft.spec.exports.map((spec) => spec.name).filter((name) => ENV_NAME.test(name));
  if (exported.length > 0)
    run = `${run.endsWith('\n') ? run : `${run}\n`}__baton_status=$?\n${exportLines(exported)}exit "$__baton_status"\n`;
  return { name: draft.spec.name, run, shell, env: {} };
}

/**
 * Harness scripts often just `export password=...`. For each declared export, when a shell
 * variable of that name is set and the script did not write the output itself (to $BATON_OUTPUT or an
 * OUTPUT_FILE file), its value is appended to $BATON_OUTPUT in the heredoc form, with a delimiter drawn
 * at run time so that no value can end it early.
 */
export function exportLines(names: string[]): string {
  const lines = ['# Added by Baton: exported shell variables become task outputs (Harness compatibility).'];
  for (const name of names) {
    lines.push(
      `if [ -n "\${${name}+set}" ] && ! grep -qsE '^${name}(=|<<)' "$BATON_OUTPUT" "\${OUTPUT_FILE:-/dev/null}" "\${OUTPUT_FILE:-/dev/null}"_* 2>/dev/null; then`,
      `  __baton_eof="BATON_EOF_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \\n')"`,
      `  printf '%s<<%s\\n%s\\n%s\\n' '${name}' "$__baton_eof" "$${name}" "$__baton_eof" >> "$BATON_OUTPUT"`,
      'fi',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * An argv list runs as exactly those words: each is single-quoted for `sh`, and each template
 * (`{{ .task.variable }}` or `${{ }}`) becomes a double-quoted env var holding it, so no value
 * can change the words.
 */
function argvStep(
  reader: NodeReader,
  loc: Field,
  owner: string,
  draft: TaskDraft,
  refs: HarnessRef[],
): StepSpec | undefined {
  const items = reader.list(loc, `'command' of ${owner}`) ?? [];
  if (items.length === 0) {
    reader.report(
      'invalid_value',
      `'command' of ${owner} is an empty list; give the program and its arguments`,
      loc.at,
      loc.path,
    );
    return undefined;
  }
  const env: Record<string, string> = {};
  const words: string[] = [];
  for (const item of items) {
    const word = reader.string(item, `each entry of 'command' of ${owner}`, { convert: true });
    if (word === undefined) return undefined;
    addTemplate(draft.templates, word, item, `'command' of ${owner}`, 'step', []);
    let quoted = '';
    for (const part of splitSafely(translate(reader, word, item, `'command' of ${owner}`, refs))) {
      if (part.kind === 'text') quoted += shellQuote(part.text);
      else {
        const variable = `HARNESS_ARG_${Object.keys(env).length + 1}`;
        env[variable] = `\${{${part.source}}}`;
        quoted += `"$${variable}"`;
      }
    }
    words.push(quoted === '' ? "''" : quoted);
  }
  return { name: draft.spec.name, run: `${words.join(' ')}\n`, shell: 'sh', env };
}

/** splitTemplate, with an unterminated `${{` kept as text (the expression check reports it). */
function splitSafely(text: string): ReturnType<typeof splitTemplate> {
  try {
    return splitTemplate(text);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    return [{ kind: 'text', text }];
  }
}

export function shellQuote(word: string): string {
  return word === '' ? '' : `'${word.replaceAll("'", "'\\''")}'`;
}

/** `envs: { A: x }`, or the list form of the Harness sample: `envs: [{ A: x }]`. */
function readEnvs(
  reader: NodeReader,
  loc: Field,
  owner: string,
  draft: TaskDraft,
  refs: HarnessRef[],
): Record<string, string> {
  const what = `'envs' of ${owner}`;
  const maps = isSeq(loc.node) ? (reader.list(loc, what) ?? []) : [loc];
  const entries: Array<[string, string]> = [];
  for (const map of maps) {
    for (const field of reader.map(map, what) ?? []) {
      if (!ENV_NAME.test(field.key)) {
        const message = `env name '${field.key}' in ${owner} is not valid; use letters, digits and _, not starting with a digit`;
        reader.report('invalid_name', message, field.keyAt, field.path);
        continue;
      }
      const value = reader.string(field, `env '${field.key}' of ${owner}`, { convert: true });
      if (value === undefined) continue;
      addTemplate(draft.templates, value, field, `env '${field.key}' of ${owner}`, 'task');
      entries.push([field.key, translate(reader, value, field, `env '${field.key}' of ${owner}`, refs)]);
    }
  }
  return Object.fromEntries(entries);
}

/**
 * `{{ .foo.password }}` to `${{ tasks.foo.outputs.password }}`, remembering each for the checks. A `{{` that
 * starts a reference but does not end as one (`{{ .foo.password )}`) is reported at its line:column with the
 * template it most likely meant, instead of passing through as literal text.
 */
function translate(reader: NodeReader, text: string, at: Located, what: string, refs: HarnessRef[]): string {
  checkTypos(reader, text, at, what);
  return text.replace(HARNESS_TEMPLATE, (whole: string, task: string, variable: string) => {
    refs.push({ task, variable, text: whole, at });
    const taskPart = SIMPLE_NAME.test(task) ? `.${task}` : `['${task}']`;
    return `\${{ tasks${taskPart}.outputs.${variable} }}`;
  });
}

function checkTypos(reader: NodeReader, text: string, at: Located, what: string): void {
  let nth = 0;
  for (let open = text.indexOf('{{'); open >= 0; open = text.indexOf('{{', open + 2), nth++) {
    if (text[open - 1] === '$') continue; // `${{ }}`: checked as an expression
    TEMPLATE_HERE.lastIndex = open;
    if (TEMPLATE_HERE.test(text)) continue;
    LOOKS_LIKE_REF.lastIndex = open + 2;
    const ref = LOOKS_LIKE_REF.exec(text);
    if (ref === null) continue;
    // What was written: up to the first `}` (or `}}`) after the reference, else to the end of its line.
    const lineEnd = text.indexOf('\n', open);
    let end = lineEnd < 0 ? text.length : lineEnd;
    const close = text.indexOf('}', LOOKS_LIKE_REF.lastIndex);
    if (close >= 0 && close < end) end = text[close + 1] === '}' ? close + 2 : close + 1;
    const written = text.slice(open, Math.min(end, open + 80));
    const meant = `{{ .${ref[1]}.${ref[2]} }}`;
    reader.report(
      'invalid_expression',
      `${what} has a malformed template '${written}'; a template is '{{ .task.variable }}': did you mean '${meant}'?`,
      reader.positionOf(at, '{{', nth),
      at.path,
    );
  }
}

/** Each `{{ .task.variable }}` names a dependency, and a variable it exports when it declares exports. */
function checkHarnessRefs(tasks: TaskDraft[], refs: Map<TaskDraft, HarnessRef[]>): WorkflowIssue[] {
  const byName = new Map(tasks.map((task) => [task.spec.name, task]));
  const issues: WorkflowIssue[] = [];
  for (const [task, list] of refs) {
    for (const ref of list) {
      const owner = `task '${task.spec.name}'`;
      const source = byName.get(ref.task);
      let problem: string | undefined;
      if (source === undefined)
        problem = `${owner} uses ${ref.text} but there is no task '${ref.task}'${didYouMean(ref.task, byName.keys())}`;
      else if (source === task)
        problem = `${owner} uses ${ref.text}, its own variable; a task reads the tasks it depends on`;
      else if (!task.spec.dependsOn.includes(ref.task))
        problem = `${owner} uses ${ref.text} but does not depend on '${ref.task}'; add '${ref.task}' to depends_on`;
      else if (source.declaresExports && !source.spec.exports.some((spec) => spec.name === ref.variable)) {
        const exported = source.spec.exports.map((spec) => spec.name);
        problem = `${owner} uses ${ref.text} but task '${ref.task}' does not export '${ref.variable}'${didYouMean(ref.variable, exported)}`;
      }
      if (problem !== undefined) issues.push(makeIssue('unknown_reference', problem, ref.at.at, ref.at.path));
    }
  }
  return issues;
}
