// One step's process: spawn it in its own process group (inside the containment of containment.ts), stream its
// output, stop it (SIGTERM to the group, SIGKILL after a grace period), and make sure nothing of its group
// outlives it.
//
// Contract: `done` always resolves (never rejects), once, after the main process exited, the rest of
// its group was killed, and its output was read to the end (or given up on, see PIPE_DRAIN_MS).
// `stop` may be called any number of times, before or after exit; only the first call acts.
// Under namespace containment the step counts as started only when its init confirmed the hand-over on fd 4
// (mounts applied, the whole environment received); without that confirmation `done` carries `launchError`
// whatever the exit code was.

import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { cgroupGate } from './cgroups.ts';
import type { ContainmentPlan } from './containment.ts';
import { createLogDecoder } from './log-decoder.ts';
import { compiledInit, type InitProcess } from './held-inits.ts';
import { describeGroup } from './process-group.ts';
import { SYSTEM_PATH } from './system-path.ts';
import type { Deadman } from './types.ts';

/**
 * How a contained step sees the machine. Namespace: the task's mount table (containment.ts writeMountTable)
 * and its two dirs. Sandbox: bwrap's argv for the task (sandbox.ts sandboxPrefix) and the step's HOME.
 */
export interface StepView {
  /** `-`, the path of the mount table's file, or (compiled init) `table:` and the table itself. */
  fstab: string;
  workspace: string;
  internal: string;
  sandbox?: { prefix: string[]; home: string };
}

/**
 * After the main process exits and its group is killed, output pipes close at once unless a process
 * that left the group (setsid) still holds them; we wait this long for the last bytes, then stop reading.
 */
const PIPE_DRAIN_MS = 2_000;

/** Linux refuses a single environment string longer than this (MAX_ARG_STRLEN, 32 pages) with E2BIG. */
const MAX_ENV_STRING_BYTES = 128 * 1024 - 1;
/** And all of argv and the environment together past a quarter of the default 8 MiB stack. */
const MAX_ENV_TOTAL_BYTES = 2 * 1024 * 1024;

export interface StepProcessOptions {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  graceMs: number;
  onStdout: (text: string) => void;
  /** The raw bytes of stdout, instead of `onStdout` (a CGI driver's response is data, not log). */
  onStdoutBytes?: (bytes: Buffer) => void;
  onStderr: (text: string) => void;
  /**
   * Flow control (EngineOptions.logRoom), asked after each piece of stdout or stderr was handed on: while the
   * promise it returns is pending, neither stream is read, so the step blocks on its pipe once the pipe's
   * buffer is full. Time spent waiting does not count against PIPE_DRAIN_MS.
   */
  outputRoom?: () => Promise<void> | undefined;
  /** Baton's own notes about the process (what was killed). One line each, no newline. */
  onSystem: (text: string) => void;
  containment: ContainmentPlan;
  /** Namespace or sandbox containment: the task's view of the machine (run-task.ts taskView). */
  view?: StepView;
  /** Namespace containment: the lease deadline the step's tree enforces on its own. */
  deadman?: Deadman;
  /** Namespace containment: the task's cgroup (cgroups.ts); the chain waits behind a gate until it is inside. */
  cgroup?: { add(pid: number): void };
  /**
   * EngineOptions.started, for a contained step (handsOverEnvironment): its init gets the environment — and
   * starts the step — once this resolves; when it rejects the init gets none, says so and exits, the step
   * never run. Others must not be started before it resolves (run-step.ts waits).
   */
  started?: Promise<void>;
  /**
   * A held init (held-inits.ts) to start the step with instead of spawning one, asked for only when the step
   * would start under the compiled init without a cgroup gate; given the init's path, undefined when none waits.
   */
  held?: (initPath: string) => InitProcess | undefined;
}

/** Containment whose init takes the step's environment on a pipe, so it can be spawned before it may run. */
export function handsOverEnvironment(containment: ContainmentPlan): boolean {
  return containment.level === 'namespace' || containment.level === 'sandbox';
}

