// Contained shells started ahead of the task: the expensive part of starting a step in its own PID namespace
// (setpriv → unshare --pid --fork --mount-proc → the init shim → sh: ~6 ms more than a bare shell, issue 8's W1)
// happens while the runner waits for work, and a step only has to hand its script over.
//
// Each warm shell is the namespace chain of containment.ts whose inner sh, instead of exec'ing an argv,
// sources a FIFO: it blocks opening it until the runner writes the step's launch script (cd, the step's
// environment as `export`s, `exec` of the step's argv) and closes it. The script travels through the kernel's
// pipe buffer, so the environment (secrets included) never touches a disk; the FIFO sits in a private 0700
// directory outside the runner's state dir. A shell that is not ready when a step wants one is not used: the
// step is spawned the usual way.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_PATH, type ContainmentPlan } from './containment.ts';
import { findOnPath } from './shell.ts';

/** Launch scripts longer than this (a huge environment) would not fit the pipe buffer at once: spawn instead. */
const MAX_LAUNCH_BYTES = 60 * 1024;

const DIR_PREFIX = 'baton-warm-';

/** FIFO directories of runner processes that died without closing their pool (SIGKILL): removed. */
function removeStaleDirs(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^baton-warm-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** A contained shell waiting for one step. */
export interface WarmShell {
  child: ChildProcess;
  /**
   * Hands the step over: true when the shell took it (the step now runs as this child's process tree), false
   * when it could not (the caller kills nothing: the pool already discarded the shell) and must spawn.
   */
  launch(argv: string[], cwd: string, env: Record<string, string>): boolean;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The script the inner sh sources: enter the cwd, replace its environment with the step's, exec the step. */
export function launchScript(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
  envBinary: string,
): string {
  const lines = [`cd -- ${quote(cwd)} || exit 127`];
  const names = Object.keys(env);
  if (names.every((n) => IDENTIFIER.test(n))) {
    // The shell was started with PATH only; cd sets PWD and OLDPWD. Drop all three, then export the step's.
    lines.push('unset PATH PWD OLDPWD');
    if (names.length > 0) lines.push(`export ${names.map((n) => `${n}=${quote(env[n]!)}`).join(' ')}`);
    lines.push(`exec ${argv.map(quote).join(' ')}`);
  } else {
    // A name sh cannot export (a dot, a dash): env(1) sets any name.
    const pairs = names.map((n) => quote(`${n}=${env[n]!}`)).join(' ');
    lines.push(`exec ${quote(envBinary)} -i ${pairs} ${argv.map(quote).join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

export class WarmShells {
  readonly plan: ContainmentPlan;
  #prefix: string[];
  #envBinary: string;
  #mkfifo: string;
  #size: number;
  #dir: string;
  #ready: Array<{ child: ChildProcess; fifo: string }> = [];
  #starting = 0;
  #closed = false;
  #seq = 0;

  private constructor(
    plan: ContainmentPlan,
    prefix: string[],
    tools: { env: string; mkfifo: string },
    size: number,
  ) {
    this.plan = plan;
    this.#prefix = prefix;
    this.#envBinary = tools.env;
    this.#mkfifo = tools.mkfifo;
    this.#size = size;
    removeStaleDirs();
    this.#dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  }

  /** A pool of `size` shells for `plan`, or undefined when the plan is not namespace containment. */
  static create(plan: ContainmentPlan, size: number): WarmShells | undefined {
    if (plan.level !== 'namespace' || plan.warmPrefix === undefined || size < 1) return undefined;
    const mkfifo = findOnPath('mkfifo', SYSTEM_PATH);
    const env = findOnPath('env', SYSTEM_PATH);
    if (mkfifo === undefined || env === undefined) return undefined;
    const pool = new WarmShells(plan, plan.warmPrefix, { env, mkfifo }, size);
    pool.#fill();
    return pool;
  }

  /** The private directory of this pool's FIFOs (its shells' command lines name it). */
  get dir(): string {
    return this.#dir;
  }

  /** A ready shell, or undefined; a replacement starts in the background either way. */
  take(): WarmShell | undefined {
    let shell: { child: ChildProcess; fifo: string } | undefined;
    while ((shell = this.#ready.shift()) !== undefined) {
      if (shell.child.exitCode === null && shell.child.signalCode === null) break;
      this.#discard(shell);
    }
    this.#fill();
    if (shell === undefined) return undefined;
    const { child, fifo } = shell;
    return {
      child,
      launch: (argv, cwd, env) => {
        const script = Buffer.from(launchScript(argv, cwd, env, this.#envBinary), 'utf8');
        let fd: number | undefined;
        try {
          if (script.length > MAX_LAUNCH_BYTES) throw new Error('launch script too long for one pipe write');
          // Non-blocking: fails at once (ENXIO) unless the shell is already waiting on the FIFO.
          fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
          if (writeSync(fd, script) !== script.length) throw new Error('short write to the warm shell');
          return true;
        } catch {
          this.#discard(shell);
          return false;
        } finally {
          if (fd !== undefined) closeSync(fd);
          rmSync(fifo, { force: true });
        }
      },
    };
  }

  /** Kills the idle shells and removes their FIFOs. */
  close(): void {
    this.#closed = true;
    for (const s of this.#ready.splice(0)) this.#discard(s);
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #discard(shell: { child: ChildProcess; fifo: string }): void {
    if (shell.child.pid !== undefined && shell.child.exitCode === null) {
      try {
        process.kill(-shell.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(shell.fifo, { force: true });
  }

  #fill(): void {
    while (!this.#closed && this.#ready.length + this.#starting < this.#size) {
      this.#starting++;
      void this.#start()
        .then((shell) => {
          if (shell === undefined) return;
          if (this.#closed) this.#discard(shell);
          else this.#ready.push(shell);
        })
        .finally(() => this.#starting--);
    }
  }

  async #start(): Promise<{ child: ChildProcess; fifo: string } | undefined> {
    const fifo = join(this.#dir, `step-${++this.#seq}`);
    const made = await new Promise<boolean>((resolve) => {
      const p = spawn(this.#mkfifo, ['-m', '600', fifo], { stdio: 'ignore' });
      p.once('error', () => resolve(false));
      p.once('exit', (code) => resolve(code === 0));
    });
    if (!made || this.#closed) {
      rmSync(fifo, { force: true });
      return undefined;
    }
    let child: ChildProcess;
    try {
      child = spawn(this.#prefix[0]!, [...this.#prefix.slice(1), fifo], {
        cwd: this.#dir,
        env: { PATH: SYSTEM_PATH },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch {
      rmSync(fifo, { force: true });
      return undefined;
    }
    child.once('error', () => rmSync(fifo, { force: true }));
    // Nothing reads its output until a step takes it; a shell that dies while waiting is skipped by take().
    return { child, fifo };
  }
}
