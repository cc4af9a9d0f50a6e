// Moves a run forward after any task reached a final state: queue ready tasks, skip those whose
// dependencies failed, and close the run when every task is final. Runs inside the caller's write transaction.
import type { Transaction } from 'kysely';
import type { Database, TaskRow } from './schema.ts';
import { isTerminal, type RunStatus } from '../protocol/status.ts';

export interface AdvanceResult {
  queued: string[];
  skipped: string[];
  runStatus: RunStatus | null;
}

type Tx = Transaction<Database>;

export async function advanceRun(tx: Tx, runId: string, now: number): Promise<AdvanceResult> {
  const tasks = await tx
    .selectFrom('tasks')
    .select(['id', 'name', 'status', 'depends_on'])
    .where('run_id', '=', runId)
    .execute();
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const result: AdvanceResult = { queued: [], skipped: [], runStatus: null };
  // Skips cascade: repeat until nothing changes (bounded by the task count).
  let changed = true;
  while (changed) {
    changed = false;
    for (const t of tasks) {
      if (t.status !== 'pending') continue;
      const deps = (JSON.parse(t.depends_on) as string[]).map((d) => byName.get(d));
      if (deps.some((d) => d !== undefined && isTerminal(d.status) && d.status !== 'succeeded')) {
        await setPendingStatus(tx, t, 'skipped', now, 'dependency_failed', dependencyMessage(deps));
        result.skipped.push(t.name);
        changed = true;
      } else if (deps.every((d) => d?.status === 'succeeded')) {
        await setPendingStatus(tx, t, 'queued', now, null, null);
        result.queued.push(t.name);
        changed = true;
      }
    }
  }
  if (tasks.every((t) => isTerminal(t.status))) {
    result.runStatus = await finishRun(tx, runId, tasks, now);
  }
  return result;
}

function dependencyMessage(deps: Array<{ name: string; status: string } | undefined>): string {
  const bad = deps.filter((d) => d !== undefined && isTerminal(d.status) && d.status !== 'succeeded');
  return `skipped: dependency ${bad.map((d) => `'${d?.name}' ${d?.status}`).join(', ')}`;
}

async function setPendingStatus(
  tx: Tx,
  t: Pick<TaskRow, 'id' | 'status'>,
  status: 'queued' | 'skipped',
  now: number,
  reason: string | null,
  message: string | null,
): Promise<void> {
  const res = await tx
    .updateTable('tasks')
    .set(status === 'queued' ? { status, queued_at: now } : { status, reason, message, finished_at: now })
    .where('id', '=', t.id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  if (res.numUpdatedRows > 0n) t.status = status;
}

async function finishRun(
  tx: Tx,
  runId: string,
  tasks: Array<{ status: string }>,
  now: number,
): Promise<RunStatus | null> {
  const run = await tx
    .selectFrom('runs')
    .select(['status', 'cancel_requested'])
    .where('id', '=', runId)
    .executeTakeFirstOrThrow();
  if (isTerminal(run.status)) return null;
  let status: RunStatus;
  if (tasks.every((t) => t.status === 'succeeded')) status = 'succeeded';
  else if (run.cancel_requested === 1) status = 'cancelled';
  else status = 'failed';
  await tx
    .updateTable('runs')
    .set({ status, finished_at: now })
    .where('id', '=', runId)
    .where('status', 'not in', ['succeeded', 'failed', 'cancelled', 'skipped', 'timed_out', 'runner_lost'])
    .execute();
  return status;
}
