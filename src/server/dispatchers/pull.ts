// The pull dispatcher: runners long-poll `acquire` (routes/runner-protocol.ts is its HTTP face). Acquire claims
// at once if a matching task is queued, else holds the request until a task is queued or the runner's report
// changes what it can take (events, not polling), the hold ends, or the client goes away.
//
// Placement (issue 17). Every waiting runner's hold claims when a task is queued, so the first to ask would
// get it; instead each hold is registered here and a claim *yields* a task it could take to a better waiting
// runner that can take it too — least busy first (its waiting slots against its max_parallel_tasks), then the
// one given a task least recently, then by id — and wakes that runner's hold. A yielded task is taken by the
// better runner's claim; should that claim not take it after all (its report changed meanwhile), the yielding
// hold claims again after YIELD_RECHECK_MS without yielding, so a yield can delay a task but never strand it.
// A runner the server has not heard from for `silentAfterMs` (a frozen process keeps its held request open,
// and the runner pings while it waits, so silence means it stopped) is never offered a task: its hold claims
// nothing (checked in the claim's own transaction) and ends, and no claim yields to it.
import type { Store } from '../../store/index.ts';
import type { Hub } from '../hub.ts';
import type { Claimed, ClaimingRunner } from '../../store/leases.ts';
import { canTake, type ClaimCandidate } from '../../store/placement.ts';
import type { TaskSpec } from '../../protocol/plan.ts';
import type { TaskRow } from '../../store/schema.ts';
import type { ServerContext } from '../context.ts';
import { runnerRoutes } from '../routes/runner-protocol.ts';
import { runnerSessions } from '../routes/runner-session.ts';
import { runnerGives, runnerOfflineAfterMs, runnerView } from '../views.ts';
import type { DispatcherModule, PendingCandidate, PendingReason } from './types.ts';
import { candidate, missingGifts, plural } from './pending.ts';
import { isCustomTaskType } from '../../protocol/task-types.ts';
import { carriesLabel } from '../../protocol/labels.ts';

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

export interface LongPollOptions {
  /** A runner not heard from for this long is silent: it is offered nothing and its hold ends. */
  silentAfterMs?: number;
}

/**
 * Where several server processes share the database (PostgreSQL replicas), a task queued through another
 * replica reaches this one's hub by LISTEN/NOTIFY, and a notice can be lost (the listening connection dropped
 * and reconnected, or a retry came due on another replica). So a waiter there also re-tries the claim this
 * often. With SQLite, one process owns the queue and its in-process events miss nothing: no polling at all.
 */
const MULTI_PROCESS_CLAIM_BACKSTOP_MS = 2_000;
/** After yielding a task, a hold claims again this soon without yielding, in case the better runner did not. */
const YIELD_RECHECK_MS = 1_000;

/** One held acquire (one free slot of a runner). */
interface Waiter {
  runner: ClaimingRunner;
  /** Set while the hold sleeps: ends the sleep. */
  wake?: () => void;
  /** Woken by a yield while it was not asleep: claim again before sleeping. */
  poked: boolean;
}

