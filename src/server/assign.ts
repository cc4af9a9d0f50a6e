// Builds the task a runner receives for a claimed attempt: the task as compiled, and the context its
// expressions are evaluated against on the runner — inputs, direct dependencies' outputs and results,
// imported values, matrix values — plus the values the runner must mask and the artifacts to extract.
import type { AssignedTask, Plan, TaskSpec } from '../protocol/plan.ts';
import type { Claimed, Store } from '../store/index.ts';
import { tasksContext } from './tasks-context.ts';

export async function assignClaimed(store: Store, claimed: Claimed): Promise<AssignedTask> {
  const loaded = await store.runs.get(claimed.task.run_id);
  if (!loaded) throw new Error(`run ${claimed.task.run_id} of task ${claimed.task.id} is missing`);
  const plan = JSON.parse(loaded.run.plan) as Plan;
  const spec = JSON.parse(claimed.task.spec) as TaskSpec;
  const deps = new Set(spec.dependsOn);
  const mask = new Set<string>();
  const results = [];
  for (const t of loaded.tasks) {
    if (!deps.has(t.name)) continue;
    const outputs = JSON.parse(t.outputs) as Record<string, string>;
    const group = (JSON.parse(t.spec) as TaskSpec).strategy?.group;
    results.push({ name: t.name, status: t.status, outputs, ...(group ? { group } : {}) });
    for (const name of JSON.parse(t.confidential_outputs) as string[]) {
      const v = outputs[name];
      if (v !== undefined && v !== '') mask.add(v);
    }
  }
  const tasks = tasksContext(results, loaded.run.dialect);
  const imports: Record<string, string> = {};
  for (const imp of spec.imports) imports[imp.as] = tasks[imp.from]?.outputs[imp.variable] ?? '';
  const artifacts = (await store.artifacts.ofRun(loaded.run.id))
    .filter((a) => spec.artifactsFrom.includes(a.task_name))
    .map((a) => ({ id: a.id, task: a.task_name, name: a.name, sizeBytes: a.size_bytes }));
  return {
    runId: loaded.run.id,
    taskId: claimed.task.id,
    name: claimed.task.name,
    attempt: claimed.attempt.number,
    workflowEnv: plan.env,
    spec,
    context: {
      inputs: JSON.parse(loaded.run.inputs) as Record<string, string>,
      tasks,
      matrix: spec.matrix,
      run: { id: loaded.run.id, name: loaded.run.name },
      imports,
      mask: [...mask],
    },
    artifacts,
  };
}
