// The lease reaper: every sweep interval, withdraw unconfirmed offers and mark silent attempts lost.
// It never dies of one error: it logs it and tries again next time.
import { toError } from '../protocol/errors.ts';
import { publishAdvance, wakeAt, type ServerContext } from './context.ts';

export function startReaper(ctx: ServerContext): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const sweep = async () => {
    try {
      const res = await ctx.store.leases.sweep(ctx.now());
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
    } catch (err) {
      ctx.log.error({ err: toError(err) }, 'lease sweep failed; retrying at the next interval');
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
