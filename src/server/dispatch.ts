// Long-poll acquire: claim at once if a matching task is queued, else hold the request until a task is
// queued or the runner's report changes what it can take (events, not polling), the hold ends, or the client
// goes away.
import type { Store } from '../store/index.ts';
import type { Hub } from './hub.ts';
import type { Claimed, ClaimingRunner } from '../store/leases.ts';

export interface AcquireRequest {
  runner: ClaimingRunner;
  /**
   * The runner as the store has it now. A hold judges the runner by `runner` until its own report changes what
   * it can take (the runner sends its first report beside its first acquire, so the report may land during the
   * hold): then, and after any event since `readAtGeneration` or a multi-process backstop, it is read again.
   */
  reload?: () => Promise<ClaimingRunner | undefined>;
  /** `hub.queueGeneration` when `runner` was read; any event after it makes the first claim read it again. */
  readAtGeneration?: number;
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
      let stale = r.readAtGeneration !== undefined && r.readAtGeneration !== hub.queueGeneration;
      for (;;) {
        // Read the generation before claiming: a task queued after it is noticed below, not missed.
        const generation = hub.queueGeneration;
        if (stale && r.reload) runner = (await r.reload()) ?? runner;
        const claimed = await store.leases.claim(runner, r.now());
        if (claimed) return claimed;
        const remaining = deadline - performance.now();
        if (remaining <= 0 || r.signal.aborted) return undefined;
        // An event during the claim may have been this runner's report: cheap to read it again, and rare.
        stale = hub.queueGeneration !== generation;
        if (stale) continue;
        const woke = await waitForQueued(hub, runner.id, Math.min(remaining, backstopMs), r.signal);
        if (woke === 'aborted' || (woke === 'timeout' && performance.now() >= deadline)) return undefined;
        // A queued task leaves the runner as it was; its own report, or a backstop (a report stored through
        // another replica reaches no event here), may not.
        stale = woke !== 'queued';
      }
    },
  };
}

type Woken = 'queued' | 'runner' | 'timeout' | 'aborted';

function waitForQueued(hub: Hub, runnerId: string, ms: number, signal: AbortSignal): Promise<Woken> {
  return new Promise((resolve) => {
    const done = (woken: Woken) => {
      clearTimeout(timer);
      off();
      offRunner();
      signal.removeEventListener('abort', onAbort);
      resolve(woken);
    };
    const onAbort = () => done('aborted');
    const timer = setTimeout(() => done('timeout'), ms);
    const off = hub.onQueued(() => done('queued'));
    const offRunner = hub.onRunnerChanged(runnerId, () => done('runner'));
    signal.addEventListener('abort', onAbort);
  });
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
