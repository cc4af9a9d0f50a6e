// The engine's public types: what a caller passes to runTask and what it gets back.
// Contract: runTask never rejects for a user's failure (exit code, timeout, cancel, bad output file,
// a bad expression, a missing upload, a hostile artifact); those are TaskOutcomes. It rejects only when
// the machine itself fails (work root not writable, onLog threw).

import type { InitProcess } from './held-inits.ts';
import type { ArtifactRef, TaskLimits } from '../protocol/plan.ts';
import type { CompleteCache } from '../protocol/cache.ts';
import type { TaskCacheAccess } from './task-cache.ts';
import type { Outcome, Reason } from '../protocol/status.ts';
import type { ArchiveLimits } from './archive-limits.ts';
import type { Annotation, StepSummary } from '../protocol/annotation-limits.ts';
import type { SpareWorkDir } from './work-dir.ts';

/**
 * How step processes are kept from outliving their task. `auto` picks the strongest one available of
 * `namespace`, `pdeathsig`, `none` (host isolation); `sandbox` (bubblewrap, sandbox.ts) only when asked for.
 */
export const CONTAINMENTS = ['auto', 'sandbox', 'namespace', 'pdeathsig', 'none'] as const;
export type Containment = (typeof CONTAINMENTS)[number];

export interface EngineOptions {
  /**
   * Secret values the task's expressions may read as `secrets.NAME`; each one is masked in every log line,
   * message and output. Never put into the runner's own environment.
   */
  secrets?: Record<string, string>;
  /** The runner's work_dir (e.g. "_work"); created if missing. */
  workRoot: string;
  /**
   * A work dir made ahead in workRoot (runner/spare-work-dirs.ts), renamed to the task's instead of made on
   * its start; undefined when none is ready. Default: none.
   */
  spareWorkDir?: () => SpareWorkDir | undefined;
  /**
   * A step init started ahead of the task (held-inits.ts HeldInits.take), for the task's first step that starts
   * under the compiled init; given the init's path, undefined when none waits. Default: none (spawned).
   */
  heldInit?: (initPath: string) => InitProcess | undefined;
  /**
   * A directory copied into the workspace of every task that runs steps, before its first step: the user's
   * checkout under `baton run` (cli/checkout.ts). Without it the workspace starts empty.
   */
  seedWorkspace?: string;
  /** Runner process env + .env values, already merged by the caller. */
  baseEnv: Record<string, string>;
  /** Abort = cancel the task: SIGTERM to the running step's process group, SIGKILL after cancelGraceMs. */
  signal?: AbortSignal;
  /**
   * The server's acknowledgement of the attempt's start (the protocol's `start`), when the runner sends it
   * while the engine prepares: the work dir, the step files and a contained step's init are made meanwhile,
   * but no step gets its environment — so none runs — before it resolves, and none ever does once it
   * rejected (the caller then aborts `signal`). Default: acknowledged already.
   */
  started?: Promise<void>;
  /** Time between SIGTERM and SIGKILL on timeout and cancel. Default 10_000 ms. */
  cancelGraceMs?: number;
  /** Called as output arrives, not split into lines (the caller batches). Must not throw. */
  onLog: (chunk: LogEvent) => void;
  /**
   * Flow control from the log's sink, asked after each piece of a step's output went to onLog: undefined
   * when it has room for more, else a promise that resolves once it has (it must resolve, never reject).
   * Meanwhile the engine reads none of the step's stdout or stderr, so a step printing faster than the sink
   * takes its log blocks on its pipe. Nothing is dropped, and timeouts and cancels act as usual while it waits.
   * Default: output is read as fast as it comes.
   */
  logRoom?: () => Promise<void> | undefined;
  onStep?: (e: StepEvent) => void;
  /**
   * Process containment. Default `auto`: `namespace` where it works (root or user namespaces),
   * else `pdeathsig` where setpriv is installed, else `none` (process group only). `sandbox`: every step in
   * bubblewrap (sandbox.ts); runTask rejects when bwrap cannot run here.
   */
  containment?: Containment;
  /**
   * The lease the task runs under, enforced inside each step's own process tree (namespace containment): when
   * the runner stops renewing — frozen, killed, cut off — the tree kills itself at the deadline without the
   * runner's help, so a retry elsewhere never overlaps this attempt.
   */
  deadman?: Deadman;
  /**
   * A directory no task can open (mode 0700, outside every work dir) where the engine keeps what it hands to
   * its own processes (the task's mount table). Default: a private directory made under the OS temp dir.
   */
  controlDir?: string;
  /**
   * The runner's own files and directories (state dir, config, token file) that steps must not see. Under
   * namespace containment they are covered in the step's mount namespace; missing paths are skipped.
   */
  hide?: string[];
  /** `runner.name` in expressions. Default: the host name. */
  runnerName?: string;
  /**
   * Downloads one of the task's artifacts and resolves with the path of a local zip (the caller owns
   * and deletes it). Required when the task has artifacts; a rejection fails the task (`setup_failed`).
   */
  fetchArtifact?: (ref: ArtifactRef) => Promise<string>;
  /**
   * The runner's default resource limits: each one the task does not set itself applies to it. Enforced with a
   * cgroup per task (cgroups.ts) only where limitsSupport() holds; elsewhere a task with limits fails
   * `setup_failed`.
   */
  defaultLimits?: TaskLimits;
  /** Limits for extracted artifacts and the upload archive. Default ARCHIVE_LIMITS. */
  archiveLimits?: Partial<ArchiveLimits>;
  /**
   * The cache lookup for a task that declares `cache:` (task-cache.ts). Without it such a task runs every time
   * and reports nothing about the cache.
   */
  cache?: TaskCacheAccess;
  /**
   * The custom task types this runner has a CGI driver for (drivers.ts findDrivers); a task of a custom type
   * missing here fails `setup_failed` (the server offers such tasks only to runners that advertise the type).
   */
  drivers?: ReadonlyMap<string, Driver>;
  /**
   * The sources a `secret` task may fetch from, by the name its spec's `source` gives (the runner's, in
   * runner/secret-sources/: the engine does no network itself). A task whose source is missing here fails
   * `setup_failed` naming it.
   */
  secretSources?: ReadonlyMap<string, SecretSource>;
}