/** Why a step, driver or secret task did not run when EngineOptions.started rejected. */
export const START_NOT_ACKNOWLEDGED = "did not start: the server did not acknowledge the attempt's start";

/**
 * For what would run without a contained init to hold it back: waits for EngineOptions.started; false when it
 * rejected (nothing may run then), true at once when there is none to wait for.
 */
export async function startAcknowledged(started: Promise<void> | undefined): Promise<boolean> {
  return (
    started === undefined ||
    started.then(
      () => true,
      () => false,
    )
  );
}

export interface ProcessExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  spawnError?: NodeJS.ErrnoException;
  /** Set when the contained step never confirmed its start: it did not run, whatever its exit code says. */
  launchError?: string;
  /** A stop ran out of grace and SIGKILL was sent. */
  escalated?: boolean;
}

export interface StepProcess {
  /** Undefined when spawning failed synchronously or asynchronously. */
  pid: number | undefined;
  done: Promise<ProcessExit>;
  stop(why: string): void;
}

export function startStepProcess(options: StepProcessOptions): StepProcess {
  let child: InitProcess;
  let launch: Launch | undefined;
  try {
    checkEnvironment(options.env);
    if (handsOverEnvironment(options.containment)) {
      launch = startContained(options);
      child = launch.child;
    } else {
      const [command = '', ...args] = [...options.containment.prefix, ...options.argv];
      child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    }
  } catch (error) {
    // Node refuses some inputs before calling the kernel (NUL in an env value, for one).
    return {
      pid: undefined,
      done: Promise.resolve({ exitCode: null, signal: null, spawnError: asErrno(error) }),
      stop: () => {},
    };
  }
  const pid = child.pid;
  let exited = false;
  let killTimer: NodeJS.Timeout | undefined;
  let escalated = false;

  const stop = (why: string): void => {
    if (exited || killTimer !== undefined || pid === undefined) return;
    if (launch?.sandboxed === true) {
      // The step has a session of its own in the sandbox: SIGTERM to bwrap would kill it at once, so the
      // polite signal goes through the init's control channel, and SIGKILL (bwrap's tree dies with it) after.
      options.onSystem(`${why}: sending SIGTERM to the step's processes in its sandbox`);
      launch.terminate();
    } else {
      options.onSystem(`${why}: sending SIGTERM to process group ${pid} (${describeGroup(pid)})`);
      signalGroup(pid, 'SIGTERM');
    }
    killTimer = setTimeout(() => {
      options.onSystem(
        `process group ${pid} still running ${options.graceMs} ms after SIGTERM: sending SIGKILL (${describeGroup(pid)})`,
      );
      escalated = !exited;
      signalGroup(pid, 'SIGKILL');
    }, options.graceMs);
  };

  const done = new Promise<ProcessExit>((resolve) => {
    const stdout = createLogDecoder(options.onStdout);
    const stderr = createLogDecoder(options.onStderr);
    const raw = options.onStdoutBytes;
    let exit: ProcessExit | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let settled = false;
    /** Pending while the log's sink has no room: both streams are paused until it resolves. */
    let waiting: Promise<void> | undefined;
    const pace = (): void => {
      if (waiting !== undefined || options.outputRoom === undefined) return;
      const room = options.outputRoom();
      if (room === undefined) return;
      waiting = room;
      child.stdout?.pause();
      child.stderr?.pause();
      void room.then(() => {
        waiting = undefined;
        if (settled) return;
        child.stdout?.resume();
        child.stderr?.resume();
      });
    };
    child.stdout?.on(
      'data',
      raw ??
        ((b: Buffer) => {
          stdout.write(b);
          pace();
        }),
    );
    child.stderr?.on('data', (b: Buffer) => {
      stderr.write(b);
      pace();
    });
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(drainTimer);
      clearTimeout(killTimer);
      stdout.end();
      stderr.end();
      launch?.close();
      let result = exit ?? { exitCode: null, signal: null };
      if (launch !== undefined && !launch.confirmed() && result.spawnError === undefined)
        result = { ...result, launchError: launch.failure() };
      resolve(escalated ? { ...result, escalated } : result);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (pid !== undefined) {
        options.onSystem(`process ${pid}: ${error.message}`);
        return;
      }
      // No pid: the spawn itself failed (ENOENT, EACCES); no 'exit' follows.
      exited = true;
      exit = { exitCode: null, signal: null, spawnError: error };
      finish();
    });
    child.once('exit', (exitCode, signal) => {
      exited = true;
      exit = { exitCode, signal };
      if (pid !== undefined) killLeftovers(pid, options.onSystem);
      const giveUp = (): void => {
        // Paused for the log's sink: the pipes are not at fault; their grace starts again once reading does.
        if (waiting !== undefined) {
          void waiting.then(() => {
            if (!settled) drainTimer = setTimeout(giveUp, PIPE_DRAIN_MS);
          });
          return;
        }
        options.onSystem(
          `output is still held open by a process that left the step's process group; stopped reading it`,
        );
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      };
      drainTimer = setTimeout(giveUp, PIPE_DRAIN_MS);
    });
    child.once('close', finish);
  });
  return { pid, done, stop };
}

