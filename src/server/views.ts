// Turns stored rows into the API's shapes (run result, run summary, runner view, a runner's tasks).
import type {
  CompleteBody,
  RunResult,
  RunSummary,
  RunnerStatusBody,
  RunnerTask,
  RunnerView,
  TaskGroupResult,
  TaskGroupStatus,
  StepRecord,
  TaskResult,
} from '../protocol/api.ts';
import type { Annotation, StepSummary } from '../protocol/annotation-limits.ts';
import type { TaskSpec } from '../protocol/plan.ts';
import type { RunStatus } from '../protocol/status.ts';
import type { RunnerGives } from '../store/leases.ts';
import type { RunnerAttemptRow } from '../store/runner-tasks.ts';
import type { RunRow, RunnerRow, TaskRow } from '../store/schema.ts';

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** What the API shows instead of a confidential value. */
export const REDACTED = '***';

function redact(outputs: Record<string, string>, confidential: Set<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(outputs)) out[k] = confidential.has(k) ? REDACTED : v;
  return out;
}

export function taskResult(t: TaskRow, runnerNames: Map<string, string>): TaskResult {
  const confidential = new Set(JSON.parse(t.confidential_outputs) as string[]);
  return {
    id: t.id,
    name: t.name,
    status: t.status as RunStatus,
    attempt: t.attempt,
    exitCode: t.exit_code,
    reason: t.reason,
    message: t.message,
    outputs: redact(JSON.parse(t.outputs) as Record<string, string>, confidential),
    dependsOn: JSON.parse(t.depends_on) as string[],
    runsOn: JSON.parse(t.runs_on) as string[],
    startedAt: iso(t.started_at),
    finishedAt: iso(t.finished_at),
    runner: t.runner_id === null ? null : (runnerNames.get(t.runner_id) ?? t.runner_id),
    logBytes: t.log_bytes,
    logTruncated: t.log_truncated === 1,
    ...(t.steps === null ? {} : { steps: JSON.parse(t.steps) as StepRecord[] }),
    ...(t.cache_key === null ? {} : { cacheKey: t.cache_key }),
    ...(t.cache_hit === 1 ? { cached: true, cacheAgeMs: t.cache_age_ms ?? 0 } : {}),
    ...(t.annotations === null ? {} : { annotations: JSON.parse(t.annotations) as Annotation[] }),
    ...(t.summaries === null ? {} : { summaries: JSON.parse(t.summaries) as StepSummary[] }),
  };
}

export function runResult(run: RunRow, tasks: TaskRow[], runnerNames: Map<string, string>): RunResult {
  const results: Record<string, TaskResult> = {};
  const confidential = new Set<string>();
  for (const t of tasks) {
    results[t.name] = taskResult(t, runnerNames);
    for (const name of JSON.parse(t.confidential_outputs) as string[]) confidential.add(name);
  }
  return {
    id: run.id,
    name: run.name,
    status: run.status as RunStatus,
    createdAt: new Date(run.created_at).toISOString(),
    startedAt: iso(run.started_at),
    finishedAt: iso(run.finished_at),
    inputs: JSON.parse(run.inputs) as Record<string, string>,
    outputs: redact(JSON.parse(run.outputs) as Record<string, string>, confidential),
    results,
  };
}

const GROUP_STATUS: Record<RunStatus, TaskGroupStatus> = {
  pending: 'pending',
  queued: 'pending',
  running: 'running',
  succeeded: 'success',
  failed: 'failed',
  cancelled: 'failed',
  timed_out: 'failed',
  runner_lost: 'failed',
  skipped: 'skipped',
};

/**
 * The Harness "Task Group Result": per task its id, name, status in the design's words and its `global` exports
 * only — those it declared and wrote, a confidential one as `***` (its value never leaves the server in plain).
 */
export function taskGroupResult(run: RunRow, tasks: TaskRow[]): TaskGroupResult {
  const results: TaskGroupResult['results'] = {};
  for (const t of tasks) {
    const spec = JSON.parse(t.spec) as TaskSpec;
    const written = JSON.parse(t.outputs) as Record<string, string>;
    const confidential = new Set(JSON.parse(t.confidential_outputs) as string[]);
    const outputs: Record<string, string> = {};
    for (const e of spec.exports) {
      const value = written[e.name];
      if (e.scope !== 'global' || value === undefined) continue;
      outputs[e.name] = e.confidential || confidential.has(e.name) ? REDACTED : value;
    }
    results[t.name] = { name: t.name, id: t.id, status: GROUP_STATUS[t.status as RunStatus], outputs };
  }
  return { id: run.id, results };
}