export function createLongPoll(store: Store, hub: Hub, o: LongPollOptions = {}) {
  const backstopMs = store.dialect.capabilities.multiProcess ? MULTI_PROCESS_CLAIM_BACKSTOP_MS : Infinity;
  const waiters = new Set<Waiter>();
  /** Per runner id, how many of its holds are registered (its free slots): keeps rank() O(1) with many waiters. */
  const free = new Map<string, number>();
  const register = (w: Waiter) => {
    waiters.add(w);
    free.set(w.runner.id, (free.get(w.runner.id) ?? 0) + 1);
  };
  const unregister = (w: Waiter) => {
    if (!waiters.delete(w)) return;
    const n = (free.get(w.runner.id) ?? 1) - 1;
    if (n > 0) free.set(w.runner.id, n);
    else free.delete(w.runner.id);
  };
  /** Per runner id, the sequence number of the last task given to it (in this process). */
  const lastGiven = new Map<string, number>();
  let given = 0;

  const silent = (runner: ClaimingRunner, now: number) =>
    o.silentAfterMs !== undefined &&
    runner.lastSeenAt !== undefined &&
    (runner.lastSeenAt ?? 0) < now - o.silentAfterMs;

  /** [busy share, last given, id]: the smaller, the better placed for the next task. */
  function rank(runner: ClaimingRunner): [number, number, string] {
    const capacity = Math.max(runner.capacity ?? 1, 1);
    const busy = (capacity - Math.min(free.get(runner.id) ?? 0, capacity)) / capacity;
    return [busy, lastGiven.get(runner.id) ?? 0, runner.id];
  }
  const before = (a: [number, number, string], b: [number, number, string]) =>
    a[0] !== b[0] ? a[0] < b[0] : a[1] !== b[1] ? a[1] < b[1] : a[2] < b[2];

  /** The best other waiting runner that can take the task and is placed better than `me`, if any. */
  function betterWaiter(me: ClaimingRunner, task: ClaimCandidate, now: number): Waiter | undefined {
    let best: { w: Waiter; r: [number, number, string] } | undefined;
    const mine = rank(me);
    for (const w of waiters) {
      if (w.runner.id === me.id || silent(w.runner, now) || !canTake(w.runner, task)) continue;
      const r = rank(w.runner);
      if (before(r, mine) && (!best || before(r, best.r))) best = { w, r };
    }
    return best?.w;
  }

  return {
    async acquire(r: AcquireRequest): Promise<Claimed | undefined> {
      const deadline = performance.now() + r.waitMs;
      const self: Waiter = { runner: r.runner, poked: false };
      register(self);
      try {
        let stale = r.readAtGeneration !== undefined && r.readAtGeneration !== hub.queueGeneration;
        let mayYield = true;
        for (;;) {
          // Read the generation before claiming: a task queued after it is noticed below, not missed.
          const generation = hub.queueGeneration;
          if (stale && r.reload) self.runner = (await r.reload()) ?? self.runner;
          const now = r.now();
          if (silent(self.runner, now)) return undefined;
          const yielded: Waiter[] = [];
          self.poked = false;
          const claimed = await store.leases.claim(self.runner, now, {
            ...(o.silentAfterMs === undefined || self.runner.lastSeenAt === undefined
              ? {}
              : { silentBefore: now - o.silentAfterMs }),
            yieldTo: (task) => {
              if (!mayYield) return false;
              const w = betterWaiter(self.runner, task, now);
              if (w) yielded.push(w);
              return w !== undefined;
            },
            // Inside the claim's transaction: the next claim already counts this slot as busy.
            claimed: () => {
              unregister(self);
              lastGiven.set(self.runner.id, ++given);
            },
          });
          for (const w of yielded) {
            w.poked = true;
            w.wake?.();
          }
          if (claimed) return claimed;
          const remaining = deadline - performance.now();
          if (remaining <= 0 || r.signal.aborted) return undefined;
          // An event during the claim may have been this runner's report: cheap to read it again, and rare.
          stale = hub.queueGeneration !== generation;
          if (stale || self.poked) continue;
          mayYield = yielded.length === 0;
          let limit = Math.min(remaining, backstopMs);
          if (!mayYield) limit = Math.min(limit, YIELD_RECHECK_MS);
          // A silent runner's hold ends within half the silence it is allowed, even with nothing queued.
          if (o.silentAfterMs !== undefined && r.reload) limit = Math.min(limit, o.silentAfterMs / 2);
          const woke = await waitForQueued(hub, self, limit, r.signal);
          if (woke === 'aborted' || (woke === 'timeout' && performance.now() >= deadline)) return undefined;
          // A queued task or a yield leaves the runner as it was; its own report, or a timeout (a report or a
          // ping stored through another replica reaches no event here), may not.
          stale = woke !== 'queued' && woke !== 'poked';
        }
      } finally {
        unregister(self);
      }
    },
  };
}

type Woken = 'queued' | 'runner' | 'poked' | 'timeout' | 'aborted';

function waitForQueued(hub: Hub, self: Waiter, ms: number, signal: AbortSignal): Promise<Woken> {
  return new Promise((resolve) => {
    const done = (woken: Woken) => {
      clearTimeout(timer);
      off();
      offRunner();
      self.wake = undefined;
      signal.removeEventListener('abort', onAbort);
      resolve(woken);
    };
    const onAbort = () => done('aborted');
    const timer = setTimeout(() => done('timeout'), ms);
    const off = hub.onQueued(() => done('queued'));
    const offRunner = hub.onRunnerChanged(self.runner.id, () => done('runner'));
    self.wake = () => done('poked');
    signal.addEventListener('abort', onAbort);
  });
}

export type LongPoll = ReturnType<typeof createLongPoll>;

