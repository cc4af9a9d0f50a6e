// compileWorkflow: workflow text (YAML or JSON) in any dialect to an immutable Plan, or every
// issue at once. The dialect is chosen from the document's shape; the checks after reading are shared.

import { isMap, isScalar } from 'yaml';
import type { Plan } from '../protocol/plan.ts';
import { checkDependencies } from './dag.ts';
import { readBountyHub } from './dialect-bountyhub.ts';
import { MAX_ACTION_FILES, type ActionFiles } from './action-files.ts';
import { readGitHub } from './dialect-github.ts';
import { readHarness } from './dialect-harness.ts';
import type { WorkflowDraft } from './drafts.ts';
import { expandTasks } from './expand.ts';
import { checkLiteralExpressions } from './github-literals.ts';
import { makeIssue, sortIssues, type WorkflowIssue } from './issues.ts';
import { formatBytes, resolveLimits, type WorkflowLimits } from './limits.ts';
import { envBytes } from './native-env.ts';
import { readWorkflow } from './native.ts';
import { NodeReader, type Located } from './node-reader.ts';
import { checkTemplate, type WorkflowFacts } from './references.ts';
import { readSource } from './source.ts';
import { checkVariables } from './variables.ts';
import { loadYaml } from './yaml-load.ts';

/** Where a task of a custom type names it: the server checks at submit that some runner has its driver. */
export interface CustomTypeSite {
  type: string;
  task: string;
  line: number;
  column: number;
  path: string;
}

/** `warnings` (lint: valid but probably a mistake) is present only when there are some. */
export type CompileResult =
  | { ok: true; plan: Plan; customTypes?: CustomTypeSite[]; warnings?: WorkflowIssue[] }
  | { ok: false; issues: WorkflowIssue[]; warnings?: WorkflowIssue[] };

export interface CompileOptions {
  /** Names the workflow when it has no `name` (without its extension). Default: "workflow". */
  fileName?: string;
  limits?: Partial<WorkflowLimits>;
  /** GitHub dialect: the action files of its `uses: ./…` steps, by directory (action-files.ts). Default: none. */
  actions?: ActionFiles;
}

/** Never throws for any input: every problem is an issue with line and column. */
export function compileWorkflow(text: string | Uint8Array, options: CompileOptions = {}): CompileResult {
  const limits = resolveLimits(options.limits);
  const source = readSource(text, limits.maxBytes);
  if (!source.ok) return { ok: false, issues: [source.issue] };
  const loaded = loadYaml(source.text, limits.maxDepth);
  if (!loaded.ok) return { ok: false, issues: sortIssues(loaded.issues) };

  const reader = new NodeReader(loaded.doc, loaded.lineCounter, limits.maxAliases, source.text);
  const root = reader.root(loaded.doc);
  const actions = options.actions ?? {};
  if (Object.keys(actions).length > MAX_ACTION_FILES) {
    const message = `${Object.keys(actions).length} action files came with the workflow; the limit is ${MAX_ACTION_FILES} action files per workflow`;
    return { ok: false, issues: [makeIssue('limit_exceeded', message, { line: 1, column: 1 }, '')] };
  }
  const draft = readDialect(reader, root, limits, defaultName(options.fileName), actions);
  if (reader.aliasLimitExceeded) {
    // Everything read past the limit is missing, so other issues would be noise: report the limit alone.
    return {
      ok: false,
      issues: reader.issues.filter(
        (issue) => issue.code === 'limit_exceeded' && issue.message.includes('aliases'),
      ),
    };
  }
  const issues = [
    ...loaded.issues,
    ...reader.issues,
    ...checkDependencies(draft.tasks),
    ...checkExpressions(draft),
    ...checkVariables(draft.tasks),
  ];
  const expanded = expandTasks(draft.tasks, limits);
  issues.push(...expanded.issues, ...checkEnvTotals(draft, limits));
  if (draft.dialect === 'github') {
    const literal = checkLiteralExpressions(loaded.doc, reader, draft, issues);
    issues.push(...literal.issues);
    reader.warnings.push(...literal.warnings);
  }
  const warnings = reader.warnings.length === 0 ? {} : { warnings: capIssues(sortIssues(reader.warnings)) };
  if (issues.length > 0) return { ok: false, issues: capIssues(sortIssues(issues)), ...warnings };
  const plan: Plan = {
    name: draft.name,
    dialect: draft.dialect,
    env: draft.env,
    inputs: draft.inputs,
    tasks: expanded.tasks,
    ...(draft.drivers === undefined || draft.drivers.length === 0 ? {} : { drivers: draft.drivers }),
  };
  const customTypes = draft.tasks.flatMap((task) =>
    task.typeAt === undefined
      ? []
      : [{ type: task.typeAt.value, task: task.spec.name, ...task.typeAt.at, path: task.typeAt.path }],
  );
  return {
    ok: true,
    plan: deepFreeze(plan),
    ...(customTypes.length === 0 ? {} : { customTypes }),
    ...warnings,
  };
}

