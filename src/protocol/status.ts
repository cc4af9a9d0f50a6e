// Status vocabularies shared by the database, the wire and the UI: one lowercase string per state.

export const RUN_STATUSES = [
  'pending',
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
  'timed_out',
  'runner_lost',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A task has the same statuses as a run. */
export const TASK_STATUSES = RUN_STATUSES;
export type TaskStatus = RunStatus;

export const TERMINAL_STATUSES: readonly TaskStatus[] = [
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
  'timed_out',
  'runner_lost',
];

export function isTerminal(status: string): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** How one attempt ended, as the runner reports it in `complete`. */
export const OUTCOMES = ['succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Machine reason codes that explain an outcome beyond its status. */
export const REASONS = [
  'exit_code',
  'timeout',
  'cancelled',
  'runner_lost',
  'dependency_failed',
  'spawn_failed',
  'disk_full',
  'setup_failed',
  'invalid_output_file',
  'offer_expired',
  'out_of_memory',
  'unsafe_archive',
  'env_too_large',
  // A custom type's CGI driver answered a status above 299, or a response Baton could not read (docs/drivers.md).
  'driver_failed',
] as const;
export type Reason = (typeof REASONS)[number];

/**
 * How the server sees a runner, first match wins: `disabled` (an admin turned it off), `offline` (not heard from
 * in two long polls and a heartbeat interval — also a runner that drained and exited), `draining` (it was told
 * to stop: it finishes its running tasks and takes no new ones), `busy` (it holds a lease), `idle`.
 */
export const RUNNER_STATUSES = ['idle', 'busy', 'draining', 'offline', 'disabled'] as const;
export type RunnerStatus = (typeof RUNNER_STATUSES)[number];

/**
 * `?shape=` of `GET /api/v1/runs/:id`: `run` (the default, RunResult) or `task-group` (TaskGroupResult, the
 * Harness design's task-group result). Here, not in api.ts, so the CLI's commands load no schema library.
 */
export const RUN_SHAPES = ['run', 'task-group'] as const;
export type RunShape = (typeof RUN_SHAPES)[number];
