// The task state machine on the runner's side: claim (offer), start, heartbeat, log chunks, complete, and the
// sweeps that expire unconfirmed offers and lost leases.
//
// A task is `pending` until its dependencies finish, then `queued`. A claim moves it to `running` and creates
// attempt N in state `offered` with an acknowledgement deadline. The runner confirms with `start` (attempt
// `running`, lease TTL counting) or the sweep withdraws the offer (attempt `expired`, task back to `queued`
// with its original place in the queue). While `running`, heartbeats renew the lease; `complete` records the
// outcome (attempt `finished`, task final). A lease that runs out makes the attempt `lost` and the task
// `runner_lost`. Every transition is one conditional update on the state it leaves, inside a write transaction
// that first checks the lease, so a stale runner can never write over a newer attempt (fencing).
import type { Transaction } from 'kysely';
import { BatonError } from '../protocol/errors.ts';
import type { CompleteBody, LogChunk } from '../protocol/api.ts';
import type { RunStatus } from '../protocol/status.ts';
import type { StoreDialect } from './dialect.ts';
import type { AttemptRow, Database, TaskRow } from './schema.ts';
import { advanceRun, type AdvanceResult } from './advance.ts';
import { newId } from './ids.ts';
import { randomBytes } from 'node:crypto';

type Tx = Transaction<Database>;

export interface LeaseTimings {
  leaseTtlMs: number;
  ackWindowMs: number;
}

export interface Claimed {
  task: TaskRow;
  attempt: AttemptRow;
}

export interface CompleteResult {
  status: RunStatus;
  runId: string;
  taskName: string;
  advance: AdvanceResult | null;
  /** True when this call recorded the result; false for a replay of an earlier complete. */
  recorded: boolean;
}

/** How many queued tasks one claim looks at when labels rule some out. */
const CLAIM_SCAN_LIMIT = 500;

