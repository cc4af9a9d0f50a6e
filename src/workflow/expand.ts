// Checked task drafts to the plan's tasks: matrix tasks become one task per combination, named
// `group (v1, v2)`; dependencies on a group mean all its tasks; the task limit counts the result.

import { labelProblem, RUNNER_LABELS_MAX } from '../protocol/labels.ts';
import type { TaskSpec } from '../protocol/plan.ts';
import type { TaskDraft } from './drafts.ts';
import { conditionSource } from './condition.ts';
import { ExpressionError } from './expression-error.ts';
import { evaluate, truthy } from './expression-eval.ts';
import { parseExpression } from './expression-parser.ts';
import { makeIssue, type WorkflowIssue } from './issues.ts';
import type { WorkflowLimits } from './limits.ts';
import { expansionName } from './matrix.ts';
import { evaluateTemplate } from './template.ts';

export function expandTasks(
  drafts: TaskDraft[],
  limits: WorkflowLimits,
): { tasks: TaskSpec[]; issues: WorkflowIssue[] } {
  const issues: WorkflowIssue[] = [];
  let count = 0;
  for (const draft of drafts) {
    count += size(draft);
    if (count > limits.maxTasks) {
      const total = drafts.reduce((sum, task) => sum + size(task), 0);
      const message = `workflow has ${total} tasks after matrix expansion; the limit is ${limits.maxTasks} tasks per run`;
      return { tasks: [], issues: [makeIssue('limit_exceeded', message, draft.at, draft.path)] };
    }
  }

  const groups = new Map<string, string[]>();
  const single = (draft: TaskDraft) => draft.matrix === undefined || draft.matrix.deferred !== undefined;
  const seen = new Set(drafts.filter(single).map((draft) => draft.spec.name));
  for (const draft of drafts) {
    if (draft.matrix === undefined || draft.matrix.deferred !== undefined) {
      groups.set(draft.spec.name, [draft.spec.name]);
      continue;
    }
    const names: string[] = [];
    for (const combination of draft.matrix.combinations) {
      const name = expansionName(draft.spec.name, combination);
      if (seen.has(name)) {
        const message = `matrix of task '${draft.spec.name}' makes the task '${name}' twice; remove the repeated values`;
        issues.push(makeIssue('duplicate_task', message, draft.matrix.at, draft.matrix.path));
      }
      seen.add(name);
      names.push(name);
    }
    groups.set(draft.spec.name, names);
  }
  const expand = (names: string[]) => names.flatMap((name) => groups.get(name) ?? [name]);

  // A label that no runner could carry (grammar and length of `baton runner register`), reported
  // once per written label and value however many expansions share it.
  const reported = new Set<string>();
  const badLabel = (draft: TaskDraft, label: string, value: string, name: string): boolean => {
    const problem = labelProblem(value);
    if (problem === undefined) return false;
    const key = `${draft.spec.name}\0${label}\0${value}`;
    if (reported.has(key)) return true;
    reported.add(key);
    const where = draft.labels.find((written) => written.value === label);
    const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
    const message = `runs_on label '${shown}' of task '${name}' ${problem}`;
    issues.push(makeIssue('invalid_value', message, where?.at ?? draft.at, where?.path ?? draft.path));
    return true;
  };
  const tooManyLabels = (spec: TaskSpec, draft: TaskDraft) => {
    if (spec.runsOn.length > RUNNER_LABELS_MAX) {
      const message = `task '${spec.name}' requires ${spec.runsOn.length} runs_on labels; a runner carries at most ${RUNNER_LABELS_MAX}, so none could take it`;
      issues.push(makeIssue('limit_exceeded', message, draft.at, draft.path));
    }
    // Each claim compares them with a runner's labels: as many as one runner may carry.
    const any = spec.runsOnAny?.length ?? 0;
    if (any > RUNNER_LABELS_MAX) {
      const message = `task '${spec.name}' lists ${any} labels in runs_on.any; the limit is ${RUNNER_LABELS_MAX}`;
      issues.push(makeIssue('limit_exceeded', message, draft.at, draft.path));
    }
  };

  const tasks: TaskSpec[] = [];
  for (const draft of drafts) {
    const base: TaskSpec = {
      ...draft.spec,
      dependsOn: expand(draft.spec.dependsOn),
      artifactsFrom: expand(draft.artifacts.map((artifact) => artifact.value).filter(unique)),
    };
    const matrix = draft.matrix;
    if (matrix === undefined) {
      // A template here is reported by the expression checks; only literal labels are checked.
      const literal = (label: string) => label.includes('${{') || !badLabel(draft, label, label, base.name);
      base.runsOn = base.runsOn.filter(literal);
      if (base.runsOnAny !== undefined) base.runsOnAny = base.runsOnAny.filter(literal);
      tooManyLabels(base, draft);
      tasks.push(base);
      continue;
    }
    const strategy = {
      group: draft.spec.name,
      failFast: matrix.failFast,
      ...(matrix.maxParallel === undefined ? {} : { maxParallel: matrix.maxParallel }),
    };
    if (matrix.deferred !== undefined) {
      // Expanded by the server once the dependencies are final (matrix-deferred.ts); labels wait for it too.
      const flags = draft.matrixFlags ?? [];
      const deferredMatrix = {
        value: matrix.deferred,
        ...(flags.length === 0 ? {} : { flags }),
        ...matrix.computed,
      };
      tasks.push({ ...base, strategy, deferredMatrix });
      continue;
    }
    matrix.combinations.forEach((combination, index) => {
      const name = groups.get(draft.spec.name)?.[index] ?? draft.spec.name;
      const made = combinationTask(
        base,
        { ...strategy, index, total: matrix.combinations.length },
        combination,
        name,
        draft.matrixFlags ?? [],
        (label, value) => badLabel(draft, label, value, name),
      );
      for (const message of made.problems)
        issues.push(makeIssue('invalid_value', message, draft.at, draft.path));
      tooManyLabels(made.spec, draft);
      tasks.push(made.spec);
    });
  }
  return { tasks, issues };
}

