// The server's rule for a task whose dependencies are final: its `if` condition (default `success()`),
// evaluated with the workflow expression language against the run's inputs and the dependencies' results.
import type { RunPolicy } from '../store/index.ts';
import { toError } from '../protocol/errors.ts';
import { decideTask } from '../workflow/index.ts';
import { tasksContext } from './tasks-context.ts';

export const WORKFLOW_POLICY: RunPolicy = {
  decide(spec, deps, run, ancestors) {
    const tasks = tasksContext(deps, run.dialect);
    // GitHub's job status functions look at every ancestor job ("Expressions", status check functions:
    // "failure() returns true if any ancestor job fails"); the native dialect's at the direct dependencies.
    const judged = run.dialect === 'github' && ancestors !== undefined ? ancestors : deps;
    try {
      const verdict = decideTask(
        spec,
        judged.map((d) => ({ name: d.name, status: d.status, continueOnError: d.continueOnError })),
        { inputs: run.inputs, env: {}, tasks, matrix: spec.matrix, run: { id: run.id, name: run.name } },
        run.cancelRequested,
      );
      if (verdict === 'run') return { run: true };
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
