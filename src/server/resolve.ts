// Builds the task a runner receives: every `${{ }}` in its steps and env evaluated against the run's inputs,
// env and the outputs of the tasks it depends on.
import type { Plan, ResolvedTask } from '../protocol/plan.ts';
import type { Claimed } from '../store/leases.ts';
import type { Store } from '../store/index.ts';
import { resolveTask, type ExpressionContext } from '../workflow/index.ts';

export async function resolveClaimed(store: Store, claimed: Claimed): Promise<ResolvedTask> {
  const loaded = await store.runs.get(claimed.task.run_id);
  if (!loaded) throw new Error(`run ${claimed.task.run_id} of task ${claimed.task.id} is missing`);
  const plan = JSON.parse(loaded.run.plan) as Plan;
  const dependsOn = new Set(JSON.parse(claimed.task.depends_on) as string[]);
  const tasks: ExpressionContext['tasks'] = {};
  for (const t of loaded.tasks) {
    if (dependsOn.has(t.name))
      tasks[t.name] = { outputs: JSON.parse(t.outputs) as Record<string, string>, result: t.status };
  }
  const inputs = JSON.parse(loaded.run.inputs) as Record<string, string>;
  const body = resolveTask(plan, claimed.task.name, {
    inputs,
    env: {},
    tasks,
    run: { id: loaded.run.id, name: loaded.run.name },
  });
  return {
    runId: loaded.run.id,
    taskId: claimed.task.id,
    name: claimed.task.name,
    attempt: claimed.attempt.number,
    ...body,
  };
}
