// A run's final status as a pure function of its tasks' outcomes: the one table of docs/api.md ("Run status").
//
// The table, first row that applies wins:
//   1. some task is not final                                          → none yet (the run goes on)
//   2. a cancel was requested and some task ended `cancelled`          → `cancelled` (the user's request ended it)
//   3. some task ended `failed`, `timed_out` or `runner_lost`          → `failed`
//   4. some task ended `cancelled` (no cancel request: e.g. a second SIGTERM on its runner) → `cancelled`
//   5. otherwise (every task `succeeded` or `skipped`)                  → `succeeded`
// A task with `continue_on_error` that ended `failed`, `timed_out` or `runner_lost` does not decide the run (its
// failure was declared acceptable); a `cancelled` one still does, since it did not run to its end.
// A failure outranks a cancellation without a request: such a cancellation is most often the consequence of a
// failure (a fail-fast matrix), and `failed` is what the user must act on. The run keeps the statuses it always
// had (`failed` covers a task's timeout and a lost runner; the task's own status says which), so scripts and
// `?status=failed` filters see every unsuccessful run that did not end by cancellation.
import { isTerminal, type RunStatus } from '../protocol/status.ts';

export interface TaskOutcome {
  status: string;
  continueOnError: boolean;
}

/** Task statuses that are failures: they make the run `failed` unless the task has `continue_on_error`. */
export const FAILURE_STATUSES: readonly string[] = ['failed', 'timed_out', 'runner_lost'];

/** The run's final status once every task is final, else undefined. */
export function deriveRunStatus(
  tasks: readonly TaskOutcome[],
  cancelRequested: boolean,
): RunStatus | undefined {
  if (!tasks.every((t) => isTerminal(t.status))) return undefined;
  const deciding = new Set(
    tasks.filter((t) => !(t.continueOnError && FAILURE_STATUSES.includes(t.status))).map((t) => t.status),
  );
  if (cancelRequested && deciding.has('cancelled')) return 'cancelled';
  if (FAILURE_STATUSES.some((s) => deciding.has(s))) return 'failed';
  if (deciding.has('cancelled')) return 'cancelled';
  return 'succeeded';
}
