// Held inits started by a small host process instead of by forking the runner (docs/adr/0025-init-host.md).
//
// A fork copies the page tables of the whole runner (~80–100 MiB) and Node's spawn waits on the runner's only
// thread until the child has exec'd: 2.4–2.7 ms of the runner's CPU and 3.7–4.0 ms of its loop per held init
// on this project's machine, and every page the runner writes afterwards faults once more. The compiled init
// run as `baton-init --host` (init/baton-init.c) does the forking instead: it is a static binary of a few
// hundred KiB, so its fork costs microseconds, and the runner's loop only receives five descriptors.
//
// The runner talks to the host over Node's IPC channel: it asks `{"hold":N}`; the host makes the held init's
// five socket pairs, starts it, and passes the runner's ends one per message the way Node passes a socket
// (`NODE_HANDLE`), so they arrive here as net.Sockets that no other process holds — as ADR 0004 requires of a
// step's hand-over. The five go out together, and the host reaps the inits and reports each end
// (`{"exit":PID,...}`) also while a hand-over waits for Node's answers: a step's end no longer queues behind the
// refill of the held inits (five acknowledgement round trips each). It dies with the
// runner (its parent-death signal), and the inits, which die with their parent, die with it: the chain that
// kills a step when the runner is killed is one link longer, not weaker.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { constants } from 'node:os';
import { SYSTEM_PATH } from './system-path.ts';

/** Signal names by number, the first name of each (SIGABRT, not its alias SIGIOT), as Node's exit event has them. */
const SIGNAL_NAMES = new Map<number, NodeJS.Signals>();
for (const [name, n] of Object.entries(constants.signals))
  if (!SIGNAL_NAMES.has(n)) SIGNAL_NAMES.set(n, name as NodeJS.Signals);

/** A host that died, or left a hold unanswered, this many times in a row is not used again. */
const MAX_HOST_FAILURES = 3;
/** A hold the host has not answered by then counts as a failure (the runner spawns that init itself). */
const HOLD_TIMEOUT_MS = 30_000;

/**
 * A held init the host started, with what a step's start uses of a ChildProcess (step-process.ts): its pid,
 * its five descriptors as `stdio`, `exit` (code, signal) when the host reaped it, and `close` once it exited
 * and its readable descriptors (1–4) closed.
 */
export class HostedInit extends EventEmitter {
  readonly pid: number;
  readonly spawnfile: string;
  readonly stdio: ChildProcess['stdio'];
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  killed = false;
  #exited = false;
  #closed = false;
  #open: number;

  constructor(pid: number, path: string, sockets: Duplex[]) {
    super();
    this.pid = pid;
    this.spawnfile = path;
    this.stdio = sockets as unknown as ChildProcess['stdio'];
    for (const s of sockets) s.on('error', () => {}); // the far end goes away with the step
    // fd 0 and fd 3 are written, never read: reading them is how their end is seen (and their socket freed).
    sockets[0]!.resume();
    sockets[3]!.resume();
    const readable = sockets.slice(1);
    this.#open = readable.length;
    for (const s of readable)
      s.once('close', () => {
        this.#open--;
        this.#closeIfDone();
      });
  }

  get stdin(): ChildProcess['stdin'] {
    return this.stdio[0];
  }
  get stdout(): ChildProcess['stdout'] {
    return this.stdio[1];
  }
  get stderr(): ChildProcess['stderr'] {
    return this.stdio[2];
  }

  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.#exited) return false;
    try {
      process.kill(this.pid, signal);
      this.killed = true;
      return true;
    } catch {
      return false;
    }
  }

  /** The host reaped it (or died, and it with the host). */
  ended(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#exited) return;
    this.#exited = true;
    this.exitCode = code;
    this.signalCode = signal;
    // As Node does for a child's stdin: nothing more can be written to a process that is gone.
    this.stdio[0]?.destroy();
    this.emit('exit', code, signal);
    this.#closeIfDone();
  }

  #closeIfDone(): void {
    if (!this.#exited || this.#open > 0 || this.#closed) return;
    this.#closed = true;
    this.emit('close', this.exitCode, this.signalCode);
  }
}

interface Waiting {
  sockets: Duplex[];
  pid: number;
  /** The host reported the init's end before its last descriptor arrived (one it had to send again). */
  ended?: { code: number | null; signal: NodeJS.Signals | null };
  timer: NodeJS.Timeout;
  resolve: (init: HostedInit | undefined) => void;
}

type HostMessage =
  | { held: number; pid: number; fd: number }
  | { unheld: number; errno: number }
  | { exit: number; code: number | null; signal: number | null };

