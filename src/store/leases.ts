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
//
// Several server processes may share the database (PostgreSQL): the lease check locks the attempt's row, so
// a runner's writes, the reaper and a replayed `complete` on one attempt happen one after the other; a claim
// locks only the task it takes (`SKIP LOCKED`), and a sweep only the attempts no one else is handling.
import type { Transaction } from 'kysely';
import { canTake, type ClaimCandidate, type ClaimingRunner } from './placement.ts';
import { greatest, lockRows, lockRowsSkipLocked, withoutNul } from './dialect.ts';
import { BatonError } from '../protocol/errors.ts';
import type { CompleteBody, LogChunk } from '../protocol/api.ts';
import type { RunStatus } from '../protocol/status.ts';
import type { StoreDialect } from './dialect.ts';
import type { AttemptRow, Database, TaskRow } from './schema.ts';
import { advanceRun, type AdvanceResult, type RunPolicy } from './advance.ts';
import type { TaskSpec } from '../protocol/plan.ts';
import type { SealedOutputs } from '../protocol/relay.ts';
import { newId } from './ids.ts';
import { checkLogOffsets } from './log-offsets.ts';
import type { LogBytesChunk, LogFiles } from './logs.ts';
import { recordCacheReport } from './cache.ts';
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

export type { ClaimingRunner, RunnerGives } from './placement.ts';

/**
 * How the dispatcher steers one claim. `yieldTo` is asked about each task the runner may take, before it is
 * locked: true leaves it queued for a better waiting runner. `claimed` is called inside the transaction once the
 * task is this runner's, so the next claim already sees it counted.
 */
export interface ClaimPolicy {
  yieldTo?: (task: ClaimCandidate) => boolean;
  claimed?: (task: TaskRow) => void;
  /** A runner not heard from since this time (ms) is silent: its claim takes nothing. */
  silentBefore?: number;
}

/** What ended an attempt: the runner's report, or the reaper's verdict. */
interface AttemptEnd {
  status: RunStatus;
  reason: string | null;
  message: string | null;
  exitCode: number | null;
  outputs: Record<string, string>;
  confidential: string[];
  /** A `secret` task's outputs sealed by its runner (protocol/relay.ts): stored instead of any value. */
  sealedOutputs?: SealedOutputs;
}

export interface CompleteResult {
  status: RunStatus;
  /** Set when the attempt failed and the task was queued again for a retry at this time (ms). */
  retryAt?: number;
  runId: string;
  taskName: string;
  advance: AdvanceResult | null;
  /** True when this call recorded the result; false for a replay of an earlier complete. */
  recorded: boolean;
}

export interface AppendLogsOptions {
  /** Where new chunks' bytes go (the server's log files); without it they are stored as text rows. */
  files?: LogFiles;
  /** The attempt the chunks name (binary upload): refused unless it is the lease's. */
  attempt?: number;
}

/**
 * Attempts whose acknowledged log seq this process remembers (appendLogs): past it, the oldest is forgotten and
 * its next append counts its chunks from the start once.
 */
const ACKED_HINTS = 4096;

/** How many queued tasks one claim looks at when labels rule some out. */
const CLAIM_SCAN_LIMIT = 500;
/** The first page of candidates; each next page is 8× larger, up to the scan limit. */
const CLAIM_FIRST_PAGE = 8;

