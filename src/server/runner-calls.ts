// The runner calls that both faces of the runner protocol make — the HTTP routes (routes/runner-protocol.ts)
// and the session (routes/runner-session.ts) — so that an offer, a lease, its fencing and a completion are one
// and the same whichever way the runner talks to the server.
import type { AcquireResponse, CompleteBody, CompleteResponse, LeaseResponse } from '../protocol/api.ts';
import type { Claimed, ClaimingRunner } from '../store/leases.ts';
import type { RunnerRow } from '../store/schema.ts';
import type { AcquireRequest } from './dispatchers/pull.ts';
import { assignClaimed } from './assign.ts';
import { publishAdvance, wakeAt, type ServerContext } from './context.ts';
import { runnerGives, runnerReport } from './views.ts';

/** The pull dispatcher's long-poll (dispatchers/pull.ts). */
export type Acquire = (r: AcquireRequest) => Promise<Claimed | undefined>;

export function claimingRunner(row: RunnerRow): ClaimingRunner {
  return {
    id: row.id,
    name: row.name,
    labels: JSON.parse(row.labels) as string[],
    canReceiveSecrets: row.public_key !== null,
    gives: runnerGives(runnerReport(row)),
    capacity: row.capacity,
    lastSeenAt: row.last_seen_at,
  };
}

export interface OfferOptions {
  waitMs: number;
  signal: AbortSignal;
  /** `hub.queueGeneration` read before the runner's row was. */
  generation: number;
}

/**
 * One acquisition for one free slot of `runner`: claims at once or holds until a task it can take is queued,
 * and builds the offer (lease, ack deadline, the task as assigned). Undefined when the hold ended with nothing.
 */
export async function offerTo(
  ctx: ServerContext,
  acquire: Acquire,
  runner: RunnerRow,
  o: OfferOptions,
): Promise<AcquireResponse | undefined> {
  const claimed = await acquire({
    // It asked just now, whatever its row said before this request.
    runner: { ...claimingRunner(runner), lastSeenAt: Math.max(runner.last_seen_at ?? 0, ctx.now()) },
    readAtGeneration: o.generation,
    reload: async () => {
      const row = await ctx.store.credentials.runner(runner.id);
      return row && claimingRunner(row);
    },
    waitMs: Math.min(o.waitMs, ctx.config.maxLongPollMs),
    signal: AbortSignal.any([o.signal, ctx.shutdown]),
    now: ctx.now,
  });
  if (!claimed) return undefined;
  const task = await assignClaimed(ctx, claimed, {
    id: runner.id,
    name: runner.name,
    publicKey: runner.public_key,
  });
  ctx.hub.runEvent({
    type: 'task',
    runId: claimed.task.run_id,
    task: claimed.task.name,
    status: 'running',
    attempt: claimed.attempt.number,
    runner: runner.name,
  });
  return {
    lease: claimed.attempt.lease_id,
    leaseExpiresAt: new Date(claimed.attempt.lease_expires_at).toISOString(),
    ackDeadline: new Date(claimed.attempt.ack_deadline).toISOString(),
    heartbeatIntervalMs: ctx.config.heartbeatIntervalMs,
    leaseTtlMs: ctx.config.leaseTtlMs,
    task,
  };
}

export async function startLease(
  ctx: ServerContext,
  lease: string,
  runnerId: string,
): Promise<LeaseResponse> {
  const res = await ctx.store.leases.start(lease, runnerId, ctx.now());
  return { leaseExpiresAt: new Date(res.leaseExpiresAt).toISOString(), cancel: res.cancel };
}

export async function heartbeatLease(
  ctx: ServerContext,
  lease: string,
  runnerId: string,
): Promise<LeaseResponse> {
  const res = await ctx.store.leases.heartbeat(lease, runnerId, ctx.now());
  return { leaseExpiresAt: new Date(res.leaseExpiresAt).toISOString(), cancel: res.cancel };
}

/** Records the outcome (idempotent: a repeated complete answers the first answer) and advances the run. */
export async function completeLease(
  ctx: ServerContext,
  lease: string,
  runnerId: string,
  body: CompleteBody,
): Promise<CompleteResponse> {
  const res = await ctx.store.leases.complete(lease, runnerId, body, ctx.now());
  if (res.recorded) {
    ctx.hub.runEvent({
      type: 'task',
      runId: res.runId,
      task: res.taskName,
      status: res.status,
      message: body.message,
    });
    publishAdvance(ctx, res.runId, res.advance);
    if (res.retryAt !== undefined) wakeAt(ctx, res.retryAt);
  }
  return { status: res.status };
}