/** One host per compiled init binary; `hold` asks it for a held init. */
export class InitHost {
  readonly #path: string;
  #child: ChildProcess | undefined;
  #next = 1;
  #waiting = new Map<number, Waiting>();
  /** Inits handed out and not yet reported ended, by pid. */
  #live = new Map<number, HostedInit>();
  #failures = 0;
  #closed = false;

  constructor(path: string) {
    this.#path = path;
  }

  /** The compiled init the host runs (and starts held inits of). */
  get path(): string {
    return this.#path;
  }

  /** False once the host failed to start (or died) MAX_HOST_FAILURES times in a row, or was closed. */
  get usable(): boolean {
    return !this.#closed && this.#failures < MAX_HOST_FAILURES;
  }

  /** The host's pid while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** A held init started by the host; undefined when the host could not start one (the caller spawns it). */
  hold(): Promise<HostedInit | undefined> {
    const child = this.#start();
    if (child === undefined) return Promise.resolve(undefined);
    const id = this.#next++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const w = this.#waiting.get(id);
        if (w === undefined) return;
        this.#waiting.delete(id);
        this.#failures++;
        this.#discard(w);
      }, HOLD_TIMEOUT_MS);
      timer.unref();
      this.#waiting.set(id, { sockets: [], pid: 0, timer, resolve });
      child.send({ hold: id }, (error) => {
        if (error === null) return;
        const w = this.#waiting.get(id);
        this.#waiting.delete(id);
        if (w !== undefined) this.#discard(w);
      });
    });
  }

  /**
   * No more holds. The host stays until every init it handed out has ended — they die with it — and then
   * leaves; a runner that exits first takes it along (its parent-death signal).
   */
  close(): void {
    this.#closed = true;
    for (const [, w] of this.#waiting) this.#discard(w);
    this.#waiting.clear();
    this.#stopIfIdle();
  }

  #start(): ChildProcess | undefined {
    if (!this.usable) return undefined;
    if (this.#child !== undefined) return this.#child;
    const child = spawn(this.#path, ['--host'], {
      cwd: '/',
      env: { PATH: SYSTEM_PATH },
      // A session of its own, as the held inits had: a terminal's Ctrl-C is for the runner, which then
      // cancels its tasks; the host and the steps it started are not the terminal's to kill.
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      serialization: 'json',
    });
    this.#child = child;
    child.on('message', (message: HostMessage, handle?: Duplex) => this.#message(message, handle));
    child.on('error', () => this.#lost(child));
    child.on('exit', () => this.#lost(child));
    // An idle host keeps neither the runner's loop nor its exit waiting.
    child.unref();
    child.channel?.unref();
    return child;
  }

  #message(message: HostMessage, handle: Duplex | undefined): void {
    if ('held' in message) {
      const w = this.#waiting.get(message.held);
      if (w === undefined || handle === undefined) {
        handle?.destroy();
        return;
      }
      w.sockets[message.fd] = handle;
      w.pid = message.pid;
      if (w.sockets.filter(Boolean).length < 5) return;
      this.#waiting.delete(message.held);
      clearTimeout(w.timer);
      this.#failures = 0;
      const init = new HostedInit(w.pid, this.#path, w.sockets);
      if (w.ended === undefined) this.#live.set(w.pid, init);
      else init.ended(w.ended.code, w.ended.signal);
      w.resolve(init);
    } else if ('unheld' in message) {
      const w = this.#waiting.get(message.unheld);
      this.#waiting.delete(message.unheld);
      if (w !== undefined) this.#discard(w);
    } else if ('exit' in message) {
      const signal = message.signal === null ? null : (SIGNAL_NAMES.get(message.signal) ?? null);
      const init = this.#live.get(message.exit);
      this.#live.delete(message.exit);
      if (init !== undefined) init.ended(message.code, signal);
      else
        // The host reports ends while a hand-over waits for its answers: all five descriptors of an init are
        // sent before its end can be, but one Node refused (NACK) is sent again after it.
        for (const [, w] of this.#waiting)
          if (w.pid === message.exit) w.ended = { code: message.code, signal };
      this.#stopIfIdle();
    }
  }

  /** The host is gone: so is every init it started (their parent-death signal), running or held. */
  #lost(child: ChildProcess): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    if (this.#live.size === 0) this.#failures++;
    for (const [, w] of this.#waiting) this.#discard(w);
    this.#waiting.clear();
    for (const [, init] of this.#live) init.ended(null, 'SIGKILL');
    this.#live.clear();
  }

  #discard(w: Waiting): void {
    clearTimeout(w.timer);
    for (const s of w.sockets) s?.destroy();
    if (w.pid > 0) {
      try {
        process.kill(w.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    w.resolve(undefined);
  }

  #stopIfIdle(): void {
    if (!this.#closed || this.#live.size > 0 || this.#child === undefined) return;
    const child = this.#child;
    this.#child = undefined;
    child.kill('SIGKILL');
  }
}
