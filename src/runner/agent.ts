// The runner agent: `max_parallel_tasks` slots, each long-polling for an offer, confirming it, running the task
// through the engine with its lease kept alive and its log shipped, then reporting the outcome until the
// server acknowledges it. stop() once: finish running tasks, take no new ones; twice: cancel them too.
import { mkdirSync, readdirSync, rmSync, statfsSync, statSync, type StatsFs } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { BatonClient } from '../client/index.ts';
import type { SessionClient } from '../client/session.ts';
import { createBackoff, delay, isRetryable } from '../client/index.ts';
import type { AcquireResponse, CompleteBody, RunnerStatusBody } from '../protocol/api.ts';
import { BatonError, toError } from '../protocol/errors.ts';
import {
  containmentPlan,
  describeStepInit,
  limitsSupport,
  removeRunnerCgroups,
  removeUpload,
  runTask,
  setStepInitDir,
  type Containment,
  type Driver,
  type SecretSource,
  type TaskOutcome,
} from '../engine/index.ts';
import type { TaskLimits } from '../protocol/plan.ts';
import { LogShipper } from './log-shipper.ts';
import { Spool } from './spool.ts';
import { sealOutputs, withRelayedValues } from '../protocol/relay.ts';
import { openSealed, type KeyPair } from '../protocol/sealed.ts';
import { isStorageFullAnswer, startLeaseKeeper } from './lease-keeper.ts';
import { driverVersion } from './driver-version.ts';
import { SECRET_SOURCES } from './secret-sources/index.ts';
import { createStepReporter } from './step-reporter.ts';
import { SpareWorkDirs } from './spare-work-dirs.ts';
import { HeldInits } from '../engine/held-inits.ts';

/** 256 MiB: below this much free space in the work dir the runner takes no new task. */
export const DEFAULT_MIN_FREE_DISK_BYTES = 256 * 1024 * 1024;
const DISK_RECHECK_MS = 5_000;
/** How often a runner refreshes its status on the server when nothing changed. */
const STATUS_REPORT_MS = 30_000;

/** What became of a finished task's result. */
export type TaskDelivery = 'acknowledged' | 'refused' | 'superseded';

/** What the agent logs through: a pino logger (`baton runner start`), or anything with these three. */
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
  /** Copied into every task's workspace before its first step (`baton run` in a checkout). */
  seedWorkspace?: string;
  baseEnv: Record<string, string>;
  /**
   * Exactly one task (one slot, whatever maxParallelTasks says), then stop once its result was acknowledged.
   * An offer it could not confirm does not count: it goes on waiting for a task it runs.
   */
  oneOff?: boolean;
  /** Stop when no task ran for this long (from start, or since the last task ended); see `idledOut`. */
  idleTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace when a task is cancelled (default 10 s). */
  cancelGraceMs?: number;
  /** Long-poll hold asked of the server (default 25 s). */
  longPollMs?: number;
  /** Where log chunks and results wait until the server acknowledged them (survives a runner restart). */
  stateDir: string;
  /** Stored log size per task (default 16 MiB). */
  logLimitBytes?: number;
  /** Take no task while the work dir's filesystem has less free space than this (default 256 MiB). */
  minFreeDiskBytes?: number;
  /** The runner's own files a step must not see besides the state dir (its config, its token file). */
  hide?: string[];
  /**
   * Where the compiled step init is built and kept (default `<state>/engine/init`): a directory no step can
   * see (a pool shares one for all its slots, inside its hidden dir).
   */
  stepInitDir?: string;
  /** `none`: every task runs without network, whatever it says (sandbox isolation only; see the CLI's check). */
  network?: 'host' | 'none';
  /** Resource limits for every task that does not set them itself (enforced with cgroups, engine/cgroups.ts). */
  defaultLimits?: TaskLimits;
  /** The runner's key pair: opens the secrets sealed to it. Without it, tasks that name secrets fail. */
  keys?: KeyPair;
  /**
   * `sandbox`: every step in bubblewrap (the caller checked it works: see sandboxPlan), reported as such with
   * `networkIsolation`. Default `host`.
   */
  isolation?: { level: 'host' } | { level: 'sandbox'; networkIsolation: boolean };
  /**
   * The custom task types this runner has a CGI driver for (its drivers directory, engine/drivers.ts): advertised
   * in its status with each driver's version, so the server offers it tasks of those types.
   */
  drivers?: ReadonlyMap<string, Driver>;
  /**
   * Where `secret` tasks fetch from, by source name (secret-sources/). Default SECRET_SOURCES: Baton's store
   * and Vault. The engine does no network; these do it for it.
   */
  secretSources?: ReadonlyMap<string, SecretSource>;
  log: RunnerLogger;
  onTaskStarted?: (offer: AcquireResponse) => void;
  onTaskFinished?: (offer: AcquireResponse, outcome: TaskOutcome) => void;
}