export const pullDispatcher: DispatcherModule = {
  kind: 'pull',
  description: 'runners (`baton runner start`, pools) long-poll the server for tasks',
  create(ctx) {
    const longPoll = createLongPoll(ctx.store, ctx.hub, { silentAfterMs: runnerOfflineAfterMs(ctx.config) });
    return {
      kind: 'pull',
      async routes(app) {
        runnerRoutes(app, ctx, (r) => longPoll.acquire(r));
        // The runner session (protocol/session.ts): the same acquire, over one WebSocket per runner.
        const sessions = runnerSessions(app, ctx, (r) => longPoll.acquire(r));
        app.addHook('preClose', async () => sessions.closeAll());
      },
      explain: (task, spec) => explainPull(ctx, task, spec),
    };
  },
};

/**
 * Per registered runner, each reason the claim query (store/leases.ts) would pass the task over, and a runner's
 * own report that it takes no tasks (its disk is nearly full, or it is stopping).
 */
async function explainPull(ctx: ServerContext, task: TaskRow, spec: TaskSpec): Promise<PendingCandidate[]> {
  const runsOn = JSON.parse(task.runs_on) as string[];
  const runsOnAny = spec.runsOnAny ?? [];
  const active = await ctx.store.leases.activeByRunner();
  const now = ctx.now();
  const offlineAfter = runnerOfflineAfterMs(ctx.config);
  return (await ctx.store.credentials.listRunners()).map((row) => {
    const view = runnerView(row, active.get(row.id) ?? 0, now, offlineAfter);
    const reasons: PendingReason[] = [];
    const add = (r: PendingReason) => reasons.push(r);
    if (view.status === 'disabled')
      add({
        code: 'disabled',
        message: `runner '${view.name}' is disabled by an admin; enable it to use it`,
      });
    if (view.status === 'offline')
      add({
        code: 'offline',
        message: view.lastSeenAt
          ? `runner '${view.name}' has not been heard from since ${view.lastSeenAt} (offline after ${Math.round(offlineAfter / 1000)} s of silence): it is offered no task`
          : `runner '${view.name}' has never connected`,
      });
    if (view.status === 'draining')
      add({
        code: 'draining',
        message: `runner '${view.name}' is stopping: it finishes its running tasks and takes no new ones`,
      });
    const missing = runsOn.filter((l) => !carriesLabel(view.labels, l));
    if (missing.length > 0)
      add({
        code: 'tag_mismatch',
        detail: 'labels_missing',
        message: `runner '${view.name}' lacks ${plural(missing.length, 'label')} ${missing.join(', ')} (the task needs all of ${runsOn.join(', ')})`,
      });
    if (runsOnAny.length > 0 && !runsOnAny.some((l) => carriesLabel(view.labels, l)))
      add({
        code: 'tag_mismatch',
        detail: 'labels_missing',
        message: `runner '${view.name}' carries none of ${runsOnAny.join(', ')} (the task needs any one of them)`,
      });
    if (spec.forwardTo !== undefined && spec.forwardTo !== view.name)
      add({
        code: 'tag_mismatch',
        detail: 'forwarded',
        message: `the task is forwarded to runner '${spec.forwardTo}', not '${view.name}'`,
      });
    const gives = runnerGives(view.report);
    if (isCustomTaskType(spec.type) && !gives.drivers.includes(spec.type))
      add({
        code: 'no_driver',
        message: `the task has type '${spec.type}' and runner '${view.name}' has no driver for it; start a runner with --drivers DIR holding an executable '${spec.type}' (docs/drivers.md)`,
      });
    reasons.push(...missingGifts(task, view.name, gives));
    if (task.relay_to !== null && !(JSON.parse(task.relay_to) as string[]).includes(row.id))
      add({
        code: 'no_key',
        detail: 'not_a_relay_recipient',
        message: `the task depends on a secret task whose values were sealed only to the runners that could take it when it ran; runner '${view.name}' was not one of them (it lacked a public key, the labels or the forward.to name then)`,
      });
    if (task.names_secrets === 1 && row.public_key === null)
      add({
        code: 'no_key',
        message: `the task names secrets and runner '${view.name}' was registered without a public key to seal them to; register it again with \`baton runner register\``,
      });
    if (view.report?.refusing !== undefined)
      add({ code: 'low_disk', message: `runner '${view.name}' takes no tasks: ${view.report.refusing}` });
    if (view.activeTasks >= view.capacity)
      add({
        code: 'at_capacity',
        message: `runner '${view.name}' is running ${view.activeTasks} of its ${view.capacity} ${plural(view.capacity, 'task')}`,
      });
    return candidate(
      { id: view.id, name: view.name, status: view.status, labels: view.labels, dispatcher: 'pull' },
      reasons,
    );
  });
}
