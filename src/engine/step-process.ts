// One step's process: spawn it in its own process group, stream its output, stop it (SIGTERM to the
// group, SIGKILL after a grace period), and make sure nothing of its group outlives it.
//
// Contract: `done` always resolves (never rejects), once, after the main process exited, the rest of
// its group was killed, and its output was read to the end (or given up on, see PIPE_DRAIN_MS).
// `stop` may be called any number of times, before or after exit; only the first call acts.

import { spawn, type ChildProcess } from 'node:child_process';
import { createLogDecoder } from './log-decoder.ts';
import { describeGroup } from './process-group.ts';
import type { WarmShell } from './warm-shells.ts';

/**
 * After the main process exits and its group is killed, output pipes close at once unless a process
 * that left the group (setsid) still holds them; we wait this long for the last bytes, then stop reading.
 */
const PIPE_DRAIN_MS = 2_000;

export interface StepProcessOptions {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  graceMs: number;
  onStdout: (text: string) => void;
  onStderr: (text: string) => void;
  /** Baton's own notes about the process (what was killed). One line each, no newline. */
  onSystem: (text: string) => void;
  /**
   * A contained shell started ahead of the step, and the step's argv without the containment prefix: used
   * when it takes the step, else `argv` is spawned as usual.
   */
  warm?: { shell: WarmShell; argv: string[] };
}

export interface ProcessExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  spawnError?: NodeJS.ErrnoException;
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
  const [command = '', ...args] = options.argv;
  let child: ChildProcess;
  try {
    const warm = options.warm;
    child =
      warm !== undefined && warm.shell.launch(warm.argv, options.cwd, options.env)
        ? warm.shell.child
        : spawn(command, args, {
            cwd: options.cwd,
            env: options.env,
            detached: true,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
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
    options.onSystem(`${why}: sending SIGTERM to process group ${pid} (${describeGroup(pid)})`);
    signalGroup(pid, 'SIGTERM');
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
    child.stdout?.on('data', (b: Buffer) => stdout.write(b));
    child.stderr?.on('data', (b: Buffer) => stderr.write(b));
    let exit: ProcessExit | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(drainTimer);
      clearTimeout(killTimer);
      stdout.end();
      stderr.end();
      const result = exit ?? { exitCode: null, signal: null };
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
      drainTimer = setTimeout(() => {
        options.onSystem(
          `output is still held open by a process that left the step's process group; stopped reading it`,
        );
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, PIPE_DRAIN_MS);
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