/**
 * The plugin interface of the `secret` task type: one object per source, given in EngineOptions.secretSources.
 *
 * Contract: fetch() is called once per attempt with the task's spec, every `${{ }}` already evaluated on this
 * runner. It resolves with the secret's key/value pairs (strings) or rejects with a SecretSourceError
 * (secret-task.ts) whose message a user can act on: what failed, where (the path), and the source's own words —
 * never a value. It must stop when `signal` aborts (the task's timeout, the fetch timeout or a cancel) and must
 * not read more than `maxResponseBytes` of any answer. It must not log: the engine logs what a user may see.
 */
export interface SecretSource {
  /** The `source` a spec names. */
  readonly name: string;
  fetch(spec: Record<string, unknown>, ctx: SecretFetchContext): Promise<Record<string, string>>;
}

export interface SecretFetchContext {
  task: string;
  signal: AbortSignal;
  /** No answer body larger than this is read (SECRET_RESPONSE_MAX_BYTES). */
  maxResponseBytes: number;
}

/** One custom type's driver: the executable (resolved path) and its version, a hash of its bytes. */
export interface Driver {
  type: string;
  path: string;
  version: string;
}

/** A lease deadline that moves as the runner renews it (times are performance.now() values). */
export interface Deadman {
  /** When the tree must be dead if no renewal arrives before. */
  deadline(): number;
  /** Called with the new deadline after each renewal; returns the unsubscribe function. */
  onRenew(listener: (deadline: number) => void): () => void;
}

/**
 * `text` is valid UTF-8: decoded with a streaming TextDecoder, so invalid bytes become U+FFFD and a
 * character split across reads arrives intact. NUL characters are replaced with U+FFFD too
 * (NUL cannot be stored in PostgreSQL text). `system` chunks are Baton's own notes, one line each.
 */
export interface LogEvent {
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
}

export interface StepEvent {
  index: number;
  name: string;
  state: 'started' | 'finished';
  exitCode?: number | null;
  durationMs?: number;
  /** How a finished step ended. */
  status?: StepStatus;
  /** Host pid of the step's process group leader (the containment wrapper when there is one). */
  pid?: number;
}

export type StepStatus = Outcome | 'skipped';

export interface StepResult {
  name: string;
  status: StepStatus;
  exitCode: number | null;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
}

export type OutcomeReason = Extract<
  Reason,
  | 'exit_code'
  | 'timeout'
  | 'cancelled'
  | 'spawn_failed'
  | 'setup_failed'
  | 'invalid_output_file'
  | 'out_of_memory'
  // The work dir's disk filled while the uploads were zipped.
  | 'disk_full'
  // Set by the runner when the server refuses the uploads' zip (protocol/archive-rules.ts).
  | 'unsafe_archive'
  // A variable born at run time passed an environment limit (engine/env-limits.ts).
  | 'env_too_large'
  // A custom type's driver failed or gave a bad response (engine/run-driver.ts).
  | 'driver_failed'
>;

export interface TaskOutcome {
  status: Outcome;
  reason?: OutcomeReason;
  /** A sentence for people, e.g. "step 'compile' exited with code 2". Masked like the log. */
  message?: string;
  /**
   * Of the step that failed the task, else of the last step that ran; null when it was killed by a
   * signal or never started.
   */
  exitCode: number | null;
  /**
   * Parsed from the BATON_OUTPUT file only; stdout is never parsed for outputs. Real values, confidential
   * ones included: the server needs them for dependents and must keep them out of sight itself.
   */
  outputs: Record<string, string>;
  /** Names of the task's exports declared `confidential: true`. */
  confidential: string[];
  steps: StepResult[];
  /**
   * The zipped uploads, when the task declares some and succeeded. The file is left in the task's side
   * dir; the caller sends it, then deletes it with removeUpload(path). `bytes` is the zip file's size.
   */
  upload?: { path: string; entries: number; bytes: number };
  /** A task that declares `cache:`: the key it used and whether its outputs came from the cache. */
  cache?: CompleteCache;
  /** From ::error::, ::warning::, ::notice:: (workflow-commands.ts), masked; absent when none. */
  annotations?: Annotation[];
  /** What steps wrote to GITHUB_STEP_SUMMARY (step-files.ts), masked; absent when none. */
  summaries?: StepSummary[];
  startedAt: string;
  finishedAt: string;
}
