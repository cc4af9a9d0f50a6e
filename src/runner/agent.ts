// The runner agent: `max_parallel_tasks` slots, each long-polling for an offer, confirming it, running the task
// through the engine with its lease kept alive and its log shipped, then reporting the outcome until the
// server acknowledges it. stop() once: finish running tasks, take no new ones; twice: cancel them too.
import { hostname } from 'node:os';
import type { BatonClient } from '../client/index.ts';
import { createBackoff, delay, isRetryable } from '../client/index.ts';
import type { AcquireResponse, CompleteBody } from '../protocol/api.ts';
import { toError } from '../protocol/errors.ts';
import { runTask, type TaskOutcome } from '../engine/index.ts';
import { LogShipper } from './log-shipper.ts';
import { startLeaseKeeper } from './lease-keeper.ts';

export interface RunnerLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface AgentOptions {
  client: BatonClient;
  name: string;
  maxParallelTasks: number;
  workDir: string;
  baseEnv: Record<string, string>;
  oneOff?: boolean;
  /** SIGTERM → SIGKILL grace when a task is cancelled (default 10 s). */
  cancelGraceMs?: number;
  /** Long-poll hold asked of the server (default 25 s). */
  longPollMs?: number;
  log: RunnerLogger;
  onTaskStarted?: (offer: AcquireResponse) => void;
  onTaskFinished?: (offer: AcquireResponse, outcome: TaskOutcome) => void;
}

export class Agent {
  #o: AgentOptions;
  #stopping = false;
  #acquireAbort = new AbortController();
  #running = new Map<string, AbortController>();
  #unreachable = false;
  #tasksDone = 0;

  constructor(o: AgentOptions) {
    this.#o = o;
  }

  get tasksDone(): number {
    return this.#tasksDone;
  }

  get activeTasks(): number {
    return this.#running.size;
  }

  /** Runs until stopped (or after one task with oneOff). */
  async run(): Promise<void> {
    const slots = Array.from({ length: this.#o.maxParallelTasks }, (_, i) => this.#slot(i));
    await Promise.all(slots);
  }

  /** First call: stop acquiring and let running tasks finish. Second call: cancel running tasks too. */
  stop(): void {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#acquireAbort.abort();
      if (this.#running.size > 0)
        this.#o.log.info(`stopping: waiting for ${this.#running.size} running task(s) to finish`);
      return;
    }
    if (this.#running.size > 0)
      this.#o.log.warn(`stopping now: cancelling ${this.#running.size} running task(s)`);
    for (const c of this.#running.values()) c.abort(new Error('runner is shutting down'));
  }

  async #slot(_index: number): Promise<void> {
    const backoff = createBackoff(250, 15_000);
    while (!this.#stopping) {
      let offer: AcquireResponse | undefined;
      try {
        offer = await this.#o.client.acquire(1, this.#o.longPollMs ?? 25_000, this.#acquireAbort.signal);
        this.#reachable();
        backoff.reset();
      } catch (err) {
        if (this.#stopping) break;
        const ms = backoff.next();
        this.#unreachableNow(err, ms);
        await delay(ms, this.#acquireAbort.signal);
        continue;
      }
      if (!offer) continue;
      await this.#runOffer(offer);
      this.#tasksDone++;
      if (this.#o.oneOff) this.stop();
    }
  }

  #reachable(): void {
    if (!this.#unreachable) return;
    this.#unreachable = false;
    this.#o.log.info('connection restored');
  }

  #unreachableNow(err: unknown, retryMs: number): void {
    const e = toError(err);
    if (!isRetryable(err)) {
      this.#o.log.error(`acquire failed: ${e.message}; retrying in ${retryMs} ms`);
      return;
    }
    if (!this.#unreachable) this.#o.log.warn(`server unreachable, retrying: ${e.message}`);
    this.#unreachable = true;
  }

  async #runOffer(offer: AcquireResponse): Promise<void> {
    const { client, log } = this.#o;
    const label = `task '${offer.task.name}' (run ${offer.task.runId}, attempt ${offer.task.attempt})`;
    const requestTimeoutMs = Math.max(1_000, offer.heartbeatIntervalMs - 100);
    try {
      await this.#retry(() => client.start(offer.lease, requestTimeoutMs), Date.parse(offer.ackDeadline));
    } catch (err) {
      log.warn(`could not confirm ${label}: ${toError(err).message}`);
      return;
    }
    log.info(`running ${label}`);
    this.#o.onTaskStarted?.(offer);
    const abort = new AbortController();
    this.#running.set(offer.lease, abort);
    let lost: string | undefined;
    const fence = (reason: string) => {
      if (lost) return;
      lost = reason;
      log.warn(`${label}: lease lost (${reason}); stopping the attempt`);
      abort.abort(new Error(reason));
    };
    const cancel = () => abort.abort(new Error('cancelled'));
    const shipper = new LogShipper({
      client,
      lease: offer.lease,
      requestTimeoutMs,
      onFenced: (e) => fence(e.message),
      onCancel: cancel,
    });
    const keeper = startLeaseKeeper({
      client,
      lease: offer.lease,
      heartbeatIntervalMs: offer.heartbeatIntervalMs,
      leaseTtlMs: offer.leaseTtlMs,
      onCancel: cancel,
      onLost: fence,
    });
    let outcome: TaskOutcome;
    try {
      outcome = await runTask(offer.task, {
        workRoot: this.#o.workDir,
        baseEnv: { ...this.#o.baseEnv, BATON_RUNNER_NAME: this.#o.name, BATON_RUNNER_HOST: hostname() },
        signal: abort.signal,
        cancelGraceMs: this.#o.cancelGraceMs,
        onLog: (e) =>
          shipper.write(
            e.stream === 'system' ? `[baton] ${e.text.endsWith('\n') ? e.text : e.text + '\n'}` : e.text,
          ),
      });
    } catch (err) {
      const now = new Date().toISOString();
      const message = `the runner could not run the task: ${toError(err).message}`;
      shipper.write(`[baton] ${message}\n`);
      outcome = {
        status: 'failed',
        reason: 'setup_failed',
        message,
        exitCode: null,
        outputs: {},
        steps: [],
        startedAt: now,
        finishedAt: now,
      };
    } finally {
      keeper.stop();
      this.#running.delete(offer.lease);
    }
    await shipper.close();
    if (lost || shipper.fenced) {
      log.warn(`${label}: not reporting a result; the server gave the task to another attempt`);
      return;
    }
    const body: CompleteBody = {
      status: outcome.status,
      exitCode: outcome.exitCode,
      outputs: outcome.outputs,
      steps: outcome.steps,
      startedAt: outcome.startedAt,
      finishedAt: outcome.finishedAt,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(outcome.message ? { message: outcome.message } : {}),
    };
    try {
      await this.#retry(() => client.complete(offer.lease, body, requestTimeoutMs), Infinity);
      log.info(`${label} ${outcome.status}${outcome.message ? `: ${outcome.message}` : ''}`);
    } catch (err) {
      log.error(`${label}: the server refused the result: ${toError(err).message}`);
    }
    this.#o.onTaskFinished?.(offer, outcome);
  }

  /** Retries retryable failures with backoff until `until` (epoch ms) passes. */
  async #retry<T>(fn: () => Promise<T>, until: number): Promise<T> {
    const backoff = createBackoff(100, 5_000);
    for (;;) {
      try {
        const r = await fn();
        this.#reachable();
        return r;
      } catch (err) {
        if (!isRetryable(err) || Date.now() > until) throw err;
        const ms = backoff.next();
        this.#unreachableNow(err, ms);
        await delay(ms);
      }
    }
  }
}