export function runSummary(
  r: Pick<RunRow, 'id' | 'name' | 'status' | 'created_at' | 'started_at' | 'finished_at' | 'submitted_by'> & {
    task_count: number | string | null;
    tasks_done: number | string | null;
  },
): RunSummary {
  return {
    id: r.id,
    name: r.name,
    status: r.status as RunStatus,
    createdAt: new Date(r.created_at).toISOString(),
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    taskCount: Number(r.task_count ?? 0),
    tasksDone: Number(r.tasks_done ?? 0),
    submittedBy: r.submitted_by,
  };
}

/**
 * A runner heartbeats its leases while busy and pings (`POST /api/v1/runner/status`) while its long polls wait,
 * both every heartbeat interval, and the server records it to the second: three missed intervals and two such
 * seconds, and it is offline — offered no task, its held long polls ended (dispatch.ts).
 */
export function runnerOfflineAfterMs(c: { heartbeatIntervalMs: number }): number {
  return 3 * c.heartbeatIntervalMs + 2 * LAST_SEEN_RESOLUTION_MS;
}

/** The server records a runner's last-seen time to this resolution: one write per second per runner at most. */
export const LAST_SEEN_RESOLUTION_MS = 1_000;

/** The runner's last status report; undefined until it sent one. */
export function runnerReport(r: RunnerRow): RunnerStatusBody | undefined {
  return r.status_json && r.status_json !== '{}'
    ? (JSON.parse(r.status_json) as RunnerStatusBody)
    : undefined;
}

/** What a runner can give a task by its last report; a runner that never reported gives nothing beyond `host`. */
export function runnerGives(report: RunnerStatusBody | undefined): RunnerGives {
  return {
    sandbox: report?.isolation === 'sandbox',
    networkIsolation: report?.networkIsolation === true,
    limits: report?.limits === true,
    drivers: (report?.drivers ?? []).map((d) => d.type),
  };
}

/**
 * A runner as the API shows it. Its status, first match wins (RUNNER_STATUSES): disabled, offline, draining,
 * busy, idle. Offline comes before draining and busy: a runner that drained and exited keeps `draining` in its
 * last report, and one that went silent with a task still holds its lease until the reaper ends it.
 */
export function runnerView(r: RunnerRow, active: number, now: number, offlineAfterMs: number): RunnerView {
  const report = runnerReport(r);
  let status: RunnerView['status'];
  if (r.disabled === 1) status = 'disabled';
  else if (r.last_seen_at === null || now - r.last_seen_at > offlineAfterMs) status = 'offline';
  else if (report?.draining === true) status = 'draining';
  else if (active > 0) status = 'busy';
  else status = 'idle';
  return {
    id: r.id,
    name: r.name,
    labels: JSON.parse(r.labels) as string[],
    capacity: r.capacity,
    version: r.version,
    status,
    activeTasks: active,
    createdAt: new Date(r.created_at).toISOString(),
    lastSeenAt: iso(r.last_seen_at),
    ...(r.ephemeral === 1 ? { ephemeral: true } : {}),
    ...(report ? { report } : {}),
  };
}

/** The reason the store records when a runner's report gives none (store/leases.ts, complete). */
function defaultReason(status: RunStatus): string | null {
  if (status === 'succeeded') return null;
  if (status === 'timed_out') return 'timeout';
  if (status === 'cancelled') return 'cancelled';
  return 'exit_code';
}

/**
 * One attempt on a runner's page. A finished attempt's outcome is the runner's own report (the task's status
 * may since belong to a retry); only its status, reason and exit code are read from it, never its outputs.
 */
export function runnerTask(a: RunnerAttemptRow): RunnerTask {
  let status: RunStatus = 'running';
  let reason: string | null = null;
  let exitCode: number | null = null;
  if (a.state === 'lost') {
    status = 'runner_lost';
    reason = 'runner_lost';
  } else if (a.state === 'finished') {
    const report = a.result ? (JSON.parse(a.result) as { report?: CompleteBody }).report : undefined;
    status = report?.status ?? (a.task_status as RunStatus);
    reason = report?.reason ?? defaultReason(status);
    exitCode = report?.exitCode ?? null;
  }
  return {
    runId: a.run_id,
    runName: a.run_name,
    task: a.task_name,
    attempt: a.number,
    status,
    reason,
    exitCode,
    offeredAt: new Date(a.offered_at).toISOString(),
    startedAt: iso(a.started_at),
    finishedAt: iso(a.finished_at),
    durationMs:
      a.started_at !== null && a.finished_at !== null ? Math.max(0, a.finished_at - a.started_at) : null,
  };
}
