// The server's decision for a task whose dependencies are all final: run it, or skip it.

import type { TaskSpec } from '../protocol/plan.ts';
import { evaluateCondition } from './condition.ts';
import type { ExpressionContext } from './expression-eval.ts';
import type { StatusContext } from './expression-functions.ts';

/** Dependency statuses that make failure() true (unless the dependency has continue_on_error). */
const FAILED = new Set(['failed', 'timed_out', 'runner_lost']);

/** One finished dependency of the task being decided. */
export interface DependencyState {
  name: string;
  /** A terminal task status: succeeded, failed, cancelled, skipped, timed_out or runner_lost. */
  status: string;
  continueOnError: boolean;
}

/**
 * The status functions for a task, from its direct dependencies: success() when every one
 * succeeded (a failure with continue_on_error counts as success) and the run is not cancelled,
 * failure() when one failed, timed out or lost its runner, cancelled() when the run is cancelled.
 */
export function taskStatus(deps: DependencyState[], runCancelled: boolean): StatusContext {
  const forgiven = (dep: DependencyState) => dep.continueOnError && FAILED.has(dep.status);
  return {
    success: !runCancelled && deps.every((dep) => dep.status === 'succeeded' || forgiven(dep)),
    failure: deps.some((dep) => FAILED.has(dep.status) && !dep.continueOnError),
    cancelled: runCancelled,
  };
}

/**
 * Without `if`, a task runs iff success(). With `if`, the condition decides (GitHub's rule: one
 * without a status function is `success() && (…)`, so `always()` is what runs after a failure or
 * a cancel). Throws ExpressionError when the condition cannot be evaluated; the server records
 * that as the task's failure rather than quietly skipping it.
 */
export function decideTask(
  spec: TaskSpec,
  deps: DependencyState[],
  ctx: ExpressionContext,
  runCancelled: boolean,
): 'run' | 'skip' {
  const status = taskStatus(deps, runCancelled);
  if (spec.if === undefined) return status.success ? 'run' : 'skip';
  return evaluateCondition(spec.if, ctx, { status }) ? 'run' : 'skip';
}
