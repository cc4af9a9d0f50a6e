// The server's rule for a task whose dependencies are final: its `if` condition (default `success()`),
// evaluated with the workflow expression language against the run's inputs and the dependencies' results.
import type { RunPolicy } from '../store/index.ts';
import { toError } from '../protocol/errors.ts';
import { decideTask } from '../workflow/index.ts';
import { tasksContext } from './tasks-context.ts';
import type { GitHubRunContext } from '../protocol/github-context.ts';
import type { TaskSpec } from '../protocol/plan.ts';
import type { RunFacts } from '../store/index.ts';
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
  decide(spec, deps, run) {
    const tasks = tasksContext(deps, run.dialect);
    try {
      const verdict = decideTask(
        spec,
        deps.map((d) => ({ name: d.name, status: d.status, continueOnError: d.continueOnError })),
        {
          inputs: run.inputs,
          env: {},
          tasks,
          matrix: spec.matrix,
          run: { id: run.id, name: run.name },
          ...jobIfContexts(run, spec),
        },
        run.cancelRequested,
      );
      if (verdict === 'run') return { run: true };
      const bad = deps.filter((d) => d.status !== 'succeeded');
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