export class Agent {
  #o: AgentOptions;
  #stopping = false;
  #acquireAbort = new AbortController();
  #running = new Map<string, AbortController>();
  /** The process group of each running task's current step, by lease. */
  #stepGroups = new Map<string, number>();
  #unreachable = false;
  /** The server answered `507 storage_full` since its last success. */
  #serverStorageFull = false;
  #lowDisk = false;
  #reportedAt = -Infinity;
  /** The status last reported, and the chain of reports: sent one after another, so they arrive in order. */
  #status: RunnerStatusBody | undefined;
  /** Slots whose long poll is waiting at the server now. */
  #waiting = 0;
  /** The next ping (a repeated status report) while a long poll waits: the server counts silence as offline. */
  #pingTimer: NodeJS.Timeout | undefined;
  #reports: Promise<void> = Promise.resolve();
  #firstReport = Promise.withResolvers<void>();
  #tasksDone = 0;
  /** Slots between taking an offer and finishing it (the idle timer runs only while this is 0). */
  #busy = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #idledOut = false;
  #lastResult: TaskDelivery | undefined;
  /** How each task this process ran ended: the reported status, or `lost` when its lease went elsewhere. */
  #outcomes = new Map<string, number>();
  /** The log shippers of tasks running now, by lease (removed when the task's slot is free again). */
  #shippers = new Map<string, LogShipper>();
  /** Whether this runner enforces resource limits (probed at start); reported in its status. */
  #limits = false;

  /** A work dir made ahead for each slot (spare-work-dirs.ts); set by run(). */
  #spares: SpareWorkDirs | undefined;
  #held: HeldInits | undefined;

  constructor(o: AgentOptions) {
    this.#o = o;
  }

  get #spoolRoot(): string {
    return join(this.#o.stateDir, 'spool');
  }

  get #controlDir(): string {
    return join(this.#o.stateDir, 'engine');
  }

