// The built-in `expression` task type: no process, no work dir. Its `driverSpec.expression` is evaluated with
// the contexts any task field has (inputs, env — workflow env, task env and imports —, tasks, imports,
// matrix, run, runner, secrets) and becomes the output `result`, confidential when the expression read a
// secret or a confidential value (workflow/expression-task.ts). A bad expression fails the task with the
// evaluator's message; nothing of it runs twice.

import type { AssignedTask } from '../protocol/plan.ts';
import { DEFAULT_WORKFLOW_LIMITS, formatBytes } from '../workflow/limits.ts';
import { evaluateExpressionTask, ExpressionError } from '../workflow/runtime.ts';
import { evaluateTaskEnv, runnerContext, type EvalScope } from './expressions.ts';

/** The task types this engine runs without steps, by the name a plan gives them. */
export const EXPRESSION_TYPE = 'expression';

export type ExpressionOutcome =
  | { ok: true; result: string; confidential: boolean }
  | { ok: false; message: string; reason: 'setup_failed' | 'env_too_large' };

export function runExpression(
  task: AssignedTask,
  secrets: Record<string, string>,
  runnerName?: string,
): ExpressionOutcome {
  const text = task.spec.driverSpec?.expression;
  if (typeof text !== 'string')
    return {
      ok: false,
      reason: 'setup_failed',
      message: `task '${task.name}' has no 'expression' in its spec`,
    };
  const scope: EvalScope = {
    task,
    runner: runnerContext(runnerName, ''),
    secrets,
    functions: {},
  };
  const env = evaluateTaskEnv(scope);
  if ('error' in env) return { ok: false, reason: env.reason ?? 'setup_failed', message: env.error };
  const c = task.context;
  const confidential = new Set([...c.mask, ...Object.values(secrets)].filter((v) => v !== ''));
  let value;
  try {
    value = evaluateExpressionTask(
      text,
      {
        inputs: c.inputs,
        env: env.value,
        tasks: c.tasks,
        matrix: c.matrix,
        run: c.run,
        runner: scope.runner,
        steps: {},
        imports: c.imports,
        secrets,
      },
      confidential,
    );
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    return {
      ok: false,
      reason: 'setup_failed',
      message: `task '${task.name}': cannot evaluate its expression: ${error.message}`,
    };
  }
  const bytes = Buffer.byteLength(value.result, 'utf8');
  const limit = DEFAULT_WORKFLOW_LIMITS.maxEnvValueBytes;
  if (bytes > limit)
    return {
      ok: false,
      reason: 'env_too_large',
      message: `task '${task.name}': its expression's result is ${bytes} bytes; the limit is ${formatBytes(limit)} per output value`,
    };
  return { ok: true, ...value };
}
