// A runner's work as its attempts record it: the tasks it holds now (offered or running) and the ones it
// finished most recently. Read-only; the state machine that writes attempts lives in leases.ts.
import type { StoreDialect } from './dialect.ts';

/** One attempt of a task on a runner, with its run's and task's names. */
export interface RunnerAttemptRow {
  attempt_id: string;
  run_id: string;
  run_name: string;
  task_id: string;
  task_name: string;
  /** The task's status now (for a finished attempt: possibly a later attempt's, or `queued` for a retry). */
  task_status: string;
  number: number;
  /** `offered` or `running` (current); `finished` or `lost` (recent). */
  state: string;
  offered_at: number;
  started_at: number | null;
  finished_at: number | null;
  /** The runner's `complete` report and the server's answer, as JSON (finished attempts only). */
  result: string | null;
}

export function createRunnerTaskStore(d: StoreDialect) {
  const attempts = (runnerId: string) =>
    d.db
      .selectFrom('attempts as a')
      .innerJoin('tasks as t', 't.id', 'a.task_id')
      .innerJoin('runs as r', 'r.id', 'a.run_id')
      .select([
        'a.id as attempt_id',
        'a.run_id',
        'r.name as run_name',
        'a.task_id',
        't.name as task_name',
        't.status as task_status',
        'a.number',
        'a.state',
        'a.offered_at',
        'a.started_at',
        'a.finished_at',
        'a.result',
      ])
      .where('a.runner_id', '=', runnerId);

  return {
    /** Attempts the runner holds a lease for, oldest offer first (attempts_by_runner). */
    async current(runnerId: string): Promise<RunnerAttemptRow[]> {
      return attempts(runnerId)
        .where('a.state', 'in', ['offered', 'running'])
        .orderBy('a.offered_at')
        .orderBy('a.id')
        .execute();
    },

    /**
     * The runner's last `limit` attempts that ran and ended — reported (`finished`) or given up on by the reaper
     * (`lost`) — newest first. Offers it never confirmed (`expired`) are not work it did and are left out.
     * attempts_by_runner_finished lets this walk the runner's newest attempts instead of sorting all of them.
     */
    async recent(runnerId: string, limit: number): Promise<RunnerAttemptRow[]> {
      if (limit <= 0) return [];
      return attempts(runnerId)
        .where('a.state', 'in', ['finished', 'lost'])
        .orderBy('a.finished_at', 'desc')
        .orderBy('a.id', 'desc')
        .limit(limit)
        .execute();
    },
  };
}

export type RunnerTaskStore = ReturnType<typeof createRunnerTaskStore>;