/**
 * One task of a matrix: the group's spec with this combination's values, `continue-on-error` flags decided and
 * `runs-on` labels filled in. `problems` are sentences about labels that are empty or cannot be evaluated;
 * `skipLabel` may drop a label it has reported itself.
 */
export function combinationTask(
  base: TaskSpec,
  strategy: NonNullable<TaskSpec['strategy']>,
  combination: Record<string, string | number | boolean>,
  name: string,
  flags: ReadonlyArray<{ text: string; step?: number }>,
  skipLabel: (label: string, value: string) => boolean = () => false,
): { spec: TaskSpec; problems: string[] } {
  const { deferredMatrix: _deferred, ...rest } = base;
  const spec: TaskSpec = { ...structuredClone(rest), name, matrix: { ...combination }, strategy };
  for (const flag of flags) {
    const value = flagFor(flag.text, combination);
    const step = flag.step === undefined ? undefined : spec.steps[flag.step];
    if (flag.step === undefined) {
      if (value) spec.continueOnError = true;
    } else if (step !== undefined && value) step.continueOnError = true;
  }
  const problems: string[] = [];
  const fill = (labels: string[]): string[] => {
    const values: string[] = [];
    for (const label of labels) {
      const value = labelFor(label, combination);
      if (typeof value === 'string' && value !== '' && skipLabel(label, value)) continue;
      if (typeof value === 'string' && value !== '') {
        if (!values.includes(value)) values.push(value);
      } else {
        const reason = value === '' ? 'is empty' : `cannot be evaluated: ${value.message}`;
        problems.push(`runs_on label '${label}' of task '${name}' ${reason}`);
      }
    }
    return values;
  };
  spec.runsOn = fill(base.runsOn);
  if (base.runsOnAny !== undefined) spec.runsOnAny = fill(base.runsOnAny);
  return { spec, problems };
}

/** A flag written as one expression over the matrix (checked when read); true when its value is truthy. */
function flagFor(text: string, matrix: Record<string, string | number | boolean>): boolean {
  try {
    const source = conditionSource(text);
    if (source === undefined) return false;
    return truthy(evaluate(parseExpression(source), { inputs: {}, env: {}, tasks: {}, matrix }, source));
  } catch (error) {
    if (error instanceof ExpressionError) return false;
    throw error;
  }
}

/** Tasks a draft becomes at compile time: a deferred matrix is one placeholder until the server expands it. */
function size(draft: TaskDraft): number {
  return draft.matrix === undefined || draft.matrix.deferred !== undefined
    ? 1
    : draft.matrix.combinations.length;
}

function unique(value: string, index: number, all: string[]): boolean {
  return all.indexOf(value) === index;
}

/** A label with `${{ matrix.x }}` filled in for one combination (checked earlier to read only matrix). */
function labelFor(
  label: string,
  matrix: Record<string, string | number | boolean>,
): string | ExpressionError {
  try {
    return evaluateTemplate(label, { inputs: {}, env: {}, tasks: {}, matrix }).trim();
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
}