  get #containment(): Containment | undefined {
    return this.#o.isolation?.level === 'sandbox' ? 'sandbox' : undefined;
  }

  /**
   * Settles once the first status report was answered (or failed): after it the server knows this runner's
   * drivers, so `baton run` submits a workflow of custom types only then.
   */
  get firstReport(): Promise<void> {
    return this.#firstReport.promise;
  }

  /** Tasks this runner started (confirmed) and finished, whatever their status. */
  get tasksDone(): number {
    return this.#tasksDone;
  }

  /** True when the runner stopped because no task came within `idleTimeoutMs`. */
  get idledOut(): boolean {
    return this.#idledOut;
  }

  /** What became of the last task's result: acknowledged by the server, refused, or superseded by another attempt. */
  get lastResult(): TaskDelivery | undefined {
    return this.#lastResult;
  }

  #armIdle(): void {
    const ms = this.#o.idleTimeoutMs;
    if (ms === undefined || this.#stopping || this.#busy > 0) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#stopping || this.#busy > 0) return;
      this.#idledOut = true;
      this.#o.log.info(`no task for ${ms} ms (idle timeout); stopping`);
      this.stop();
    }, ms);
  }

  get activeTasks(): number {
    return this.#running.size;
  }

  /** Slots busy with a task, its upload or its result (the metrics' slots busy). */
  get busySlots(): number {
    return this.#busy;
  }

  get maxParallelTasks(): number {
    return this.#o.maxParallelTasks;
  }

  /** Tasks ended in this process by outcome (`succeeded`, `failed`, `cancelled`, `timed_out`, `lost`). */
  get outcomes(): ReadonlyMap<string, number> {
    return this.#outcomes;
  }

  /** Log bytes of the running tasks not yet acknowledged by the server (the log shipping lag). */
  get unacknowledgedLogBytes(): number {
    let n = 0;
    for (const s of this.#shippers.values()) n += s.unacknowledgedBytes;
    return n;
  }

  /** Bytes on disk in the spool (logs and results waiting for the server, of running and earlier tasks). */
  spoolBytes(): number {
    let n = 0;
    let names: string[];
    try {
      names = readdirSync(this.#spoolRoot);
    } catch {
      return 0;
    }
    for (const name of names) {
      try {
        n += statSync(join(this.#spoolRoot, name)).size;
      } catch {
        // removed while we looked: nothing left to count
      }
    }
    return n;
  }

  #countOutcome(outcome: string): void {
    this.#outcomes.set(outcome, (this.#outcomes.get(outcome) ?? 0) + 1);
  }

  /** Runs until stopped (or after one task with oneOff). */
  async run(): Promise<void> {
    const recovery = this.#recover().catch((err: unknown) =>
      this.#o.log.error(`replaying the spool failed: ${toError(err).message}`),
    );
    // Where the engine keeps what it hands its own processes (mount tables): inside the state dir, which no
    // step can see, never under a shared /tmp.
    await mkdir(this.#controlDir, { recursive: true, mode: 0o700 });
    // The compiled step init is kept there too, out of every step's sight. It is built (or found) while the
    // slots start acquiring; a task that arrives first waits for the same build. The log says once which
    // init starts the steps.
    setStepInitDir(this.#o.stepInitDir ?? join(this.#controlDir, 'init'));
    void containmentPlan(this.#containment ?? 'auto').then(
      (plan) => plan.init !== undefined && this.#o.log.info(describeStepInit(plan.init)),
      () => {}, // the first task reports what is wrong with containment, as before
    );
    const support = await limitsSupport(this.#containment ?? 'auto');
    this.#limits = support.ok;
    if (support.ok) this.#o.log.info(`resource limits: enforced with cgroup v${support.backend.version}`);
    else
      this.#o.log.warn(
        `resource limits: not enforced, tasks that declare limits are not offered here: ${support.why}`,
      );
    // A one-off runner takes exactly one task: one slot, so two cannot be offered at once.
    const slotCount = this.#o.oneOff ? 1 : this.#o.maxParallelTasks;
    // Work dirs and step inits are made ahead of the tasks, two per slot: one for the slot's next task and one
    // for the task after it. With one, a queue that answers a slot's acquire at once beat the refill started as
    // the slot went back to waiting on 16–21% of W2's tasks, which then made their own on the dispatch path
    // (docs/performance.md, ninth session).
    const ahead = this.#o.oneOff ? 1 : 2 * slotCount;
    const spares = new SpareWorkDirs(this.#o.workDir, ahead, (err) =>
      this.#o.log.warn(
        `could not make a work dir ahead of the next task (it is made when the task starts): ${toError(err).message}`,
      ),
    );
    await spares.removeLeftovers();
    spares.fill();
    this.#spares = spares;
    // Step inits started while the slots wait, for their next tasks' first steps (held-inits.ts).
    const held = new HeldInits(() => containmentPlan(this.#containment ?? 'auto'), ahead);
    held.fill();
    this.#held = held;
    const slots = Array.from({ length: slotCount }, (_, i) => this.#slot(i));
    this.#armIdle();
    try {
      await Promise.all([recovery, ...slots]);
    } finally {
      held.close();
      await spares.close();
    }
    clearTimeout(this.#idleTimer);
    if (support.ok) removeRunnerCgroups(support.backend);
  }

  /** First call: stop acquiring and let running tasks finish. Second call: cancel running tasks too. */
  stop(): void {
    if (!this.#stopping) {
      this.#stopping = true;
      clearTimeout(this.#idleTimer);
      clearTimeout(this.#pingTimer);
      this.#acquireAbort.abort();
      // Tell the server at once, so the fleet list and pending explanations say so. Before the first report
      // (there is none to amend) the disk check in flight sends one, and it carries `draining`.
      if (this.#status) this.#sendStatus({ ...this.#status, draining: true });
      if (this.#running.size > 0)
        this.#o.log.info(`stopping: waiting for ${this.#running.size} running task(s) to finish`);
      return;
    }
    if (this.#running.size > 0)
      this.#o.log.warn(`stopping now: cancelling ${this.#running.size} running task(s)`);
    for (const c of this.#running.values()) c.abort(new Error('runner is shutting down'));
  }

  /**
   * Cancels the running tasks now, as a cancel from the server would (SIGTERM, SIGKILL after the grace), and
   * goes on taking work: `baton run`'s first Ctrl-C, which need not wait for the server to relay its cancel.
   */
  cancelRunning(reason: string): void {
    for (const c of this.#running.values()) c.abort(new Error(reason));
  }

  /** SIGKILL to the process group of every running step, without waiting for its grace: a second Ctrl-C. */
  killRunning(): number {
    let killed = 0;
    for (const pid of this.#stepGroups.values()) {
      try {
        process.kill(-pid, 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
    return killed;
  }

  async #slot(_index: number): Promise<void> {
    const backoff = createBackoff(250, 15_000);
    /** The acquire that travelled with the last completion (runner session only), answered with the next offer. */
    let next: Promise<AcquireResponse | undefined> | undefined;
    const setNext = (p: Promise<AcquireResponse | undefined>) => (next = p);
    while (!this.#stopping) {
      if (!(await this.#enoughDisk())) continue;
      this.#spares?.fill();
      this.#held?.fill();
      let offer: AcquireResponse | undefined;
      try {
        this.#waiting++;
        try {
          const prefetched = next;
          next = undefined;
          offer = await (prefetched ??
            this.#o.client.acquire(1, this.#o.longPollMs ?? 25_000, this.#acquireAbort.signal));
        } finally {
          this.#waiting--;
        }
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
      this.#busy++;
      clearTimeout(this.#idleTimer);
      let result: TaskDelivery | 'not_started';
      try {
        result = await this.#runOffer(offer, setNext);
      } finally {
        this.#busy--;
        this.#shippers.delete(offer.lease);
      }
      if (result !== 'not_started') {
        this.#tasksDone++;
        this.#lastResult = result;
        if (this.#o.oneOff) this.stop();
      }
      this.#armIdle();
    }
  }

  /**
   * False (after a pause) while the work dir's filesystem is below the free-space threshold. Asked in place
   * before every acquire: a thread-pool round trip cost the loop more than the call (see makeSpareWorkDir).
   */
  async #enoughDisk(): Promise<boolean> {
    const min = this.#o.minFreeDiskBytes ?? DEFAULT_MIN_FREE_DISK_BYTES;
    const fs = workDirStatfs(this.#o.workDir);
    const free = fs.bavail * fs.bsize;
    if (free >= min) {
      if (this.#lowDisk) this.#o.log.info('enough free disk space again; taking tasks');
      this.#report(free, min, undefined, this.#lowDisk);
      this.#lowDisk = false;
      return true;
    }
    const refusing = `only ${Math.round(free / 1048576)} MiB free in ${this.#o.workDir}, below the threshold of ${Math.round(min / 1048576)} MiB`;
    if (!this.#lowDisk) this.#o.log.warn(`not taking tasks: ${refusing}`);
    this.#report(free, min, refusing, !this.#lowDisk);
    this.#lowDisk = true;
    // Not on the dispatch path: the runner only waits here while its disk is nearly full.
    await delay(DISK_RECHECK_MS, this.#acquireAbort.signal);
    return false;
  }

  /** Tells the server how this runner stands: on a change at once, otherwise at most every 30 s. */
  #report(
    freeDiskBytes: number,
    minFreeDiskBytes: number,
    refusing: string | undefined,
    changed: boolean,
  ): void {
    const now = performance.now();
    if (!changed && now - this.#reportedAt < STATUS_REPORT_MS) return;
    this.#reportedAt = now;
    const isolation = this.#o.isolation ?? { level: 'host' };
    this.#sendStatus({
      isolation: isolation.level,
      ...(isolation.level === 'sandbox' ? { networkIsolation: isolation.networkIsolation } : {}),
      freeDiskBytes,
      minFreeDiskBytes,
      ...(refusing ? { refusing } : {}),
      ...(this.#stopping ? { draining: true } : {}),
      limits: this.#limits,
      ...(this.#o.drivers === undefined || this.#o.drivers.size === 0
        ? {}
        : { drivers: [...this.#o.drivers.values()].map(({ type, version }) => ({ type, version })) }),
    });
  }

  #sendStatus(status: RunnerStatusBody): void {
    this.#status = status;
    this.#reports = this.#reports
      .then(() =>
        this.#o.client
          .reportStatus(status)
          .then((answer) => this.#schedulePing(answer?.heartbeatIntervalMs))
          .catch((err: unknown) => this.#o.log.warn(`could not report status: ${toError(err).message}`)),
      )
      .finally(() => this.#firstReport.resolve());
  }

  /**
   * While a long poll waits, the server hears nothing else from an idle runner: it repeats its last report every
   * heartbeat interval the server asked for, so a frozen runner (its held request still open) is seen as silent
   * and offered nothing. A busy slot's lease heartbeats do the same while it runs a task.
   */
  #schedulePing(intervalMs: number | undefined): void {
    clearTimeout(this.#pingTimer);
    if (intervalMs === undefined || this.#stopping) return;
    this.#pingTimer = setTimeout(() => {
      if (this.#stopping || this.#status === undefined) return;
      if (this.#waiting > 0) this.#sendStatus(this.#status);
      else this.#schedulePing(intervalMs);
    }, intervalMs);
    this.#pingTimer.unref();
  }

  #reachable(): void {
    if (this.#serverStorageFull) this.#o.log.info("the server's storage accepts writes again");
    this.#serverStorageFull = false;
    if (!this.#unreachable) return;
    this.#unreachable = false;
    this.#o.log.info('connection restored');
  }

  #unreachableNow(err: unknown, retryMs: number): void {
    const e = toError(err);
    // The server answered: it is reachable, only its storage refuses writes (docs/adr/0010).
    if (isStorageFullAnswer(err)) {
      if (!this.#serverStorageFull) this.#o.log.warn(`the server's storage is full; retrying: ${e.message}`);
      this.#serverStorageFull = true;
      return;
    }
    if (!isRetryable(err)) {
      this.#o.log.error(`acquire failed: ${e.message}; retrying in ${retryMs} ms`);
      return;
    }
    if (!this.#unreachable) this.#o.log.warn(`server unreachable, retrying: ${e.message}`);
    this.#unreachable = true;
  }

  async #runOffer(
    offer: AcquireResponse,
    setNext?: (next: Promise<AcquireResponse | undefined>) => void,
  ): Promise<TaskDelivery | 'not_started'> {
    const { log } = this.#o;
    const label = `task '${offer.task.name}' (run ${offer.task.runId}, attempt ${offer.task.attempt})`;
    const requestTimeoutMs = Math.max(1_000, offer.heartbeatIntervalMs - 100);
    const abort = new AbortController();
    this.#running.set(offer.lease, abort);
    let lost: string | undefined;
    let notStarted: Error | undefined;
    const fence = (reason: string) => {
      if (lost) return;
      lost = reason;
      if (notStarted === undefined) log.warn(`${label}: lease lost (${reason}); stopping the attempt`);
      abort.abort(new Error(reason));
    };
    const cancel = () => abort.abort(new Error('cancelled'));
    // `start` is acknowledged while the task is prepared: its round trip overlaps the work dir, the step files
    // and the contained init. Nothing else of this lease reaches the server before it (`client` waits), and no
    // step runs before it (EngineOptions.started) — none at all when it fails or the task was cancelled.
    let startCancelled = false;
    const acknowledged = this.#retry(
      () => this.#o.client.start(offer.lease, requestTimeoutMs),
      Date.parse(offer.ackDeadline),
    ).then(
      (res) => {
        startCancelled = res.cancel;
        log.info(`running ${label}`);
        this.#o.onTaskStarted?.(offer);
        if (startCancelled) cancel();
      },
      (err: unknown) => {
        notStarted = toError(err);
        abort.abort(new Error('not started'));
        throw new BatonError('lease_expired', `the start of ${label} was not acknowledged`);
      },
    );
    acknowledged.catch(() => {}); // awaited below; not unhandled while the task is prepared
    const stepsMayRun = acknowledged.then(() => {
      if (startCancelled) throw new Error('cancelled as it started');
    });
    stepsMayRun.catch(() => {});
    // Let the request leave before the preparation below: it is synchronous up to the init's spawn, and the
    // HTTP client writes a request only once control is back in the event loop. Without this the round trip
    // began after the spawn, and nothing overlapped it (a syscall trace of W1 showed it).
    await new Promise<void>((resolve) => setImmediate(resolve));
    const client = afterStart(this.#o.client, acknowledged);
    const downloads = join(this.#o.workDir, '.downloads', offer.lease);
    // Made only when the task fetches an artifact; most never do, and removing a directory that was never made
    // still cost a thread-pool round trip per task on the way to the completion.
    let downloadsMade = false;
    const removeDownloads = () =>
      downloadsMade ? rm(downloads, { recursive: true, force: true }) : Promise.resolve();
    const spool = Spool.create(this.#spoolRoot, offer);
    const shipper = new LogShipper({
      client,
      lease: offer.lease,
      spool,
      requestTimeoutMs,
      logLimitBytes: this.#o.logLimitBytes,
      onFenced: (e) => fence(e.message),
      onRefused: (e) => this.#o.log.warn(`task '${offer.task.name}': log shipping stopped: ${e.message}`),
      onCancel: cancel,
      onError: (e, ms) => this.#unreachableNow(e, ms),
      onSent: () => this.#reachable(),
    });
    this.#shippers.set(offer.lease, shipper);
    let storageFull = false;
    const keeper = startLeaseKeeper({
      client,
      lease: offer.lease,
      heartbeatIntervalMs: offer.heartbeatIntervalMs,
      leaseTtlMs: offer.leaseTtlMs,
      onCancel: cancel,
      onLost: fence,
      onError: (e) => this.#unreachableNow(e, offer.heartbeatIntervalMs),
      onRenewed: () => {
        this.#reachable();
        if (storageFull) log.info(`${label}: the server stores data again; replaying the spooled log`);
        storageFull = false;
      },
      onStorageFull: (e) => {
        if (!storageFull)
          log.warn(`${label}: ${e.message}; keeping the task running and spooling its log until it recovers`);
        storageFull = true;
      },
    });
    let diskFull = false;
    /** Where each step's output starts and ends in the task log (by step index). */
    const stepRanges = new Map<number, { start: number; end?: number }>();
    const liveSteps = createStepReporter((steps) => client.reportSteps(offer.lease, steps, requestTimeoutMs));
    let outcome: TaskOutcome;
    try {
      const secrets = await this.#openSecrets(offer);
      // A runner that gives no network gives none to any task: as if each said `network: false`.
      // A dependency's sealed secret outputs are opened here, with this runner's key (docs/adr/0014).
      const relayed = await withRelayedValues(offer.task, this.#o.keys);
      const task =
        this.#o.network === 'none' ? { ...relayed, spec: { ...relayed.spec, network: false } } : relayed;
      outcome = await runTask(task, {
        secrets,
        workRoot: this.#o.workDir,
        started: stepsMayRun,
        spareWorkDir: () => this.#spares?.take(),
        heldInit: (initPath) => this.#held?.take(initPath),
        ...(this.#o.seedWorkspace === undefined ? {} : { seedWorkspace: this.#o.seedWorkspace }),
        controlDir: this.#controlDir,
        hide: [this.#o.stateDir, ...(this.#o.hide ?? [])],
        deadman: keeper.deadman,
        ...(this.#containment === undefined ? {} : { containment: this.#containment }),
        baseEnv: { ...this.#o.baseEnv, BATON_RUNNER_NAME: this.#o.name, BATON_RUNNER_HOST: hostname() },
        signal: abort.signal,
        cancelGraceMs: this.#o.cancelGraceMs,
        ...(this.#o.defaultLimits === undefined ? {} : { defaultLimits: this.#o.defaultLimits }),
        ...(this.#o.drivers === undefined ? {} : { drivers: this.#o.drivers }),
        secretSources: this.#o.secretSources ?? SECRET_SOURCES,
        runnerName: this.#o.name,
        cache: {
          // Retried like the other lease calls while the lease lives; a fencing answer is thrown (the task stops).
          lookup: (key) =>
            this.#retry(
              () => client.cacheLookup(offer.lease, key, requestTimeoutMs),
              Date.now() + offer.leaseTtlMs,
            ).catch((err: unknown) => {
              if (
                err instanceof BatonError &&
                (err.code === 'lease_superseded' || err.code === 'lease_expired')
              )
                fence(err.message);
              throw err;
            }),
          driverVersion: (type) => driverVersion(type, this.#o.drivers),
        },
        fetchArtifact: async (ref) => {
          downloadsMade = true;
          await mkdir(downloads, { recursive: true });
          const dest = join(downloads, `${ref.id}.zip`);
          await this.#retry(() => client.downloadRunnerArtifact(offer.lease, ref.id, dest), Infinity);
          return dest;
        },
        onStep: (e) => {
          const range = stepRanges.get(e.index);
          if (e.state === 'started') {
            stepRanges.set(e.index, { start: shipper.written });
            if (e.pid !== undefined) this.#stepGroups.set(offer.lease, e.pid);
          } else {
            this.#stepGroups.delete(offer.lease);
            if (range !== undefined) range.end = shipper.written;
          }
          liveSteps.event(e, shipper.written);
        },
        // The step waits while the shipper holds too much of its log in memory (log-shipper.ts room()).
        logRoom: () => shipper.room(),
        onLog: (e) => {
          if (!diskFull && e.text.includes('No space left on device')) diskFull = true;
          liveSteps.output();
          shipper.write(
            e.stream === 'system' ? `[baton] ${e.text.endsWith('\n') ? e.text : e.text + '\n'}` : e.text,
          );
        },
      });
    } catch (err) {
      const now = new Date().toISOString();
      const message = `the runner could not run the task: ${toError(err).message}`;
      if (/ENOSPC/.test(message)) diskFull = true;
      shipper.write(`[baton] ${message}\n`);
      outcome = {
        status: 'failed',
        reason: 'setup_failed',
        message,
        exitCode: null,
        outputs: {},
        confidential: [],
        steps: [],
        startedAt: now,
        finishedAt: now,
      };
    } finally {
      liveSteps.stop();
      this.#running.delete(offer.lease);
      this.#stepGroups.delete(offer.lease);
    }
    if (
      !(await acknowledged.then(
        () => true,
        () => false,
      ))
    ) {
      // Never started: no step ran and nothing of it was sent; what it left here goes.
      keeper.stop();
      spool.remove();
      await removeDownloads().catch(() => {});
      log.warn(`could not confirm ${label}: ${notStarted?.message ?? 'no answer'}`);
      return 'not_started';
    }
    if (outcome.upload && !lost && !shipper.fenced)
      outcome = await this.#upload(offer, outcome, shipper, requestTimeoutMs);
    await removeDownloads().catch((err: unknown) =>
      log.warn(`could not remove ${downloads}: ${toError(err).message}`),
    );
    await shipper.close();
    // A `secret` task's values never reach the server in plain text: sealed to the runners of the tasks that
    // import them (chosen by the server), the server keeping only the envelope (docs/adr/0014).
    const sealedOutputs =
      offer.task.spec.type === 'secret' && outcome.status === 'succeeded'
        ? await sealOutputs(outcome.outputs, offer.task.relayTo ?? [])
        : undefined;
    const body: CompleteBody = {
      status: outcome.status,
      exitCode: outcome.exitCode,
      outputs:
        offer.task.spec.type === 'secret'
          ? Object.fromEntries(Object.keys(outcome.outputs).map((name) => [name, '']))
          : outcome.outputs,
      ...(sealedOutputs === undefined ? {} : { sealedOutputs }),
      confidential: outcome.confidential,
      steps: outcome.steps.map((step, index) => {
        const range = stepRanges.get(index);
        return range === undefined
          ? step
          : { ...step, logStart: range.start, logEnd: range.end ?? shipper.written };
      }),
      startedAt: outcome.startedAt,
      finishedAt: outcome.finishedAt,
      ...(shipper.truncated ? { logTruncated: true } : {}),
      ...(outcome.cache ? { cache: outcome.cache } : {}),
      ...(outcome.annotations ? { annotations: outcome.annotations } : {}),
      ...(outcome.summaries ? { summaries: outcome.summaries } : {}),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(outcome.message ? { message: outcome.message } : {}),
    };
    // A step that failed while the work dir's disk was full failed because of it: say so.
    if (body.status === 'failed' && diskFull && body.reason !== 'unsafe_archive') {
      body.reason = 'disk_full';
      body.message = `${body.message ?? 'the task failed'} (no space left on device in the work dir)`;
    }
    if (lost || shipper.fenced) {
      this.#countOutcome('lost');
      keeper.stop();
      spool.remove();
      log.warn(`${label}: not reporting a result; the server gave the task to another attempt`);
      return 'superseded';
    }
    spool.saveResult(body);
    const delivered = await this.#deliver(spool, body, label, requestTimeoutMs, setNext);
    keeper.stop();
    this.#countOutcome(body.status);
    this.#o.onTaskFinished?.(offer, outcome);
    return delivered ? 'acknowledged' : 'refused';
  }

  /** The task's secrets, unsealed with this runner's private key; they live only in this task's engine run. */
  async #openSecrets(offer: AcquireResponse): Promise<Record<string, string>> {
    if (!offer.task.sealedSecrets) return {};
    if (!this.#o.keys)
      throw new Error('the task names secrets but this runner has no key pair; register it again');
    return JSON.parse(await openSealed(offer.task.sealedSecrets, this.#o.keys)) as Record<string, string>;
  }

  /** Sends `complete` until the server acknowledges or refuses it; then the spool has done its job. */
  async #deliver(
    spool: Spool,
    body: CompleteBody,
    label: string,
    requestTimeoutMs: number,
    setNext?: (next: Promise<AcquireResponse | undefined>) => void,
  ): Promise<boolean> {
    let acknowledged = false;
    const lease = spool.meta().lease;
    // Over the runner session, the slot's next acquire travels with the completion (docs/adr/0023).
    const session = (this.#o.client as Partial<SessionClient>).completeAndAcquire;
    const nextWanted = () => setNext !== undefined && !this.#stopping && !this.#o.oneOff && !this.#lowDisk;
    const withNext = () => session !== undefined && nextWanted();
    // Over HTTP, the slot's next acquire goes out beside the completion instead of after its answer: the
    // slot is free once the task ended, and one round trip per task comes off the time between two tasks.
    if (session === undefined && nextWanted()) {
      const next = this.#o.client.acquire(1, this.#o.longPollMs ?? 25_000, this.#acquireAbort.signal);
      next.catch(() => {}); // the slot awaits it and sees the error; not unhandled while the completion retries
      setNext!(next);
    }
    try {
      await this.#retry(async () => {
        if (!withNext()) return this.#o.client.complete(lease, body, requestTimeoutMs);
        const res = await session!(lease, body, requestTimeoutMs, {
          waitMs: this.#o.longPollMs ?? 25_000,
          signal: this.#acquireAbort.signal,
        });
        if (res.next) setNext!(res.next);
        return res;
      }, Infinity);
      this.#o.log.info(`${label} ${body.status}${body.message ? `: ${body.message}` : ''}`);
      acknowledged = true;
    } catch (err) {
      this.#o.log.error(`${label}: the server refused the result: ${toError(err).message}`);
    }
    spool.remove();
    return acknowledged;
  }

  /**
   * Replays what an earlier runner process left in its spool: log chunks not yet acknowledged and, for tasks
   * that had finished, their result. A task that was still running died with that process; its lease runs
   * out on the server, which then retries it if the task allows.
   */
  async #recover(): Promise<void> {
    for (const path of Spool.list(this.#spoolRoot)) {
      const spool = Spool.open(path);
      if (spool === undefined) {
        // Cut short while its first record was written: the task never started.
        rmSync(path, { force: true });
        continue;
      }
      if (this.#running.has(spool.meta().lease)) continue;
      const meta = spool.meta();
      const label = `task '${meta.taskName}' (run ${meta.runId}, attempt ${meta.attempt})`;
      this.#o.log.info(`replaying the spooled log${spool.result() ? ' and result' : ''} of ${label}`);
      const requestTimeoutMs = Math.max(1_000, meta.heartbeatIntervalMs - 100);
      const shipper = new LogShipper({
        client: this.#o.client,
        lease: meta.lease,
        spool,
        requestTimeoutMs,
        onFenced: () => undefined,
        onCancel: () => undefined,
      });
      await shipper.flush();
      const result = spool.result();
      if (result && !shipper.fenced) await this.#deliver(spool, result, label, requestTimeoutMs);
      else spool.remove();
    }
  }

  /** Sends the task's zipped uploads; a refusal the runner cannot retry fails the task. */
  async #upload(
    offer: AcquireResponse,
    outcome: TaskOutcome,
    shipper: LogShipper,
    timeoutMs: number,
  ): Promise<TaskOutcome> {
    const upload = outcome.upload!;
    try {
      const res = await this.#retry(
        () =>
          this.#o.client.uploadArtifact(
            offer.lease,
            'uploads',
            upload.path,
            Math.max(timeoutMs, 10 * 60_000),
          ),
        Infinity,
      );
      shipper.write(
        `[baton] uploaded ${upload.entries} file(s), ${res.sizeBytes} bytes (sha256 ${res.sha256.slice(0, 12)})\n`,
      );
      return outcome;
    } catch (err) {
      const message = `uploading the task's files failed: ${toError(err).message}`;
      shipper.write(`[baton] ${message}\n`);
      // The server refused the zip's content (it names the entry): say so, not a generic setup failure.
      const reason =
        err instanceof BatonError && err.code === 'unsafe_archive' ? 'unsafe_archive' : 'setup_failed';
      return { ...outcome, status: 'failed', reason, message };
    } finally {
      await removeUpload(upload.path).catch((err: unknown) =>
        this.#o.log.warn(`could not remove ${upload.path}: ${toError(err).message}`),
      );
    }
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

/**
 * `client` for one attempt's calls while its `start` may still be on its way: each call waits for the
 * acknowledgement and fails, as not retryable, when there was none (the shipper and the lease keeper then
 * stop as if fenced).
 */
function afterStart(client: BatonClient, acknowledged: Promise<void>): BatonClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await acknowledged;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** statfs of the work dir, made first if it is missing (a removed work root is made again, as before). */
function workDirStatfs(workDir: string): StatsFs {
  try {
    return statfsSync(workDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(workDir, { recursive: true });
    return statfsSync(workDir);
  }
}
