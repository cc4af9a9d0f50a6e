// What every dialect reader produces: the workflow and its tasks as plan parts, plus the positions
// and facts the shared checks need (dependencies, templates, imports, matrices).

import type { ImportSpec, InputSpec, Plan, TaskSpec } from '../protocol/plan.ts';
import type { Pos } from './issues.ts';

/**
 * Where a string is evaluated, which decides the contexts it may read:
 * `workflow` (workflow env, on the runner), `task` (task env, on the runner), `task-if` (a task's
 * condition, on the server before any runner is chosen), `step` (a step's run, env and if),
 * `compile` (runner labels and GitHub's `continue-on-error`, filled in per matrix combination).
 */
export type TemplateWhere = 'workflow' | 'task' | 'task-if' | 'step' | 'compile';

/** A string holding expressions, kept with its position for compile-time checks. */
export interface TemplateRef {
  text: string;
  at: Pos;
  path: string;
  /** How messages name it, e.g. "'run' of task 'build'". */
  what: string;
  /** `template`: text with `${{ }}` parts; `condition`: an `if` (bare, or one `${{ }}`). */
  kind: 'template' | 'condition';
  where: TemplateWhere;
  /** For `step`: the names of the steps before this one in its task (what `steps.<id>` may read). */
  earlierSteps?: readonly string[];
}

export interface Located<T> {
  value: T;
  at: Pos;
  path: string;
}

export interface MatrixDraft {
  /** Every combination, after exclude and include, in GitHub's order. */
  combinations: Array<Record<string, string | number | boolean>>;
  /** Every key any combination has (what `matrix.<key>` may read). */
  keys: ReadonlySet<string>;
  at: Pos;
  path: string;
  maxParallel?: number;
  failFast: boolean;
  /** GitHub: the matrix holds `${{ }}` and is expanded by the server (`combinations` is empty, any key may be read). */
  deferred?: unknown;
  /** GitHub: `fail-fast` / `max-parallel` written as expressions, evaluated with the deferred matrix. */
  computed?: { failFast?: string; maxParallel?: string };
}

export interface TaskDraft {
  /** The task as written: for a matrix task, the group before expansion. */
  spec: TaskSpec;
  /** Where the task's name stands (its key, or its `name` in the list form). */
  at: Pos;
  path: string;
  dependencies: Array<Located<string>>;
  templates: TemplateRef[];
  imports: Array<Located<ImportSpec>>;
  artifacts: Array<Located<string>>;
  /** Where each `runs_on` label was written (checked against the runner label grammar once expanded). */
  labels: Array<Located<string>>;
  /** True when the task lists `exports` (then imports and reads of its outputs must name one). */
  declaresExports: boolean;
  /** A custom type (run by a runner's driver) and where it is written. */
  typeAt?: Located<string>;
  matrix?: MatrixDraft;
  /**
   * `continue-on-error: ${{ matrix.experimental }}` (GitHub): decided per matrix combination when
   * the task is expanded; `step` is the step's index, absent for the task's own flag.
   */
  matrixFlags?: Array<{ text: string; step?: number }>;
}

export interface WorkflowDraft {
  dialect: Plan['dialect'];
  name: string;
  env: Record<string, string>;
  /** Templates of the workflow env. */
  templates: TemplateRef[];
  inputs: Record<string, InputSpec>;
  tasks: TaskDraft[];
  /** Top-level `drivers:` (driver-spec.ts readDrivers). */
  drivers?: string[];
}

export function emptyTask(name: string): TaskSpec {
  return {
    name,
    type: 'exec',
    steps: [],
    env: {},
    dependsOn: [],
    runsOn: [],
    exports: [],
    imports: [],
    uploads: [],
    artifactsFrom: [],
    matrix: {},
  };
}

export function emptyTaskDraft(name: string, at: Pos, path: string): TaskDraft {
  return {
    spec: emptyTask(name),
    at,
    path,
    dependencies: [],
    templates: [],
    imports: [],
    artifacts: [],
    labels: [],
    declaresExports: false,
  };
}

/** Records a string for the expression checks when it holds `${{`. */
export function addTemplate(
  templates: TemplateRef[],
  text: string,
  loc: { at: Pos; path: string },
  what: string,
  where: TemplateWhere,
  earlierSteps?: readonly string[],
): void {
  if (!text.includes('${{')) return;
  const ref: TemplateRef = { text, at: loc.at, path: loc.path, what, kind: 'template', where };
  if (earlierSteps !== undefined) ref.earlierSteps = earlierSteps;
  templates.push(ref);
}
