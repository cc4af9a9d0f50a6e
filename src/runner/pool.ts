// The ephemeral runner pool (`baton runner pool`): N slots, each a loop that mints a fresh one-task runner
// identity, hands it to a child runner process, waits for that process to run one task and exit, unregisters
// the identity and deletes everything the slot made — then starts over.
//
// Trust boundaries (DESIGN.md "Security model", issue 13):
// - Only this process knows the registration token. A slot's child gets its runner token, key and settings
//   over its IPC channel — never in its argv, its environment or a file a task can open — and its tasks run
//   with the pool's whole directory (every slot's state, the status file) hidden from them.
// - Each slot has a 128-bit random secret that only this process and the slot's child know (it travels over
//   the same channel); every control message either way carries it, and nothing but this process decides
//   that a loop ends: a child that exits, is killed, or says anything else just ends that one iteration.
// - The slot's child is started in its own process group, which the pool kills when the iteration ends, so
//   nothing a slot started outlives it; its steps are contained by the engine as under `runner start`.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { createBackoff, createClient, delay, isRetryable, type BatonClient } from '../client/index.ts';
import { toError } from '../protocol/errors.ts';
import { newIdentity, saveIdentity } from './identity.ts';
import type { RunnerLogger } from './agent.ts';

/** What the pool sends a slot's child first, over IPC: everything it needs to run as one runner. */
export interface SlotHandover {
  type: 'handover';
  secret: string;
  server: string;
  runnerId: string;
  token: string;
  name: string;
  workDir: string;
  stateDir: string;
  /** The pool's own directories: no step of the slot may see them. */
  hide: string[];
  /** Where every slot finds the compiled step init, built once for the pool (inside a hidden directory). */
  stepInitDir?: string;
  isolation: string;
  /** `none`: the slot's runner gives no task a network. */
  network: 'host' | 'none';
  /** The drivers directory (absolute) the slot's runner reads at its start (engine/drivers.ts). */
  drivers?: string;
  caFile?: string;
}

/** Messages between the pool and a slot's child; each carries the slot's secret. */
export type PoolToSlot =
  SlotHandover | { type: 'drain'; secret: string } | { type: 'cancel'; secret: string };
export type SlotToPool =
  | { type: 'ready'; secret: string }
  | { type: 'task'; secret: string; task: string; runId: string; attempt: number }
  | { type: 'finished'; secret: string; status: string }
  | { type: 'error'; secret: string; message: string };

export type SlotState = 'starting' | 'idle' | 'running' | 'draining' | 'cleaning' | 'stopped' | 'failed';

export interface SlotStatus {
  index: number;
  state: SlotState;
  runnerId: string | null;
  runnerName: string | null;
  /** The pid of the slot's runner process while it has one (to watch it, or to kill it by hand). */
  pid: number | null;
  /** `<run id>/<task>` while a task runs. */
  task: string | null;
  tasksServed: number;
  startedAt: string;
  error?: string;
}

export interface PoolStatus {
  pid: number;
  server: string;
  startedAt: string;
  updatedAt: string;
  stopping: boolean;
  slots: SlotStatus[];
}

export interface PoolOptions {
  server: string;
  registrationToken: string;
  size: number;
  /** Per-slot lifetime: a slot that reached it drains and stops; undefined for no limit. */
  lifetimeMs?: number;
  isolation: string;
  network: 'host' | 'none';
  /** A directory of CGI drivers for custom task types, given to every slot (docs/drivers.md). */
  drivers?: string;
  labels: string[];
  /** The pool's private directory (mode 0700): slot state, status file. Hidden from every step. */
  dir: string;
  /** Where slots' work dirs are made (default `<dir>/work`). */
  workDir: string;
  namePrefix: string;
  version: string;
  caFile?: string;
  /** argv (command first) that starts a slot's child: `baton runner pool slot`. */
  slotCommand: string[];
  /** The environment a slot's child starts with (the pool scrubs BATON_* settings and secrets from it). */
  slotEnv: Record<string, string>;
  log: RunnerLogger;
}

/** A slot that cannot get a child to take its identity this many times in a row gives up. */
const MAX_SETUP_FAILURES = 3;

export const STATUS_FILE = 'status.json';

export function newSlotSecret(): string {
  return randomBytes(16).toString('hex');
}

export class Pool {
  #o: PoolOptions;
  #client: BatonClient;
  #stopping = 0;
  #abort = new AbortController();
  #slots: SlotStatus[];
  #children = new Map<number, { child: ChildProcess; secret: string }>();
  #startedAt = new Date().toISOString();
  failed = false;