/**
 * The dialect from the document's top-level keys: `taskGroup` Harness, `jobs` GitHub Actions,
 * `steps` a BountyHub job, `tasks` native. A document with `tasks` is native whatever else it
 * has (the native reader then explains the stray keys); anything else is read as native too,
 * whose reader reports what is missing.
 */
function readDialect(
  reader: NodeReader,
  root: Located,
  limits: WorkflowLimits,
  name: string,
  actions: ActionFiles,
): WorkflowDraft {
  const keys = new Set<string>();
  if (isMap(root.node))
    for (const pair of root.node.items) if (isScalar(pair.key)) keys.add(String(pair.key.value));
  if (!keys.has('tasks')) {
    if (keys.has('taskGroup')) return readHarness(reader, root, limits, name);
    if (keys.has('jobs')) return readGitHub(reader, root, limits, name, actions);
    if (keys.has('steps')) return readBountyHub(reader, root, limits, name);
  }
  return readWorkflow(reader, root, limits, name);
}

/**
 * At most this many issues are returned, then one "and N more": a 1 MiB file can hold 100,000
 * mistakes, nobody reads past the first few, and the 422 body must stay small (about 30 KB).
 */
export const MAX_ISSUES = 100;

/** Drops exact repeats (one bad template reused many times) and keeps the first MAX_ISSUES. */
function capIssues(issues: WorkflowIssue[]): WorkflowIssue[] {
  const seen = new Set<string>();
  const unique = issues.filter((issue) => {
    const key = `${issue.line}:${issue.column}:${issue.path}:${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (unique.length <= MAX_ISSUES) return unique;
  const last = unique[MAX_ISSUES - 1]!;
  const more = makeIssue(
    'limit_exceeded',
    `and ${unique.length - MAX_ISSUES} more issues not shown; at most ${MAX_ISSUES} issues are reported per workflow (fix these and validate again)`,
    last,
    '',
  );
  return [...unique.slice(0, MAX_ISSUES), more];
}

function defaultName(fileName: string | undefined): string {
  const base = fileName?.split(/[\\/]/).pop() ?? '';
  const stem = base.includes('.') && !base.startsWith('.') ? base.slice(0, base.lastIndexOf('.')) : base;
  return stem === '' ? 'workflow' : stem;
}

function checkExpressions(draft: WorkflowDraft): WorkflowIssue[] {
  const facts: WorkflowFacts = {
    tasks: new Map(draft.tasks.map((task) => [task.spec.name, task])),
    inputs: new Set(Object.keys(draft.inputs)),
    dialect: draft.dialect,
  };
  const issues: WorkflowIssue[] = [];
  for (const ref of draft.templates) issues.push(...checkTemplate(ref, facts));
  for (const task of draft.tasks)
    for (const ref of task.templates) issues.push(...checkTemplate(ref, facts, task));
  return issues;
}

/** Per task: bytes and names of workflow env + task env + every step's env, as the process of its largest step could see (the same for every matrix expansion). */
function checkEnvTotals(draft: WorkflowDraft, limits: WorkflowLimits): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const workflowBytes = envBytes(draft.env);
  for (const task of draft.tasks) {
    const total =
      workflowBytes +
      envBytes(task.spec.env) +
      task.spec.steps.reduce((sum, step) => sum + envBytes(step.env), 0);
    if (total > limits.maxEnvTotalBytes) {
      const message = `env of task '${task.spec.name}' is ${total} bytes (workflow, task and step env together); the limit is ${formatBytes(limits.maxEnvTotalBytes)} per task`;
      issues.push(makeIssue('limit_exceeded', message, task.at, task.path));
    }
    const names = new Set([
      ...Object.keys(draft.env),
      ...Object.keys(task.spec.env),
      ...task.spec.steps.flatMap((step) => Object.keys(step.env)),
      ...task.spec.imports.map((spec) => spec.as),
    ]);
    if (names.size > limits.maxEnvVars) {
      const message = `env of task '${task.spec.name}' sets ${names.size} variables (workflow, task and step env and imports together); the limit is ${limits.maxEnvVars} per task`;
      issues.push(makeIssue('limit_exceeded', message, task.at, task.path));
    }
  }
  return issues;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
