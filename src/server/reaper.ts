// The lease reaper: every sweep interval, withdraw unconfirmed offers and mark silent attempts lost.
// It never dies of one error: it logs it and tries again next time.
import { toError } from '../protocol/errors.ts';
import { publishAdvance, wakeAt, type ServerContext } from './context.ts';
import { isStorageFull } from './storage-health.ts';

export function startReaper(ctx: ServerContext): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const sweep = async () => {
    try {
      // Read the clock before looking at the storage: a renewal refused after this look was sent while its
      // lease was live, so its lease cannot have run out by `now` (docs/adr/0010).
      const now = ctx.now();
      // While writes are refused for lack of space, renewals may have been refused by this server rather than
      // missed by runners: expire nothing until every live lease has been extended.
      if (ctx.storage.troubled && !(await ctx.storage.recover())) return;
      const res = await ctx.store.leases.sweep(now);
      for (const r of res.requeued)
        ctx.hub.runEvent({
          type: 'task',
          runId: r.runId,
          task: r.task,
          status: 'queued',
          message: 'offer not confirmed in time; queued again',
        });
      ctx.hub.tasksQueued(res.requeued.length);
      for (const l of res.lost) {
        ctx.hub.runEvent({
          type: 'task',
          runId: l.runId,
          task: l.task,
          status: l.retryAt === undefined ? 'runner_lost' : 'queued',
        });
        publishAdvance(ctx, l.runId, l.advance);
        if (l.retryAt !== undefined) wakeAt(ctx, l.retryAt);
      }
      if (res.lost.length > 0)
        ctx.log.warn(
          { lost: res.lost.map((l) => l.task) },
          'attempts lost: their runners stopped renewing leases',
        );
      // Ephemeral (pool) runners leave no graveyard: one whose task ended or was lost, or that has been silent
      // for longer than a long-poll plus a lease, is removed. A live one is always inside a request or between
      // two of them, so it is never silent that long.
      const silentBefore = ctx.now() - (ctx.config.maxLongPollMs + ctx.config.leaseTtlMs);
      const removed = await ctx.store.credentials.removeSpentEphemeralRunners(silentBefore);
      if (removed.length > 0)
        ctx.log.info({ runners: removed }, 'ephemeral runners removed: their task ended or they died');
      // Expired cache entries are already misses at lookup; the sweep only gives their space back.
      const expired = await ctx.store.cache.sweepExpired(now);
      if (expired > 0) ctx.log.info({ entries: expired }, 'expired cache entries removed');
    } catch (err) {
      const e = toError(err);
      if (isStorageFull(e)) ctx.storage.refused(e);
      ctx.log.error({ err: e }, 'lease sweep failed; retrying at the next interval');
    }
  };
  const timer = setInterval(() => {
    if (stopped) return;
    running = running.then(sweep);
  }, ctx.config.sweepIntervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
