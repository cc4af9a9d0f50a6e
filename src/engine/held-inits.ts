// Step inits started ahead of their tasks (docs/adr/0024-held-step-init.md): two per runner slot, started while
// the slot waits for an offer, so a task's first step starts by writing its arguments and environment to an
// init that is already running instead of by forking the runner on the dispatch path (the fork of a large
// process and the init's exec were ~1–4 ms of a task's start, docs/performance.md).
//
// A held init is the compiled init (init/baton-init.c) run as `baton-init --held`: it has set its parent-death
// signal and waits for its arguments on fd 0, nothing else. The init host (init-host.ts, ADR 0025) starts it,
// so the runner never forks itself for one, and passes the runner the other ends of its five descriptors;
// where the host cannot run, the runner spawns it as before. Everything reaches it over descriptors it
// inherited and no other process holds — as ADR 0004 requires of a step's hand-over — never over a path. It
// is used by at most one step, then gone; one left unused is killed when the runner stops (it has forked
// nothing), and dies with its parent (the host, or the runner) if that is killed; the host dies with the runner.
import { spawn, type ChildProcess } from 'node:child_process';
import type { ContainmentPlan } from './containment.ts';
import { InitHost, type HostedInit } from './init-host.ts';
import { isLive } from './process-group.ts';
import { SYSTEM_PATH } from './system-path.ts';

/** The compiled init's path when `containment` starts steps with it (namespace containment), else undefined. */
export function compiledInit(containment: ContainmentPlan): string | undefined {
  return containment.level === 'namespace' && containment.init?.kind === 'compiled'
    ? containment.init.path
    : undefined;
}

/**
 * Spawns a held init of `containment`'s compiled init, with the descriptors step-process.ts startContained
 * gives a spawned one (0 arguments then environment, 1 and 2 the step's output, 3 renewals, 4 its answer).
 * Undefined when the containment starts steps otherwise.
 */
export function holdStepInit(containment: ContainmentPlan): ChildProcess | undefined {
  const path = compiledInit(containment);
  if (path === undefined) return undefined;
  const child = spawn(path, ['--held'], {
    // Not a task's dir: the init enters the step's cwd itself, inside the step's mount namespace.
    cwd: '/',
    env: { PATH: SYSTEM_PATH },
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
  });
  // Until a step takes it, nobody else listens: a failed spawn or a closed pipe must not take the runner down.
  child.on('error', () => {});
  for (const s of child.stdio) s?.on('error', () => {});
  return child;
}

/**
 * What a step's start (step-process.ts) uses of its init's process: a ChildProcess the runner spawned, or a
 * HostedInit the init host started (init-host.ts).
 */
export type InitProcess = Pick<
  ChildProcess,
  'pid' | 'spawnfile' | 'stdio' | 'stdout' | 'stderr' | 'exitCode' | 'signalCode' | 'killed' | 'kill'
> & {
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  once(event: 'close', listener: () => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
};

/** Alive and never used: it has neither exited nor been handed arguments. */
function stillHeld(child: InitProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null && !child.killed;
}

/** The held inits of a runner (as many as it asks for: two per slot); EngineOptions.heldInit takes them. */
export class HeldInits {
  #plan: () => Promise<ContainmentPlan>;
  #want: number;
  #held: InitProcess[] = [];
  #closed = false;
  #filling = false;
  /** Holds asked of the host and not answered yet. */
  #asked = 0;
  /** The host of the compiled init that starts the held inits (init-host.ts), once one is known. */
  #host: InitHost | undefined;

  constructor(plan: () => Promise<ContainmentPlan>, want: number) {
    this.#plan = plan;
    this.#want = want;
  }

  /** Inits held now and not taken. */
  get pids(): number[] {
    return this.#held.filter(stillHeld).map((c) => c.pid!);
  }

  /** Asks for held inits until `want` are held or on their way (none when steps start otherwise). */
  fill(): void {
    if (this.#closed || this.#filling) return;
    this.#filling = true;
    this.#plan().then(
      (plan) => {
        this.#filling = false;
        this.#held = this.#held.filter(stillHeld);
        const path = compiledInit(plan);
        if (path === undefined) return;
        if (this.#host === undefined || this.#host.path !== path) {
          this.#host?.close();
          this.#host = new InitHost(path);
        }
        const host = this.#host;
        while (!this.#closed && this.#held.length + this.#asked < this.#want) {
          if (!host.usable) {
            const child = holdStepInit(plan);
            if (child === undefined) return;
            this.#held.push(child);
            continue;
          }
          this.#asked++;
          void host.hold().then((init) => this.#received(init, plan));
        }
      },
      () => {
        this.#filling = false; // the first task reports what is wrong with containment
      },
    );
  }

  /** The host's answer to one hold: the init, or nothing, and then the runner spawns one itself. */
  #received(init: HostedInit | undefined, plan: ContainmentPlan): void {
    this.#asked--;
    const child = init ?? (this.#closed ? undefined : holdStepInit(plan));
    if (child === undefined) return;
    if (this.#closed) release(child);
    else this.#held.push(child);
  }

  /** The init host's pid while it runs (tests). */
  get hostPid(): number | undefined {
    return this.#host?.pid;
  }

  /** A held init of `path` (the plan's compiled init) still waiting, if one is; taken by one step only. */
  take(path: string): InitProcess | undefined {
    for (;;) {
      const child = this.#held.shift();
      if (child === undefined) return undefined;
      // isLive: Node learns of an exit only when its loop handles the SIGCHLD, and a held init killed from
      // outside (the OOM killer, an operator) must not be handed a step in between.
      if (stillHeld(child) && isLive(child.pid!) && child.spawnfile === path) return child;
      release(child);
    }
  }

  /** Kills every held init not taken (none ran anything); none is spawned after this. */
  close(): void {
    this.#closed = true;
    for (const child of this.#held.splice(0)) release(child);
    this.#host?.close();
  }
}

/** Kills a held init that no step took (it has forked nothing yet) and lets go of its pipes. */
function release(child: InitProcess): void {
  for (const s of child.stdio) s?.destroy();
  if (stillHeld(child)) child.kill('SIGKILL');
}