/** GitHub Actions' orphan cleanup: whatever the step left running in its group is killed now. */
function killLeftovers(pid: number, onSystem: (text: string) => void): void {
  // Usually the group is already empty (always so under namespace containment): a null signal says so without
  // reading every process's /proc entry, which cost more than the rest of a short step's bookkeeping.
  if (!signalGroup(pid, 0)) return;
  const left = describeGroup(pid);
  if (signalGroup(pid, 'SIGKILL') && left !== 'no processes') {
    onSystem(`killed what the step left running in its process group: ${left}`);
  }
}

/** True when at least one process got the signal. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if (asErrno(error).code === 'ESRCH') return false; // the whole group is already gone
    throw error;
  }
}

function asErrno(error: unknown): NodeJS.ErrnoException {
  return error instanceof Error ? error : new Error(String(error));
}

interface Launch {
  child: InitProcess;
  /** The init said `ready`: the step is running with everything it was given. */
  confirmed(): boolean;
  /** Why the step did not start, from the init's `fail` line or its silence. */
  failure(): string;
  /** Stops sending renewals; idempotent. */
  close(): void;
  /** Started in a sandbox (bwrap): the runner's group signals do not reach the step. */
  sandboxed: boolean;
  /** Asks the init to SIGTERM the step's process group (sandbox). */
  terminate(): void;
}

/**
 * Spawns the namespace chain with an environment of PATH only: the step's environment goes over fd 0, renewals
 * of the dead-man's switch over fd 3, and the init's confirmation comes back on fd 4 (step-init.ts).
 */