export function createLeaseStore(d: StoreDialect, timings: LeaseTimings) {
  async function liveAttempt(tx: Tx, leaseId: string, runnerId: string, now: number): Promise<AttemptRow> {
    const a = await tx.selectFrom('attempts').selectAll().where('lease_id', '=', leaseId).executeTakeFirst();
    if (!a || a.runner_id !== runnerId) throw new BatonError('not_found', `lease ${leaseId} not found`);
    if (a.state === 'expired' || a.state === 'superseded') {
      throw new BatonError(
        'lease_superseded',
        `lease ${leaseId} was withdrawn; another attempt owns the task`,
      );
    }
    if (a.state === 'lost')
      throw new BatonError('lease_expired', `lease ${leaseId} expired and the attempt was lost`);
    if (a.state === 'finished')
      throw new BatonError('lease_expired', `lease ${leaseId} belongs to a finished attempt`);
    if (a.state === 'running' && a.lease_expires_at < now) {
      throw new BatonError('lease_expired', `lease ${leaseId} expired ${now - a.lease_expires_at} ms ago`);
    }
    return a;
  }

  return {
    /**
     * Atomically offers the oldest queued task whose `runs_on` labels the runner all carries.
     * Returns undefined when none matches.
     */
    async claim(runnerId: string, labels: string[], now: number): Promise<Claimed | undefined> {
      const have = new Set(labels);
      return d.writeTx(async (tx) => {
        const candidates = await tx
          .selectFrom('tasks')
          .selectAll()
          .where('status', '=', 'queued')
          .orderBy('queued_at')
          .orderBy('id')
          .limit(CLAIM_SCAN_LIMIT)
          .execute();
        const task = candidates.find((t) => (JSON.parse(t.runs_on) as string[]).every((l) => have.has(l)));
        if (!task) return undefined;
        const number = task.attempt + 1;
        await tx
          .updateTable('tasks')
          .set({ status: 'running', attempt: number, runner_id: runnerId })
          .where('id', '=', task.id)
          .where('status', '=', 'queued')
          .execute();
        const attempt: AttemptRow = {
          id: newId(now),
          task_id: task.id,
          run_id: task.run_id,
          number,
          runner_id: runnerId,
          lease_id: randomBytes(16).toString('hex'),
          state: 'offered',
          offered_at: now,
          ack_deadline: now + timings.ackWindowMs,
          lease_expires_at: now + timings.leaseTtlMs,
          started_at: null,
          finished_at: null,
          cancel_requested: 0,
          result: null,
        };
        await tx.insertInto('attempts').values(attempt).execute();
        await tx
          .updateTable('runs')
          .set({ status: 'running', started_at: now })
          .where('id', '=', task.run_id)
          .where('status', '=', 'queued')
          .execute();
        return { task: { ...task, status: 'running', attempt: number, runner_id: runnerId }, attempt };
      });
    },

    /** Confirms an offer. Idempotent: a second start on a running attempt just renews the lease. */
    async start(leaseId: string, runnerId: string, now: number) {
      return d.writeTx(async (tx) => {
        const a = await liveAttempt(tx, leaseId, runnerId, now);
        if (a.state === 'offered' && a.ack_deadline < now) {
          throw new BatonError(
            'lease_superseded',
            `offer ${leaseId} was not confirmed within the acknowledgement window`,
          );
        }
        const expires = now + timings.leaseTtlMs;
        await tx
          .updateTable('attempts')
          .set({ state: 'running', started_at: a.started_at ?? now, lease_expires_at: expires })
          .where('id', '=', a.id)
          .where('state', 'in', ['offered', 'running'])
          .execute();
        if (a.state === 'offered') {
          await tx
            .updateTable('tasks')
            .set({ started_at: now })
            .where('id', '=', a.task_id)
            .where('attempt', '=', a.number)
            .execute();
        }
        return { leaseExpiresAt: expires, cancel: a.cancel_requested === 1, attempt: a };
      });
    },

    async heartbeat(leaseId: string, runnerId: string, now: number) {
      return d.writeTx(async (tx) => {
        const a = await liveAttempt(tx, leaseId, runnerId, now);
        const expires = now + timings.leaseTtlMs;
        await tx
          .updateTable('attempts')
          .set({ lease_expires_at: expires })
          .where('id', '=', a.id)
          .where('state', 'in', ['offered', 'running'])
          .execute();
        return { leaseExpiresAt: expires, cancel: a.cancel_requested === 1 };
      });
    },

    /** Stores chunks exactly once (duplicates by seq are ignored) and answers the contiguous acknowledged seq. */
    async appendLogs(leaseId: string, runnerId: string, chunks: LogChunk[], now: number) {
      return d.writeTx(async (tx) => {
        const a = await liveAttempt(tx, leaseId, runnerId, now);
        let end = 0;
        if (chunks.length > 0) {
          const rows = chunks.map((c) => ({
            task_id: a.task_id,
            attempt: a.number,
            seq: c.seq,
            offset: c.offset,
            data: c.data,
          }));
          for (let i = 0; i < rows.length; i += 100) {
            await tx
              .insertInto('log_chunks')
              .values(rows.slice(i, i + 100))
              .onConflict((oc) => oc.columns(['task_id', 'attempt', 'seq']).doNothing())
              .execute();
          }
          for (const c of chunks) end = Math.max(end, c.offset + Buffer.byteLength(c.data));
          await tx
            .updateTable('tasks')
            .set((eb) => ({ log_bytes: eb.fn('max', [eb.ref('log_bytes'), eb.val(end)]) }))
            .where('id', '=', a.task_id)
            .where('attempt', '=', a.number)
            .execute();
        }
        const ackedSeq = await contiguousSeq(tx, a.task_id, a.number);
        return { ackedSeq, cancel: a.cancel_requested === 1, taskId: a.task_id, attempt: a.number };
      });
    },

    /** Records the outcome once; a replay of `complete` on the same lease returns the first answer. */
    async complete(
      leaseId: string,
      runnerId: string,
      body: CompleteBody,
      now: number,
    ): Promise<CompleteResult> {
      return d.writeTx(async (tx) => {
        const prior = await tx
          .selectFrom('attempts')
          .selectAll()
          .where('lease_id', '=', leaseId)
          .executeTakeFirst();
        if (prior && prior.runner_id === runnerId && prior.state === 'finished' && prior.result !== null) {
          const task = await tx
            .selectFrom('tasks')
            .select(['name', 'run_id'])
            .where('id', '=', prior.task_id)
            .executeTakeFirstOrThrow();
          const first = JSON.parse(prior.result) as { status: RunStatus };
          return {
            status: first.status,
            runId: task.run_id,
            taskName: task.name,
            advance: null,
            recorded: false,
          };
        }
        const a = await liveAttempt(tx, leaseId, runnerId, now);
        await tx
          .updateTable('attempts')
          .set({ state: 'finished', finished_at: now, result: JSON.stringify(body) })
          .where('id', '=', a.id)
          .where('state', 'in', ['offered', 'running'])
          .execute();
        await tx
          .updateTable('tasks')
          .set({
            status: body.status,
            exit_code: body.exitCode,
            reason: body.reason ?? (body.status === 'succeeded' ? null : 'exit_code'),
            message: body.message ?? null,
            outputs: JSON.stringify(body.outputs),
            finished_at: now,
          })
          .where('id', '=', a.task_id)
          .where('status', '=', 'running')
          .where('attempt', '=', a.number)
          .execute();
        const task = await tx
          .selectFrom('tasks')
          .select(['name', 'run_id'])
          .where('id', '=', a.task_id)
          .executeTakeFirstOrThrow();
        const advance = await advanceRun(tx, task.run_id, now);
        return { status: body.status, runId: task.run_id, taskName: task.name, advance, recorded: true };
      });
    },

    /** Withdraws offers past their acknowledgement deadline and marks attempts whose lease ran out as lost. */
    async sweep(now: number) {
      return d.writeTx(async (tx) => {
        const requeued: Array<{ runId: string; task: string }> = [];
        const lost: Array<{ runId: string; task: string; advance: AdvanceResult }> = [];
        const stale = await tx
          .selectFrom('attempts')
          .selectAll()
          .where('state', 'in', ['offered', 'running'])
          .where((eb) =>
            eb.or([
              eb.and([eb('state', '=', 'offered'), eb('ack_deadline', '<', now)]),
              eb('lease_expires_at', '<', now),
            ]),
          )
          .execute();
        for (const a of stale) {
          const task = await tx
            .selectFrom('tasks')
            .select(['name', 'run_id'])
            .where('id', '=', a.task_id)
            .executeTakeFirstOrThrow();
          if (a.state === 'offered') {
            await tx
              .updateTable('attempts')
              .set({ state: 'expired', finished_at: now })
              .where('id', '=', a.id)
              .where('state', '=', 'offered')
              .execute();
            await tx
              .updateTable('tasks')
              .set({ status: 'queued', runner_id: null })
              .where('id', '=', a.task_id)
              .where('status', '=', 'running')
              .where('attempt', '=', a.number)
              .execute();
            requeued.push({ runId: task.run_id, task: task.name });
            continue;
          }
          const silentS = Math.round((now - (a.lease_expires_at - timings.leaseTtlMs)) / 1000);
          await tx
            .updateTable('attempts')
            .set({ state: 'lost', finished_at: now })
            .where('id', '=', a.id)
            .where('state', '=', 'running')
            .execute();
          await tx
            .updateTable('tasks')
            .set({
              status: 'runner_lost',
              reason: 'runner_lost',
              message: `runner lost: no heartbeat for ${silentS}s`,
              finished_at: now,
            })
            .where('id', '=', a.task_id)
            .where('status', '=', 'running')
            .where('attempt', '=', a.number)
            .execute();
          lost.push({ runId: task.run_id, task: task.name, advance: await advanceRun(tx, task.run_id, now) });
        }
        return { requeued, lost };
      });
    },

    /** Attempts currently holding a lease, per runner (for runner status). */
    async activeByRunner(): Promise<Map<string, number>> {
      const rows = await d.db
        .selectFrom('attempts')
        .select(['runner_id'])
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('state', 'in', ['offered', 'running'])
        .groupBy('runner_id')
        .execute();
      return new Map(rows.map((r) => [r.runner_id, Number(r.n)]));
    },
  };
}

async function contiguousSeq(tx: Tx, taskId: string, attempt: number): Promise<number> {
  const agg = await tx
    .selectFrom('log_chunks')
    .select((eb) => [eb.fn.max<number>('seq').as('max'), eb.fn.countAll<number>().as('n')])
    .where('task_id', '=', taskId)
    .where('attempt', '=', attempt)
    .executeTakeFirstOrThrow();
  if (agg.max === null || Number(agg.n) === 0) return -1;
  if (Number(agg.n) === Number(agg.max) + 1) return Number(agg.max);
  const seqs = await tx
    .selectFrom('log_chunks')
    .select('seq')
    .where('task_id', '=', taskId)
    .where('attempt', '=', attempt)
    .orderBy('seq')
    .execute();
  let acked = -1;
  for (const s of seqs) {
    if (s.seq !== acked + 1) break;
    acked = s.seq;
  }
  return acked;
}

export type LeaseStore = ReturnType<typeof createLeaseStore>;
