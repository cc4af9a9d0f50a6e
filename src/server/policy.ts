// The server's rule for a task whose dependencies are final: its `if` condition (default `success()`),
// evaluated with the workflow expression language against the run's inputs and the dependencies' results.
import type { TaskSpec } from '../protocol/plan.ts';
import type { Decision, RunFacts, RunPolicy } from '../store/index.ts';
import { toError } from '../protocol/errors.ts';
import {
  decideTask,
  DEFAULT_WORKFLOW_LIMITS,
  expandDeferredMatrix,
  type ExpressionContext,
} from '../workflow/index.ts';
import { tasksContext } from './tasks-context.ts';
import type { GitHubRunContext } from '../protocol/github-context.ts';
import { githubContext } from '../workflow/github-context.ts';

/** Parsed once per run (a stored context never changes): a completion may decide many tasks of one run. */
const PARSED_CACHED = 64;
const parsed = new Map<string, GitHubRunContext>();

function parsedContext(runId: string, json: string): GitHubRunContext {
  const hit = parsed.get(runId);
  if (hit !== undefined) return hit;
  const value = JSON.parse(json) as GitHubRunContext;
  parsed.set(runId, value);
  if (parsed.size > PARSED_CACHED) parsed.delete(parsed.keys().next().value!);
  return value;
}

/**
 * A GitHub job's `if` also reads github, vars and typed inputs (docs "Context availability"): the run's stored
 * facts, with the attempt the job is about to get (its first) and no workspace (no runner is chosen yet).
 */
function jobIfContexts(run: RunFacts, spec: TaskSpec) {
  if (run.githubContext === null) return {};
  const stored = parsedContext(run.id, run.githubContext);
  const github = githubContext(stored, { runId: run.id, attempt: 1, workflow: run.name, spec });
  return { inputs: stored.inputs, github, vars: stored.vars };
}

export const WORKFLOW_POLICY: RunPolicy = {
  wantsAncestors: (run) => run.dialect === 'github',
  decide(spec, deps, run, ancestors) {
    const tasks = tasksContext(deps, run.dialect);
    // GitHub's job status functions look at every ancestor job ("Expressions", status check functions:
    // "failure() returns true if any ancestor job fails"); the native dialect's at the direct dependencies.
    const judged = run.dialect === 'github' && ancestors !== undefined ? ancestors : deps;
    const ctx = {
      inputs: run.inputs,
      env: {},
      tasks,
      matrix: spec.matrix,
      run: { id: run.id, name: run.name },
      ...jobIfContexts(run, spec),
    };
    try {
      const verdict = decideTask(
        spec,
        judged.map((d) => ({ name: d.name, status: d.status, continueOnError: d.continueOnError })),
        ctx,
        run.cancelRequested,
      );
      if (verdict === 'run')
        return spec.deferredMatrix === undefined ? { run: true } : expandMatrix(spec, ctx, run);
      const bad = judged.filter((d) => d.status !== 'succeeded');
      const message =
        spec.if !== undefined
          ? `skipped: condition '${spec.if}' is false`
          : `skipped: dependency ${bad.map((d) => `'${d.name}' ${d.status}`).join(', ')}`;
      return { run: false, message };
    } catch (err) {
      return {
        run: false,
        failed: true,
        message: `condition '${spec.if ?? ''}' could not be evaluated: ${toError(err).message}`,
      };
    }
  },
};

/**
 * A matrix computed at run time (GitHub `strategy.matrix: ${{ … }}`), expanded now that the job's dependencies
 * are final; a value that is no matrix, or too many tasks, fails the job with the reason.
 */
function expandMatrix(spec: TaskSpec, ctx: ExpressionContext, run: RunFacts): Decision {
  const expanded = expandDeferredMatrix(spec, ctx, { maxMatrixSize: DEFAULT_WORKFLOW_LIMITS.maxMatrixSize });
  if ('error' in expanded) return { run: false, failed: true, message: expanded.error };
  const total = (run.taskCount ?? 1) - 1 + expanded.tasks.length;
  if (total > DEFAULT_WORKFLOW_LIMITS.maxTasks)
    return {
      run: false,
      failed: true,
      message: `the matrix of job '${spec.strategy?.group ?? spec.name}' would make the run ${total} tasks; the limit is ${DEFAULT_WORKFLOW_LIMITS.maxTasks} tasks per run`,
    };
  return { run: true, expand: expanded.tasks };
}