function startContained(options: StepProcessOptions): Launch {
  const view: StepView = options.view ?? { fstab: '-', workspace: options.cwd, internal: options.cwd };
  const sandbox = view.sandbox;
  if (options.containment.level === 'sandbox' && sandbox === undefined)
    throw new Error("a sandboxed step needs its task's sandbox (run-task.ts taskView)");
  const deadman = options.deadman;
  const leftMs = (deadline: number): string => String(Math.max(1, Math.floor(deadline - performance.now())));
  // In a sandbox the watchdog always runs: it is the way the cancel's SIGTERM reaches the step.
  const left = (): string =>
    deadman === undefined ? (sandbox === undefined ? '-' : 'inf') : leftMs(deadman.deadline());
  const gate = options.cgroup === undefined ? [] : cgroupGate();
  const [command = '', ...prefix] = [...gate, ...(sandbox?.prefix ?? options.containment.prefix)];
  const args = [left(), view.fstab, view.workspace, view.internal, options.cwd, ...options.argv];
  const initPath = gate.length === 0 ? compiledInit(options.containment) : undefined;
  // An argument with a NUL byte is left to spawn(), which refuses it (a held init gets them NUL-separated).
  const held =
    initPath === undefined || args.some((a) => a.includes('\0')) ? undefined : options.held?.(initPath);
  const child =
    held ??
    spawn(command, [...prefix, ...args], {
      cwd: options.cwd,
      env: { PATH: SYSTEM_PATH },
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', ...(gate.length > 0 ? (['pipe'] as const) : [])],
    });
  const gateError = openCgroupGate(child, options.cgroup);
  const toInit = child.stdio[0] as Writable | null;
  // A held init takes the arguments it would have had on its command line on fd 0, ahead of the environment.
  if (held !== undefined) toInit?.write(args.map((a) => `${a}\0`).join('') + '\0');
  const renewals = child.stdio[3] as Writable | null;
  const answers = child.stdio[4] as Readable | null;
  // The far ends go away with the step; a late write must not take the runner down.
  for (const s of [toInit, renewals, answers]) s?.on('error', () => {});
  const env = sandbox === undefined ? options.env : { ...options.env, HOME: sandbox.home };
  const entries = Object.entries(env).map(([k, v]) => `${k}=${v}\0`);
  const handOver = () => toInit?.end(entries.join('') + '\0');
  if (options.started === undefined) handOver();
  else options.started.then(handOver, () => toInit?.end());
  let said = '';
  answers?.setEncoding('utf8');
  answers?.on('data', (text: string) => {
    if (said.length < 4096) said += text;
  });
  const unsubscribe = deadman?.onRenew((deadline) => renewals?.write(`${leftMs(deadline)}\n`));
  let closed = false;
  return {
    child,
    confirmed: () => said.split('\n').includes('ready'),
    failure: () => {
      const failed = /^fail (.*)$/m.exec(said)?.[1];
      return failed ?? gateError ?? 'its contained shell ended before confirming the start';
    },
    close: () => {
      if (closed) return;
      closed = true;
      unsubscribe?.();
      renewals?.end();
    },
    sandboxed: sandbox !== undefined,
    terminate: () => {
      if (!closed) renewals?.write(`term ${left()}\n`);
    },
  };
}

/**
 * Puts the gate (cgroups.ts cgroupGate), which has not forked yet, into the task's cgroup and only then lets it
 * exec the chain; on failure the gate gets no `go` and exits unstarted. Returns why it failed.
 */
function openCgroupGate(child: InitProcess, cgroup: StepProcessOptions['cgroup']): string | undefined {
  if (cgroup === undefined) return undefined;
  const gate = (child.stdio as unknown[])[5] as Writable | null | undefined;
  gate?.on('error', () => {});
  try {
    if (child.pid === undefined) return 'it could not be spawned';
    cgroup.add(child.pid);
    gate?.end('go\n');
    return undefined;
  } catch (error) {
    gate?.end();
    return `cannot put it into the task's cgroup: ${asErrno(error).message}`;
  }
}

/** The kernel's limits, checked before spawning so the error can say which variable broke them. */
function checkEnvironment(env: Record<string, string>): void {
  let total = 0;
  for (const [name, value] of Object.entries(env)) {
    if (name.includes('\0') || value.includes('\0') || name.includes('='))
      throw Object.assign(
        new Error(`environment variable '${name.replaceAll('\0', '')}' holds a NUL or '='`),
        {
          code: 'ERR_INVALID_ARG_VALUE',
        },
      );
    const bytes = Buffer.byteLength(name) + Buffer.byteLength(value) + 2;
    total += bytes;
    if (bytes > MAX_ENV_STRING_BYTES)
      throw Object.assign(
        new Error(`environment variable '${name}' is ${bytes} bytes; Linux allows ${MAX_ENV_STRING_BYTES}`),
        { code: 'E2BIG' },
      );
  }
  if (total > MAX_ENV_TOTAL_BYTES)
    throw Object.assign(
      new Error(`the environment is ${total} bytes; Linux allows about ${MAX_ENV_TOTAL_BYTES} in all`),
      { code: 'E2BIG' },
    );
}