export function createLeaseStore(d: StoreDialect, timings: LeaseTimings, policy: RunPolicy) {
  /**
   * The contiguous seq last acknowledged per live attempt (`task#attempt`), set only once the transaction that
   * stored those chunks committed. Every chunk up to it is stored for good (a live attempt's chunks are never
   * deleted), so the next append counts only the chunks after it: a task that trickles its log for hours sends
   * tens of thousands of chunks, and counting them all at every append made each one slower than the last.
   */
  const ackedHints = new Map<string, number>();
  const hintKey = (taskId: string, attempt: number) => `${taskId}#${attempt}`;
  const rememberAcked = (key: string, seq: number): void => {
    if (seq <= (ackedHints.get(key) ?? -1)) return;
    ackedHints.delete(key); // re-inserted last: the Map's order is least recently acknowledged first
    if (ackedHints.size >= ACKED_HINTS) ackedHints.delete(ackedHints.keys().next().value!);
    ackedHints.set(key, seq);
  };

  async function liveAttempt(tx: Tx, leaseId: string, runnerId: string, now: number): Promise<AttemptRow> {
    const a = await tx
      .selectFrom('attempts')
      .selectAll()
      .where('lease_id', '=', leaseId)
      .$call(lockRows(d.capabilities))
      .executeTakeFirst();
    if (!a || a.runner_id !== runnerId) throw new BatonError('not_found', `lease ${leaseId} not found`);
    if (a.state === 'expired' || a.state === 'superseded') {
      throw new BatonError(
        'lease_superseded',
        `lease ${leaseId} was withdrawn; another attempt owns the task`,
      );
    }
    if (a.state === 'lost') {
      // Once the task moved on to a newer attempt, this one is not merely expired but replaced.
      const task = await tx
        .selectFrom('tasks')
        .select('attempt')
        .where('id', '=', a.task_id)
        .executeTakeFirstOrThrow();
      if (task.attempt > a.number) {
        throw new BatonError(
          'lease_superseded',
          `lease ${leaseId} expired and attempt ${task.attempt} of the task took over`,
        );
      }
      throw new BatonError('lease_expired', `lease ${leaseId} expired and the attempt was lost`);
    }
    if (a.state === 'finished')
      throw new BatonError('lease_expired', `lease ${leaseId} belongs to a finished attempt`);
    if (a.state === 'running' && a.lease_expires_at < now) {
      throw new BatonError('lease_expired', `lease ${leaseId} expired ${now - a.lease_expires_at} ms ago`);
    }
    return a;
  }

  /**
   * Returns an unconfirmed offer to the queue. The sweep (`refund` false) keeps the attempt as `expired`: the
   * runner may have received it. A runner that answered it never started the task (a push runner at capacity,
   * `refund` true) did no work: the attempt is removed and the task's count goes back, so no attempt is spent.
   */
  async function requeueOffer(tx: Tx, a: AttemptRow, now: number, refund: boolean): Promise<void> {
    if (refund)
      await tx.deleteFrom('attempts').where('id', '=', a.id).where('state', '=', 'offered').execute();
    else
      await tx
        .updateTable('attempts')
        .set({ state: 'expired', finished_at: now })
        .where('id', '=', a.id)
        .where('state', '=', 'offered')
        .execute();
    await tx
      .updateTable('tasks')
      .set({ status: 'queued', runner_id: null, ...(refund ? { attempt: a.number - 1 } : {}) })
      .where('id', '=', a.task_id)
      .where('status', '=', 'running')
      .where('attempt', '=', a.number)
      .execute();
    await d.notifyQueued(tx);
  }

  /**
   * Records how an attempt ended: either the task is queued again for a retry (its policy allows one for this
   * outcome) or it takes the outcome as its final status, its global exports join the run's outputs, and the
   * run moves on.
   */
  async function endAttempt(
    tx: Tx,
    a: AttemptRow,
    end: AttemptEnd,
    now: number,
  ): Promise<Omit<CompleteResult, 'recorded'>> {
    const task = await tx
      .selectFrom('tasks')
      .select(['name', 'run_id', 'spec'])
      .where('id', '=', a.task_id)
      .executeTakeFirstOrThrow();
    const run = await tx
      .selectFrom('runs')
      .select(['cancel_requested', 'outputs'])
      .where('id', '=', task.run_id)
      .executeTakeFirstOrThrow();
    const spec = JSON.parse(task.spec) as TaskSpec;
    const retries = spec.retries;
    const live = tx
      .updateTable('tasks')
      .where('id', '=', a.task_id)
      .where('status', '=', 'running')
      .where('attempt', '=', a.number);
    if (
      retries &&
      run.cancel_requested === 0 &&
      a.number <= retries.max &&
      (retries.on as string[]).includes(end.status)
    ) {
      const retryAt = now + retries.backoffMs * 2 ** (a.number - 1);
      const why = end.message ? `: ${end.message}` : '';
      await live
        .set({
          status: 'queued',
          queued_at: retryAt,
          runner_id: null,
          exit_code: end.exitCode,
          reason: end.reason,
          message: `attempt ${a.number} ${end.status}${why}; retry ${a.number} of ${retries.max} in ${Math.round((retryAt - now) / 1000)}s`,
        })
        .execute();
      // A retry due later is found by the waiters' own timers and backstop, not by a notice now.
      if (retryAt <= now) await d.notifyQueued(tx);
      return { status: 'queued', runId: task.run_id, taskName: task.name, advance: null, retryAt };
    }
    const sealed = spec.type === 'secret' ? end.sealedOutputs : undefined;
    if (spec.type === 'secret') {
      // Never a fetched value in plain text here (docs/adr/0014): whatever a runner put in `outputs` is dropped;
      // the names come from the envelope, every one confidential.
      end = { ...end, outputs: Object.fromEntries((sealed?.names ?? []).map((n) => [n, ''])) };
      end.confidential = Object.keys(end.outputs);
    }
    const confidential = [
      ...new Set([...spec.exports.filter((e) => e.confidential).map((e) => e.name), ...end.confidential]),
    ];
    await live
      .set({
        status: end.status,
        exit_code: end.exitCode,
        reason: end.reason,
        message: end.message,
        outputs: JSON.stringify(end.outputs),
        confidential_outputs: JSON.stringify(confidential),
        sealed_outputs: sealed === undefined ? null : JSON.stringify(sealed),
        finished_at: now,
      })
      .execute();
    if (sealed !== undefined && end.status === 'succeeded')
      await restrictDependents(tx, task.run_id, task.name, Object.keys(sealed.keys));
    const globals = spec.exports.filter((e) => e.scope === 'global' && end.outputs[e.name] !== undefined);
    if (end.status === 'succeeded' && globals.length > 0) {
      const merged = JSON.parse(run.outputs) as Record<string, string>;
      for (const e of globals) merged[e.name] = end.outputs[e.name]!;
      await tx
        .updateTable('runs')
        .set({ outputs: JSON.stringify(merged) })
        .where('id', '=', task.run_id)
        .execute();
    }
    const advance = await advanceRun(d, tx, task.run_id, now, policy);
    return { status: end.status, runId: task.run_id, taskName: task.name, advance };
  }

  return {
    /**
     * Atomically offers the oldest queued task whose `runs_on` labels the runner all carries.
     * Returns undefined when none matches.
     *
     * Candidates are read oldest first in growing pages (most claims decide on the first row) without locks;
     * the one chosen is then locked with `SKIP LOCKED` and re-checked as still queued, so concurrent claimers
     * on other connections pass over each other's task instead of waiting, and a task this runner cannot
     * take (labels, forward_to, secrets without a public key, an isolation, network cut or limits it cannot
     * give, a full max_parallel group) is never locked and hidden from one that can.
     */
    async claim(runner: ClaimingRunner, now: number, policy?: ClaimPolicy): Promise<Claimed | undefined> {
      const runnerId = runner.id;
      return d.writeTx(async (tx) => {
        if (policy?.silentBefore !== undefined) {
          // Read in the claim's own transaction: a runner frozen while its long poll is held takes nothing.
          const seen = await tx
            .selectFrom('runners')
            .select('last_seen_at')
            .where('id', '=', runnerId)
            .executeTakeFirst();
          if ((seen?.last_seen_at ?? 0) < policy.silentBefore) return undefined;
        }
        let task: TaskRow | undefined;
        let after: { queued_at: number; id: string } | undefined;
        let scanned = 0;
        let page = CLAIM_FIRST_PAGE;
        scan: while (scanned < CLAIM_SCAN_LIMIT) {
          let q = tx
            .selectFrom('tasks')
            .select([
              'id',
              'run_id',
              'runs_on',
              'spec',
              'group_name',
              'queued_at',
              'names_secrets',
              'needs_sandbox',
              'needs_network_off',
              'needs_limits',
              'relay_to',
            ])
            .where('status', '=', 'queued')
            .where('queued_at', '<=', now)
            .orderBy('queued_at')
            .orderBy('id')
            .limit(Math.min(page, CLAIM_SCAN_LIMIT - scanned));
          if (after) {
            const { queued_at, id } = after;
            q = q.where((eb) =>
              eb.or([
                eb('queued_at', '>', queued_at),
                eb.and([eb('queued_at', '=', queued_at), eb('id', '>', id)]),
              ]),
            );
          }
          const candidates = await q.execute();
          for (const t of candidates) {
            const spec = JSON.parse(t.spec) as TaskSpec;
            const candidate = { ...t, spec };
            if (!canTake(runner, candidate)) continue;
            if (spec.strategy?.maxParallel !== undefined && t.group_name !== null) {
              // The run's row lock makes concurrent claims in one group count one after the other.
              await tx
                .selectFrom('runs')
                .select('id')
                .where('id', '=', t.run_id)
                .$call(lockRows(d.capabilities))
                .execute();
              const running = await tx
                .selectFrom('tasks')
                .select((eb) => eb.fn.countAll<number>().as('n'))
                .where('run_id', '=', t.run_id)
                .where('group_name', '=', t.group_name)
                .where('status', '=', 'running')
                .executeTakeFirstOrThrow();
              if (Number(running.n) >= spec.strategy.maxParallel) continue;
            }
            if (policy?.yieldTo?.(candidate) === true) continue;
            task = await tx
              .selectFrom('tasks')
              .selectAll()
              .where('id', '=', t.id)
              .where('status', '=', 'queued')
              .$call(lockRowsSkipLocked(d.capabilities))
              .executeTakeFirst();
            if (task) break scan;
          }
          if (candidates.length < page) break;
          scanned += candidates.length;
          const last = candidates[candidates.length - 1]!;
          after = { queued_at: last.queued_at!, id: last.id };
          page *= 8;
        }
        if (!task) return undefined;
        const number = task.attempt + 1;
        await tx
          .updateTable('tasks')
          .set({ status: 'running', attempt: number, runner_id: runnerId, steps: null })
          .where('id', '=', task.id)
          .where('status', '=', 'queued')
          .execute();
        policy?.claimed?.(task);
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

    /** The live attempt behind a lease and its task, or the 404/409 error that explains why not. */
    async check(
      leaseId: string,
      runnerId: string,
      now: number,
    ): Promise<{ attempt: AttemptRow; task: TaskRow }> {
      return d.writeTx(async (tx) => {
        const attempt = await liveAttempt(tx, leaseId, runnerId, now);
        const task = await tx
          .selectFrom('tasks')
          .selectAll()
          .where('id', '=', attempt.task_id)
          .executeTakeFirstOrThrow();
        return { attempt, task };
      });
    },

    /**
     * The steps of the lease's attempt so far, while it runs (the last one may be `running`): stored on the task so
     * that a follower joining late sees them; the attempt's completion replaces them with the final list.
     * Fenced like every other runner write.
     */
    async reportSteps(
      leaseId: string,
      runnerId: string,
      steps: unknown[],
      now: number,
    ): Promise<{
      runId: string;
      taskName: string;
      attempt: number;
      leaseExpiresAt: number;
      cancel: boolean;
    }> {
      return d.writeTx(async (tx) => {
        const attempt = await liveAttempt(tx, leaseId, runnerId, now);
        await tx
          .updateTable('tasks')
          .set({ steps: JSON.stringify(steps) })
          .where('id', '=', attempt.task_id)
          .where('attempt', '=', attempt.number)
          .where('status', '=', 'running')
          .execute();
        const task = await tx
          .selectFrom('tasks')
          .select('name')
          .where('id', '=', attempt.task_id)
          .executeTakeFirstOrThrow();
        return {
          runId: attempt.run_id,
          taskName: task.name,
          attempt: attempt.number,
          leaseExpiresAt: attempt.lease_expires_at,
          cancel: attempt.cancel_requested === 1,
        };
      });
    },

    /** Records an uploaded artifact for the lease's attempt, fenced like every other runner write. */
    async recordArtifact(
      leaseId: string,
      runnerId: string,
      a: { name: string; blobKey: string; sizeBytes: number; sha256: string },
      now: number,
    ): Promise<{ id: string; created: boolean }> {
      return d.writeTx(async (tx) => {
        const attempt = await liveAttempt(tx, leaseId, runnerId, now);
        const existing = await tx
          .selectFrom('artifacts')
          .select('id')
          .where('task_id', '=', attempt.task_id)
          .where('attempt', '=', attempt.number)
          .where('name', '=', a.name)
          .executeTakeFirst();
        if (existing) return { id: existing.id, created: false };
        const id = newId(now);
        await tx
          .insertInto('artifacts')
          .values({
            id,
            run_id: attempt.run_id,
            task_id: attempt.task_id,
            attempt: attempt.number,
            name: a.name,
            blob_key: a.blobKey,
            size_bytes: a.sizeBytes,
            sha256: a.sha256,
            created_at: now,
          })
          .execute();
        return { id, created: true };
      });
    },

    /**
     * Withdraws an offer its runner refused before starting it (a push runner answered 429 at capacity): the
     * task is queued again as the sweep does with an unconfirmed offer, without spending an attempt. False when
     * the attempt is no longer an offer of this runner (it was started, swept or cancelled meanwhile).
     */
    async withdraw(leaseId: string, runnerId: string, now: number): Promise<boolean> {
      return d.writeTx(async (tx) => {
        const a = await tx
          .selectFrom('attempts')
          .selectAll()
          .where('lease_id', '=', leaseId)
          .$call(lockRows(d.capabilities))
          .executeTakeFirst();
        if (!a || a.runner_id !== runnerId || a.state !== 'offered') return false;
        await requeueOffer(tx, a, now, true);
        return true;
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

    /**
     * Stores chunks exactly once (duplicates by seq are ignored) and answers the contiguous acknowledged seq.
     * Chunks whose offsets contradict each other or the stored ones are refused (`log_offset_conflict`).
     * With `files`, a new chunk's bytes go to the attempt's log file first and its index row (seq, offset,
     * length) after, in the transaction that checked the lease: a crash between the two leaves bytes no row
     * covers, which nobody reads and the runner's retry writes again (docs/adr/0021-log-bytes.md). Without
     * `files` (a store used on its own), chunks are stored as text rows, as before migration 22.
     */
    async appendLogs(
      leaseId: string,
      runnerId: string,
      chunks: ReadonlyArray<LogChunk | LogBytesChunk>,
      now: number,
      maxLogBytes = Infinity,
      o: AppendLogsOptions = {},
    ) {
      const { files } = o;
      const asBytes = chunks.map((c) =>
        'bytes' in c ? c : { seq: c.seq, offset: c.offset, bytes: Buffer.from(c.data, 'utf8') },
      );
      const stored = await d.writeTx(async (tx) => {
        const a = await liveAttempt(tx, leaseId, runnerId, now);
        if (o.attempt !== undefined && o.attempt !== a.number)
          throw new BatonError(
            'bad_request',
            `the log chunks name attempt ${o.attempt}, but lease ${leaseId} holds attempt ${a.number}`,
          );
        for (const c of asBytes) {
          if (c.offset + c.bytes.length > maxLogBytes) {
            throw new BatonError(
              'payload_too_large',
              `the task log would pass the server's limit of ${maxLogBytes} bytes per attempt`,
            );
          }
        }
        const fresh = await checkLogOffsets(tx, a.task_id, a.number, asBytes);
        if (fresh.length > 0) {
          if (files) await files.write(a.task_id, a.number, fresh);
          const rows = fresh.map((c) => ({
            task_id: a.task_id,
            attempt: a.number,
            seq: c.seq,
            offset: c.offset,
            data: files ? '' : withoutNul(c.bytes.toString('utf8')),
            length: files ? c.bytes.length : null,
          }));
          for (let i = 0; i < rows.length; i += 100) {
            await tx
              .insertInto('log_chunks')
              .values(rows.slice(i, i + 100))
              .onConflict((oc) => oc.columns(['task_id', 'attempt', 'seq']).doNothing())
              .execute();
          }
          let end = 0;
          for (const r of rows) end = Math.max(end, r.offset + (r.length ?? Buffer.byteLength(r.data)));
          await tx
            .updateTable('tasks')
            .set((eb) => ({ log_bytes: greatest(d.capabilities, eb, eb.ref('log_bytes'), eb.val(end)) }))
            .where('id', '=', a.task_id)
            .where('attempt', '=', a.number)
            .execute();
        }
        const from = ackedHints.get(hintKey(a.task_id, a.number)) ?? -1;
        const ackedSeq = await contiguousSeq(tx, a.task_id, a.number, from);
        return {
          ackedSeq,
          cancel: a.cancel_requested === 1,
          taskId: a.task_id,
          runId: a.run_id,
          attempt: a.number,
        };
      });
      rememberAcked(hintKey(stored.taskId, stored.attempt), stored.ackedSeq);
      return stored;
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
          .$call(lockRows(d.capabilities))
          .executeTakeFirst();
        if (prior && prior.runner_id === runnerId && prior.state === 'finished' && prior.result !== null) {
          const task = await tx
            .selectFrom('tasks')
            .select(['name', 'run_id'])
            .where('id', '=', prior.task_id)
            .executeTakeFirstOrThrow();
          const first = (JSON.parse(prior.result) as { answer: { status: RunStatus } }).answer;
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
          .set({ state: 'finished', finished_at: now })
          .where('id', '=', a.id)
          .where('state', 'in', ['offered', 'running'])
          .execute();
        const end = await endAttempt(
          tx,
          a,
          {
            status: body.status,
            reason:
              body.reason ??
              (body.status === 'succeeded'
                ? null
                : body.status === 'timed_out'
                  ? 'timeout'
                  : body.status === 'cancelled'
                    ? 'cancelled'
                    : 'exit_code'),
            message: body.message ?? null,
            exitCode: body.exitCode,
            outputs: body.outputs,
            confidential: body.confidential ?? [],
            ...(body.sealedOutputs === undefined ? {} : { sealedOutputs: body.sealedOutputs }),
          },
          now,
        );
        if (body.logTruncated) {
          await tx.updateTable('tasks').set({ log_truncated: 1 }).where('id', '=', a.task_id).execute();
        }
        await tx
          .updateTable('tasks')
          .set({
            steps: body.steps.length === 0 ? null : JSON.stringify(body.steps),
            // Every attempt's own: a retry that reports none clears the earlier attempt's.
            annotations: body.annotations === undefined ? null : JSON.stringify(body.annotations),
            summaries: body.summaries === undefined ? null : JSON.stringify(body.summaries),
          })
          .where('id', '=', a.task_id)
          .execute();
        if (body.cache === undefined)
          // An earlier attempt's cache report does not describe this one (e.g. a retry on a push runner).
          await tx
            .updateTable('tasks')
            .set({ cache_key: null, cache_hit: 0, cache_age_ms: null })
            .where('id', '=', a.task_id)
            .where('cache_key', 'is not', null)
            .execute();
        else
          await recordCacheReport(
            tx,
            a.task_id,
            {
              status: end.status,
              cache: body.cache,
              outputs: body.outputs,
              confidential: body.confidential ?? [],
            },
            now,
          );
        // Kept so that a replayed complete gets the very same answer.
        await tx
          .updateTable('attempts')
          .set({ result: JSON.stringify({ report: body, answer: { status: end.status } }) })
          .where('id', '=', a.id)
          .execute();
        return { ...end, recorded: true };
      });
    },

    /**
     * Ends a live attempt as `runner_lost` at once (retried only if the task declares retries on it): the server's
     * push dispatcher holds the lease itself and knows when its runner is gone, without waiting for the lease.
     */
    async lose(leaseId: string, runnerId: string, message: string, now: number) {
      return d.writeTx(async (tx) => {
        const a = await liveAttempt(tx, leaseId, runnerId, now);
        await tx
          .updateTable('attempts')
          .set({ state: 'lost', finished_at: now })
          .where('id', '=', a.id)
          .where('state', 'in', ['offered', 'running'])
          .execute();
        return endAttempt(
          tx,
          a,
          {
            status: 'runner_lost',
            reason: 'runner_lost',
            message,
            exitCode: null,
            outputs: {},
            confidential: [],
          },
          now,
        );
      });
    },

    /** Withdraws offers past their acknowledgement deadline and marks attempts whose lease ran out as lost. */
    async sweep(now: number) {
      return d.writeTx(async (tx) => {
        const requeued: Array<{ runId: string; task: string }> = [];
        const lost: Array<{ runId: string; task: string; advance: AdvanceResult | null; retryAt?: number }> =
          [];
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
          .orderBy('id')
          // Another replica's reaper (or a runner's write) already handling an attempt keeps it.
          .$call(lockRowsSkipLocked(d.capabilities))
          .execute();
        for (const a of stale) {
          const task = await tx
            .selectFrom('tasks')
            .select(['name', 'run_id'])
            .where('id', '=', a.task_id)
            .executeTakeFirstOrThrow();
          if (a.state === 'offered') {
            await requeueOffer(tx, a, now, false);
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
          const end = await endAttempt(
            tx,
            a,
            {
              status: 'runner_lost',
              reason: 'runner_lost',
              message: `runner lost: no heartbeat for ${silentS}s`,
              exitCode: null,
              outputs: {},
              confidential: [],
            },
            now,
          );
          lost.push({ runId: task.run_id, task: task.name, advance: end.advance, retryAt: end.retryAt });
        }
        return { requeued, lost };
      });
    },

    /**
     * At boot, before the reaper's first sweep: gives every live attempt a full lease and ack window from now,
     * so runners that kept working while this server was down are not declared lost for its own downtime.
     */
    async extendLiveLeases(now: number): Promise<number> {
      return d.writeTx(async (tx) => {
        const res = await tx
          .updateTable('attempts')
          .set((eb) => ({
            lease_expires_at: greatest(
              d.capabilities,
              eb,
              eb.ref('lease_expires_at'),
              eb.val(now + timings.leaseTtlMs),
            ),
            ack_deadline: greatest(
              d.capabilities,
              eb,
              eb.ref('ack_deadline'),
              eb.val(now + timings.ackWindowMs),
            ),
          }))
          .where('state', 'in', ['offered', 'running'])
          .executeTakeFirst();
        return Number(res.numUpdatedRows);
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

/**
 * The tasks depending on a `secret` task may run only where its sealed outputs can be opened: on the runners
 * it was sealed to (intersected with any earlier such dependency's). Written before the run advances, so no
 * dependent is ever queued without it.
 */
async function restrictDependents(tx: Tx, runId: string, name: string, recipients: string[]): Promise<void> {
  const rows = await tx
    .selectFrom('tasks')
    .select(['id', 'depends_on', 'relay_to'])
    .where('run_id', '=', runId)
    .where('status', '=', 'pending')
    .execute();
  for (const row of rows) {
    if (!(JSON.parse(row.depends_on) as string[]).includes(name)) continue;
    const earlier = row.relay_to === null ? undefined : (JSON.parse(row.relay_to) as string[]);
    const allowed = earlier === undefined ? recipients : earlier.filter((id) => recipients.includes(id));
    await tx
      .updateTable('tasks')
      .set({ relay_to: JSON.stringify(allowed) })
      .where('id', '=', row.id)
      .execute();
  }
}

/**
 * The highest seq up to which every chunk of the attempt is stored, -1 when chunk 0 is not. `from`: a seq up
 * to which every chunk is known to be stored, so only the chunks after it are counted (-1: all of them).
 */
async function contiguousSeq(tx: Tx, taskId: string, attempt: number, from: number): Promise<number> {
  const agg = await tx
    .selectFrom('log_chunks')
    .select((eb) => [eb.fn.max<number>('seq').as('max'), eb.fn.countAll<number>().as('n')])
    .where('task_id', '=', taskId)
    .where('attempt', '=', attempt)
    .where('seq', '>', from)
    .executeTakeFirstOrThrow();
  if (agg.max === null || Number(agg.n) === 0) return from;
  if (Number(agg.n) === Number(agg.max) - from) return Number(agg.max);
  const seqs = await tx
    .selectFrom('log_chunks')
    .select('seq')
    .where('task_id', '=', taskId)
    .where('attempt', '=', attempt)
    .where('seq', '>', from)
    .orderBy('seq')
    .execute();
  let acked = from;
  for (const s of seqs) {
    if (s.seq !== acked + 1) break;
    acked = s.seq;
  }
  return acked;
}

export type LeaseStore = ReturnType<typeof createLeaseStore>;
