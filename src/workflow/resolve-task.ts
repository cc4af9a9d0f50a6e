// A planned task's strings evaluated for one attempt: what a runner receives in a ResolvedTask.

import type { Plan, ResolvedTask } from '../protocol/plan.ts';
import type { ExpressionContext } from './expression-eval.ts';
import { evaluateTemplate } from './template.ts';

export type ResolvedTaskBody = Pick<ResolvedTask, 'steps' | 'env' | 'timeoutMs' | 'workingDirectory'>;

/**
 * Evaluates every `${{ }}` of a task. Env is layered: workflow env (evaluated with the given
 * ctx.env), then task env (task wins, seeing the workflow env), then each step's env and run
 * (seeing both). Throws ExpressionError for a bad expression, and Error for an unknown task.
 */
export function resolveTask(plan: Plan, taskName: string, ctx: ExpressionContext): ResolvedTaskBody {
  const task = plan.tasks.find((candidate) => candidate.name === taskName);
  if (task === undefined) throw new Error(`plan '${plan.name}' has no task '${taskName}'`);
  const workflowEnv = evaluateEnv(plan.env, ctx);
  const taskEnv = {
    ...workflowEnv,
    ...evaluateEnv(task.env, { ...ctx, env: { ...ctx.env, ...workflowEnv } }),
  };
  const steps = task.steps.map((step) => {
    const stepCtx = { ...ctx, env: { ...ctx.env, ...taskEnv } };
    const env = evaluateEnv(step.env, stepCtx);
    const run = evaluateTemplate(step.run, { ...ctx, env: { ...stepCtx.env, ...env } });
    return { ...step, run, env };
  });
  const body: ResolvedTaskBody = { steps, env: taskEnv };
  if (task.timeoutMs !== undefined) body.timeoutMs = task.timeoutMs;
  if (task.workingDirectory !== undefined) body.workingDirectory = task.workingDirectory;
  return body;
}

function evaluateEnv(env: Record<string, string>, ctx: ExpressionContext): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, evaluateTemplate(value, ctx)]));
}
