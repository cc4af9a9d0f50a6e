// Prometheus metrics of one server (prom-client, a registry of its own so several servers share a process in
// tests). Counters and histograms move with events as they happen; the gauges (queued tasks, runners, log
// bytes) are read from the store at scrape time with a few aggregate queries. Label values are bounded: task
// statuses and runner statuses are fixed vocabularies, HTTP routes are Fastify's route templates (never a raw
// URL with ids; an unmatched URL is `unmatched`), and queued label sets are capped at METRICS_MAX_LABEL_SETS.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunEvent } from '../protocol/api.ts';
import { isTerminal, RUNNER_STATUSES } from '../protocol/status.ts';
import { METRICS_MAX_LABEL_SETS } from '../store/metrics.ts';
import type { ServerContext } from './context.ts';
import { runnerOfflineAfterMs, runnerView } from './views.ts';

/** Longest label-set value reported; longer ones are cut (labels are short by their own limit anyway). */
const LABEL_SET_MAX_CHARS = 200;

/** Seconds: from a tenth of a second to an hour, for queue waits and task durations. */
const TASK_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A task's `runs_on` as stored, as one label value: the labels sorted and comma-joined, `{any:…}` kept as text. */
export function labelSetValue(runsOn: string): string {
  let v: string;
  try {
    const parsed: unknown = JSON.parse(runsOn);
    v = Array.isArray(parsed)
      ? [...(parsed as unknown[]).map(String)].sort().join(',')
      : JSON.stringify(parsed);
  } catch {
    v = runsOn;
  }
  return v.length > LABEL_SET_MAX_CHARS ? `${v.slice(0, LABEL_SET_MAX_CHARS)}…` : v;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly #http: Histogram<'method' | 'route' | 'status'>;
  readonly #pickup: Histogram;
  readonly #duration: Histogram<'status'>;
  readonly #finished: Counter<'status'>;
  #stop: (() => void) | undefined;
  /** Observations still reading their task: a scrape waits for them, so it never misses a task that ended. */
  #pending = new Set<Promise<void>>();

  constructor(ctx: ServerContext) {
    const registry = this.registry;
    // The process's own (CPU, memory, event loop lag, handles) under their usual names, for stock dashboards.
    collectDefaultMetrics({ register: registry });
    this.#http = new Histogram({
      name: 'baton_http_request_duration_seconds',
      help: 'HTTP requests served, by route template, method and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers: [registry],
    });
    const settled = () => Promise.all(this.#pending).then(() => undefined);
    this.#pickup = new Histogram({
      collect: settled,
      name: 'baton_task_pickup_latency_seconds',
      help: 'Time from a task being queued to a runner starting it (observed when the task ends)',
      buckets: TASK_BUCKETS,
      registers: [registry],
    });
    this.#duration = new Histogram({
      collect: settled,
      name: 'baton_task_duration_seconds',
      help: 'Time from a task starting to its end, by final status',
      labelNames: ['status'],
      buckets: TASK_BUCKETS,
      registers: [registry],
    });
    this.#finished = new Counter({
      name: 'baton_tasks_finished_total',
      help: 'Tasks that reached a final status (including those that never started: skipped, cancelled while queued)',
      labelNames: ['status'],
      registers: [registry],
    });
    new Gauge({
      name: 'baton_tasks_queued',
      help: `Queued tasks by required label set (runs_on); at most ${METRICS_MAX_LABEL_SETS} sets, the rest summed as "_other"`,
      labelNames: ['labels'],
      registers: [registry],
      async collect() {
        const q = await ctx.store.metrics.queuedByLabels();
        this.reset();
        for (const g of q.groups) this.inc({ labels: labelSetValue(g.runsOn) }, g.count);
        if (q.other > 0) this.inc({ labels: '_other' }, q.other);
      },
    });
    new Gauge({
      name: 'baton_runners',
      help: 'Registered runners by status (idle, busy, draining, offline, disabled)',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        const [runners, active] = await Promise.all([
          ctx.store.credentials.listRunners(),
          ctx.store.leases.activeByRunner(),
        ]);
        const now = ctx.now();
        const offlineAfter = runnerOfflineAfterMs(ctx.config);
        const counts = new Map<string, number>(RUNNER_STATUSES.map((s) => [s, 0]));
        for (const r of runners) {
          const s = runnerView(r, active.get(r.id) ?? 0, now, offlineAfter).status;
          counts.set(s, (counts.get(s) ?? 0) + 1);
        }
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'baton_log_bytes_stored',
      help: 'Bytes of task logs stored, over every task the database keeps',
      registers: [registry],
      async collect() {
        this.set(await ctx.store.metrics.logBytes());
      },
    });
    this.#stop = ctx.hub.onAnyRunEvent((e) => this.#onEvent(ctx, e));
  }

  /** One HTTP request answered: `route` is the route template (`/api/v1/runs/:id`), never the URL. */
  observeRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    this.#http.observe({ method, route: route ?? 'unmatched', status: String(status) }, seconds);
  }

  /**
   * A task ended: counted by status, and (when it started) its pickup latency and duration observed from the
   * store's own times, read after the transition committed with one indexed lookup. The pickup latency is
   * observed here too, at the end: the start confirmation that sets `started_at` publishes no event.
   */
  #onEvent(ctx: ServerContext, e: RunEvent): void {
    if (e.type !== 'task' || e.task === undefined || !isTerminal(e.status)) return;
    this.#finished.inc({ status: e.status });
    const observed = ctx.store.runs
      .tasksNamed(e.runId, [e.task])
      .then(([t]) => {
        if (!t || t.started_at === null) return;
        if (t.queued_at !== null) this.#pickup.observe(Math.max(0, t.started_at - t.queued_at) / 1000);
        if (t.finished_at !== null)
          this.#duration.observe({ status: e.status }, Math.max(0, t.finished_at - t.started_at) / 1000);
      })
      .catch((err: unknown) => ctx.log.warn({ err }, 'metrics: could not read a task'))
      .finally(() => this.#pending.delete(observed));
    this.#pending.add(observed);
  }

  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
  }
}
