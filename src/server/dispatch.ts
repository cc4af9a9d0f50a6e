// Long-poll acquire: claim at once if a matching task is queued, else hold the request until a task is
// queued or the runner's report changes what it can take (events, not polling), the hold ends, or the client
// goes away.
import type { Store } from '../store/index.ts';
import type { Hub } from './hub.ts';
import type { Claimed, ClaimingRunner } from '../store/leases.ts';

export interface AcquireRequest {
  runner: ClaimingRunner;
  /**
   * The runner as the store has it now: read again before each claim after the first, so a status report that
   * landed during the hold (the runner sends its first one beside its first acquire) decides what it is offered.
   */
  reload?: () => Promise<ClaimingRunner | undefined>;
  waitMs: number;
  /** Aborted when the HTTP client disconnects. */
  signal: AbortSignal;
  now: () => number;
}

/**
 * Where several server processes share the database (PostgreSQL replicas), a task queued through another
 * replica reaches this one's hub by LISTEN/NOTIFY, and a notice can be lost (the listening connection dropped
 * and reconnected, or a retry came due on another replica). So a waiter there also re-tries the claim this
 * often. With SQLite, one process owns the queue and its in-process events miss nothing: no polling at all.
 */
const MULTI_PROCESS_CLAIM_BACKSTOP_MS = 2_000;

export function createDispatcher(store: Store, hub: Hub) {
  const backstopMs = store.dialect.capabilities.multiProcess ? MULTI_PROCESS_CLAIM_BACKSTOP_MS : Infinity;
  return {
    async acquire(r: AcquireRequest): Promise<Claimed | undefined> {
      const deadline = performance.now() + r.waitMs;
      let runner = r.runner;
      for (let first = true; ; first = false) {
        // Read the generation before claiming: a task queued after it is noticed below, not missed.
        const generation = hub.queueGeneration;
        if (!first && r.reload) runner = (await r.reload()) ?? runner;
        const claimed = await store.leases.claim(runner, r.now());
        if (claimed) return claimed;
        const remaining = deadline - performance.now();
        if (remaining <= 0 || r.signal.aborted) return undefined;
        if (hub.queueGeneration !== generation) continue;
        const woken = await waitForQueued(hub, runner.id, Math.min(remaining, backstopMs), r.signal);
        if (r.signal.aborted || (!woken && performance.now() >= deadline)) return undefined;
      }
    },
  };
}

function waitForQueued(hub: Hub, runnerId: string, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (woken: boolean) => {
      clearTimeout(timer);
      off();
      offRunner();
      signal.removeEventListener('abort', onAbort);
      resolve(woken);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(false), ms);
    const off = hub.onQueued(() => done(true));
    const offRunner = hub.onRunnerChanged(runnerId, () => done(true));
    signal.addEventListener('abort', onAbort);
  });
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