  constructor(o: PoolOptions) {
    this.#o = o;
    this.#client = createClient({ baseUrl: o.server, userAgent: `baton-runner-pool/${o.version}` });
    this.#slots = Array.from({ length: o.size }, (_, index) => ({
      index,
      state: 'starting' as SlotState,
      runnerId: null,
      runnerName: null,
      pid: null,
      task: null,
      tasksServed: 0,
      startedAt: new Date().toISOString(),
    }));
  }

  get #slotsRoot(): string {
    return join(this.#o.dir, 'slots');
  }

  /** The pool's directories a step must not see; a work dir inside the pool dir is covered by it already. */
  get #hidden(): string[] {
    const dir = resolve(this.#o.dir);
    const work = resolve(this.#o.workDir);
    const rel = relative(dir, work);
    const inside = rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
    return inside ? [dir] : [dir, work];
  }

  /** Runs every slot until it reached its lifetime or the pool was stopped; resolves when all have ended. */
  async run(): Promise<void> {
    mkdirSync(this.#o.dir, { recursive: true, mode: 0o700 });
    // Whatever a pool killed earlier left behind is nobody's: its runners are removed by the server's reaper.
    rmSync(this.#slotsRoot, { recursive: true, force: true });
    mkdirSync(this.#slotsRoot, { recursive: true, mode: 0o700 });
    mkdirSync(this.#o.workDir, { recursive: true, mode: 0o700 });
    this.#writeStatus();
    await Promise.all(this.#slots.map((s) => this.#loop(s)));
    this.#writeStatus();
  }

  /** First call: every slot drains (finishes its task, takes no more). Second: running tasks are cancelled. */
  stop(): void {
    this.#stopping++;
    this.#abort.abort();
    const type = this.#stopping === 1 ? 'drain' : 'cancel';
    this.#o.log.info(
      type === 'drain'
        ? 'stopping: slots finish their running tasks and take no new ones'
        : 'stopping now: cancelling running tasks',
    );
    for (const [index, { child, secret }] of this.#children) {
      this.#send(child, { type, secret });
      if (this.#slots[index]!.state !== 'cleaning') this.#slots[index]!.state = 'draining';
    }
    this.#writeStatus();
  }

  async #loop(slot: SlotStatus): Promise<void> {
    const deadline = this.#o.lifetimeMs === undefined ? Infinity : performance.now() + this.#o.lifetimeMs;
    let setupFailures = 0;
    const backoff = createBackoff(250, 15_000);
    while (this.#stopping === 0 && performance.now() < deadline) {
      let retryable = false;
      const ok = await this.#iteration(slot, deadline).catch((err: unknown) => {
        const message = toError(err).message;
        // The server unreachable or restarting: wait for it as long as it takes, like a runner does.
        retryable = isRetryable(err);
        this.#o.log.error(`slot ${slot.index}: ${message}${retryable ? '; retrying' : ''}`);
        slot.error = message;
        return false;
      });
      if (retryable) {
        this.#writeStatus();
        await delay(backoff.next(), this.#abort.signal);
        continue;
      }
      if (ok) {
        setupFailures = 0;
        backoff.reset();
        continue;
      }
      if (++setupFailures >= MAX_SETUP_FAILURES) {
        this.#o.log.error(
          `slot ${slot.index}: gave up after ${setupFailures} failed starts in a row: ${slot.error ?? 'unknown error'}`,
        );
        slot.state = 'failed';
        this.failed = true;
        this.#writeStatus();
        return;
      }
      await delay(backoff.next(), this.#abort.signal);
    }
    slot.state = 'stopped';
    slot.runnerId = null;
    slot.runnerName = null;
    this.#writeStatus();
    this.#o.log.info(
      `slot ${slot.index} stopped after ${slot.tasksServed} task(s)${this.#stopping === 0 ? ' (lifetime reached)' : ''}`,
    );
  }

  /**
   * One identity, one child, at most one task. True when the child took the identity (whatever happened
   * next); false when the slot could not get that far.
   */
  async #iteration(slot: SlotStatus, deadline: number): Promise<boolean> {
    const o = this.#o;
    const secret = newSlotSecret();
    const id = `${slot.index}-${randomBytes(6).toString('hex')}`;
    const slotDir = join(this.#slotsRoot, id);
    const stateDir = join(slotDir, 'state');
    const workDir = join(o.workDir, id);
    slot.state = 'starting';
    slot.task = null;
    slot.error = undefined;
    this.#writeStatus();
    mkdirSync(slotDir, { mode: 0o700 });
    mkdirSync(workDir, { mode: 0o700 });
    let token: string | undefined;
    let readied = false;
    try {
      const keys = await newIdentity();
      const name = `${o.namePrefix}-${id}`;
      const reg = await this.#client.register(o.registrationToken, {
        name,
        labels: o.labels,
        capacity: 1,
        version: o.version,
        publicKey: keys.publicKey,
        ephemeral: true,
      });
      token = reg.token;
      saveIdentity(stateDir, reg.runnerId, keys);
      slot.runnerId = reg.runnerId;
      slot.runnerName = name;
      if (this.#stopping > 0) return true;
      const [command = '', ...args] = o.slotCommand;
      // Its own process group (killed as a whole at the end); no stdin; IPC is the only way in.
      const child = spawn(command, args, {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: o.slotEnv,
        detached: true,
        cwd: slotDir,
      });
      this.#children.set(slot.index, { child, secret });
      slot.pid = child.pid ?? null;
      const exited = new Promise<void>((res) => child.once('exit', () => res()));
      child.once('error', (err) => {
        slot.error = `could not start the slot's runner: ${err.message}`;
      });
      child.on('message', (m: SlotToPool) => {
        if (typeof m !== 'object' || m === null || m.secret !== secret) return;
        if (m.type === 'ready') {
          readied = true;
          slot.state = this.#stopping > 0 ? 'draining' : 'idle';
        } else if (m.type === 'task') {
          slot.state = this.#stopping > 0 ? 'draining' : 'running';
          slot.task = `${m.runId}/${m.task}`;
        } else if (m.type === 'finished') {
          slot.tasksServed++;
          slot.task = null;
        } else if (m.type === 'error') {
          slot.error = m.message;
        }
        this.#writeStatus();
      });
      const handover: SlotHandover = {
        type: 'handover',
        secret,
        server: o.server,
        runnerId: reg.runnerId,
        token: reg.token,
        name,
        workDir,
        stateDir,
        hide: this.#hidden,
        stepInitDir: join(this.#o.dir, 'init'),
        isolation: o.isolation,
        network: o.network,
        ...(o.drivers === undefined ? {} : { drivers: o.drivers }),
        ...(o.caFile ? { caFile: o.caFile } : {}),
      };
      this.#send(child, handover);
      // The lifetime is checked while the slot waits too: past it, the child drains.
      const left = deadline - performance.now();
      const timer =
        Number.isFinite(left) && left < 2 ** 31 - 1
          ? setTimeout(
              () => {
                slot.state = 'draining';
                this.#send(child, { type: 'drain', secret });
                this.#writeStatus();
              },
              Math.max(0, left),
            )
          : undefined;
      await exited;
      if (timer) clearTimeout(timer);
      this.#children.delete(slot.index);
      if (child.signalCode)
        o.log.warn(`slot ${slot.index}: its runner ${name} was killed (${child.signalCode}); replacing it`);
      try {
        // Anything the slot's runner left in its group dies with the iteration.
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // The group is empty already.
      }
      // A task that started and never reported (its runner died) was served all the same.
      if (slot.task !== null) slot.tasksServed++;
      return readied;
    } finally {
      slot.state = 'cleaning';
      this.#writeStatus();
      if (token !== undefined) {
        // The server also removes an ephemeral runner whose task ended or that died; this is the prompt way.
        await createClient({ baseUrl: o.server, token })
          .unregister()
          .catch(() => {});
      }
      rmSync(slotDir, { recursive: true, force: true });
      rmSync(workDir, { recursive: true, force: true });
      slot.runnerId = null;
      slot.runnerName = null;
      slot.pid = null;
      slot.task = null;
    }
  }

  #send(child: ChildProcess, m: PoolToSlot): void {
    if (!child.connected) return;
    child.send(m, (err) => {
      if (err) this.#o.log.warn(`could not reach a slot's runner: ${err.message}`);
    });
  }

  status(): PoolStatus {
    return {
      pid: process.pid,
      server: this.#o.server,
      startedAt: this.#startedAt,
      updatedAt: new Date().toISOString(),
      stopping: this.#stopping > 0,
      slots: this.#slots.map((s) => ({ ...s })),
    };
  }

  /** The status file, in the pool's private dir (0700; hidden from every step); replaced atomically. */
  #writeStatus(): void {
    try {
      const path = join(this.#o.dir, STATUS_FILE);
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.status(), null, 2) + '\n', { mode: 0o600 });
      renameSync(tmp, path);
    } catch (err) {
      this.#o.log.warn(`could not write the pool status: ${toError(err).message}`);
    }
  }
}
