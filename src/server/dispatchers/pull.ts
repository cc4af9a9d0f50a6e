// The pull dispatcher: runners long-poll `acquire` (routes/runner-protocol.ts is its HTTP face). Acquire claims
// at once if a matching task is queued, else holds the request until a task is queued or the runner's report
// changes what it can take (events, not polling), the hold ends, or the client goes away.
import type { Store } from '../../store/index.ts';
import type { Hub } from '../hub.ts';
import type { Claimed, ClaimingRunner } from '../../store/leases.ts';
import type { TaskSpec } from '../../protocol/plan.ts';
import type { TaskRow } from '../../store/schema.ts';
import type { ServerContext } from '../context.ts';
import { runnerRoutes } from '../routes/runner-protocol.ts';
import { runnerGives, runnerOfflineAfterMs, runnerView } from '../views.ts';
import type { DispatcherModule, PendingCandidate, PendingReason } from './types.ts';
import { missingGifts } from './pending.ts';
import { isCustomTaskType } from '../../protocol/task-types.ts';

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

export function createLongPoll(store: Store, hub: Hub) {
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

export type LongPoll = ReturnType<typeof createLongPoll>;

export const pullDispatcher: DispatcherModule = {
  kind: 'pull',
  description: 'runners (`baton runner start`, pools) long-poll the server for tasks',
  create(ctx) {
    const longPoll = createLongPoll(ctx.store, ctx.hub);
    return {
      kind: 'pull',
      async routes(app) {
        runnerRoutes(app, ctx, (r) => longPoll.acquire(r));
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
  const active = await ctx.store.leases.activeByRunner();
  const now = ctx.now();
  const offlineAfter = runnerOfflineAfterMs(ctx.config);
  return (await ctx.store.credentials.listRunners()).map((row) => {
    const view = runnerView(row, active.get(row.id) ?? 0, now, offlineAfter);
    const reasons: PendingReason[] = [];
    const missing = runsOn.filter((l) => !view.labels.includes(l));
    if (missing.length > 0)
      reasons.push({
        code: 'labels_missing',
        message: `lacks label${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      });
    if (task.names_secrets === 1 && row.public_key === null)
      reasons.push({
        code: 'no_public_key',
        message: `the task names secrets and runner '${view.name}' was registered without a public key to seal them to; register it again with \`baton runner register\``,
      });
    const gives = runnerGives(view.report);
    reasons.push(...missingGifts(task, view.name, gives));
    if (isCustomTaskType(spec.type) && !gives.drivers.includes(spec.type))
      reasons.push({
        code: 'driver_missing',
        message: `the task has type '${spec.type}' and runner '${view.name}' has no driver for it; start a runner with --drivers DIR holding an executable '${spec.type}' (docs/drivers.md)`,
      });
    if (task.relay_to !== null && !(JSON.parse(task.relay_to) as string[]).includes(row.id))
      reasons.push({
        code: 'not_a_relay_recipient',
        message: `the task depends on a secret task whose values were sealed only to the runners that could take it when it ran; runner '${view.name}' was not one of them (it lacked a public key, the labels or the forward.to name then)`,
      });
    if (spec.forwardTo !== undefined && spec.forwardTo !== view.name)
      reasons.push({ code: 'forwarded', message: `the task is forwarded to runner '${spec.forwardTo}'` });
    if (view.status === 'disabled') reasons.push({ code: 'disabled', message: 'the runner is disabled' });
    if (view.status === 'offline')
      reasons.push({
        code: 'offline',
        message: view.lastSeenAt ? `not seen since ${view.lastSeenAt}` : 'never connected',
      });
    if (view.status === 'draining')
      reasons.push({
        code: 'draining',
        message: 'the runner is stopping: it finishes its running tasks and takes no new ones',
      });
    if (view.report?.refusing !== undefined)
      reasons.push({ code: 'low_disk', message: view.report.refusing });
    if (view.activeTasks >= view.capacity)
      reasons.push({ code: 'at_capacity', message: `running ${view.activeTasks} of ${view.capacity} tasks` });
    return {
      id: view.id,
      name: view.name,
      status: view.status,
      labels: view.labels,
      dispatcher: 'pull',
      eligible: reasons.length === 0,
      reasons,
    };
  });
}
