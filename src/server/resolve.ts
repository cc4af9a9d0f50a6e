// Builds the task a runner receives: every `${{ }}` in its steps and env evaluated against the run's inputs,
// env and the outputs of the tasks it depends on.
import type { Plan, ResolvedTask, TaskSpec } from '../protocol/plan.ts';
import type { Claimed } from '../store/leases.ts';
import type { Store } from '../store/index.ts';
import { evaluateTemplate, type ExpressionContext } from '../workflow/index.ts';

export async function resolveClaimed(store: Store, claimed: Claimed): Promise<ResolvedTask> {
  const loaded = await store.runs.get(claimed.task.run_id);
  if (!loaded) throw new Error(`run ${claimed.task.run_id} of task ${claimed.task.id} is missing`);
  const plan = JSON.parse(loaded.run.plan) as Plan;
  const spec = JSON.parse(claimed.task.spec) as TaskSpec;
  const tasks: ExpressionContext['tasks'] = {};
  for (const t of loaded.tasks) {
    if (!spec.dependsOn.includes(t.name)) continue;
    tasks[t.name] = { outputs: JSON.parse(t.outputs) as Record<string, string>, result: t.status };
  }
  const inputs = JSON.parse(loaded.run.inputs) as Record<string, string>;
  const base: ExpressionContext = { inputs, env: {}, tasks, run: { id: loaded.run.id, name: loaded.run.name } };
  const workflowEnv = evaluateMap(plan.env, base);
  const taskEnv = evaluateMap(spec.env, { ...base, env: workflowEnv });
  const env = { ...workflowEnv, ...taskEnv };
  const steps = spec.steps.map((s) => {
    const stepEnv = evaluateMap(s.env, { ...base, env });
    const ctx = { ...base, env: { ...env, ...stepEnv } };
    return { ...s, run: evaluateTemplate(s.run, ctx), env: stepEnv };
  });
  const resolved: ResolvedTask = {
    runId: loaded.run.id,
    taskId: claimed.task.id,
    name: spec.name,
    attempt: claimed.attempt.number,
    steps,
    env,
  };
  if (spec.timeoutMs !== undefined) resolved.timeoutMs = spec.timeoutMs;
  if (spec.workingDirectory !== undefined) resolved.workingDirectory = spec.workingDirectory;
  return resolved;
}

function evaluateMap(map: Record<string, string>, ctx: ExpressionContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) out[k] = evaluateTemplate(v, ctx);
  return out;
}
