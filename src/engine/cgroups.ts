// Resource limits (memory, pids, cpu) enforced with cgroups, v2 or v1 (the hybrid layout: v1 controllers under
// /sys/fs/cgroup/<controller>, an empty cgroup2 at /sys/fs/cgroup/unified).
//
// Each task gets its own cgroup under a runner-owned parent below the runner's own cgroup:
//   <controller mount>/<runner's cgroup>/baton-<runner pid>/task-<name>
// The step's namespace chain is spawned behind a gate (cgroupGate): a bash that waits on fd 5 before exec'ing
// the chain. The runner writes the gate's pid into the task's cgroup.procs and only then opens the gate, so
// every process of the step is born inside the cgroup: nothing has forked before the move.
// After the task, whatever is left in the cgroup is SIGKILLed and the cgroup removed.
//
// A step must not raise its own limits or leave its cgroup: limits are enforced only under namespace
// containment, where the task's mount table remounts every cgroup filesystem read-only in the step's view
// (containment.ts writeMountTable) and the step has no CAP_SYS_ADMIN to undo it (step-init.ts).

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskLimits } from '../protocol/plan.ts';
import { containmentLevel } from './containment.ts';
import { findOnPath } from './shell.ts';
import { SYSTEM_PATH } from './system-path.ts';
import type { Containment } from './types.ts';

const CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
type Controller = (typeof CONTROLLERS)[number];

/** cpu.max / cpu.cfs_period_us: 100 ms, the kernel's default period. */
const CPU_PERIOD_US = 100_000;
/** Bounds that catch a typo (512 meant as MiB, not bytes) before a task is refused or starved by it. */
export const MIN_MEMORY_BYTES = 4 * 1024 * 1024;
export const MIN_PIDS = 2;
export const MAX_PIDS = 4_194_304;
export const MIN_CPU = 0.01;
export const MAX_CPU = 1024;

export interface CgroupBackend {
  version: 1 | 2;
  /** The runner's own cgroup directory per controller (one directory for all three under v2). */
  own: Record<Controller, string>;
}

export type LimitsSupport = { ok: true; backend: CgroupBackend } | { ok: false; why: string };

interface MountEntry {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** The mount points of every cgroup filesystem this process sees (the task's mount table makes them read-only). */
export function cgroupMounts(): string[] {
  return readMounts()
    .filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2')
    .map((m) => m.mountPoint);
}

function readMounts(): MountEntry[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const unescape = (s: string): string =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const mounts: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const f = left.split(' ');
    const [fsType = '', , superOptions = ''] = right.split(' ');
    mounts.push({
      root: unescape(f[3] ?? ''),
      mountPoint: unescape(f[4] ?? ''),
      fsType,
      superOptions: superOptions.split(','),
    });
  }
  return mounts;
}

/** The runner's own cgroup directories, from /proc/self/cgroup and the mounts; undefined when incomplete. */
function findBackend(): { backend: CgroupBackend } | { why: string } {
  let text: string;
  try {
    text = readFileSync('/proc/self/cgroup', 'utf8');
  } catch (error) {
    return { why: `cannot read /proc/self/cgroup: ${(error as Error).message}` };
  }
  const memberships = text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [, controllers = '', ...path] = line.split(':');
      return { controllers: controllers.split(','), path: path.join(':') };
    });
  const mounts = readMounts();
  const under = (mount: MountEntry, path: string): string | undefined => {
    // A mount may show a sub-tree of its hierarchy (root ≠ /): the path is relative to the hierarchy's root.
    const root = mount.root === '/' ? '' : mount.root;
    if (root !== '' && path !== root && !path.startsWith(`${root}/`)) return undefined;
    return join(mount.mountPoint, path.slice(root.length));
  };
  const v2Path = memberships.find((m) => m.controllers.length === 1 && m.controllers[0] === '')?.path;
  const v2Mount = mounts.find((m) => m.fsType === 'cgroup2');
  if (v2Path !== undefined && v2Mount !== undefined) {
    const dir = under(v2Mount, v2Path);
    const available = dir === undefined ? [] : readWords(join(dir, 'cgroup.controllers'));
    if (dir !== undefined && CONTROLLERS.every((c) => available.includes(c)))
      return { backend: { version: 2, own: { memory: dir, pids: dir, cpu: dir } } };
  }
  const own: Partial<Record<Controller, string>> = {};
  for (const controller of CONTROLLERS) {
    const mount = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(controller));
    const path = memberships.find((m) => m.controllers.includes(controller))?.path;
    const dir = mount === undefined || path === undefined ? undefined : under(mount, path);
    if (dir === undefined) {
      const v2 = v2Mount === undefined ? '' : `; the cgroup2 at ${v2Mount.mountPoint} does not offer it`;
      return { why: `no cgroup '${controller}' controller is mounted for this process${v2}` };
    }
    own[controller] = dir;
  }
  return { backend: { version: 1, own: own as Record<Controller, string> } };
}

function readWords(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').trim().split(/\s+/);
  } catch {
    return [];
  }
}

/** One probe per containment level and process: a runner runs every task at one level. */
const probed = new Map<Containment, Promise<LimitsSupport>>();

/**
 * Whether this runner can enforce resource limits, probed once per process: namespace containment (so a step
 * cannot write the cgroup filesystem), a cgroup hierarchy with the memory, pids and cpu controllers, and a real
 * child cgroup made under the runner's own, given limits and removed.
 */
export function limitsSupport(containment: Containment = 'auto'): Promise<LimitsSupport> {
  let found = probed.get(containment);
  if (found === undefined) {
    found = probe(containment);
    probed.set(containment, found);
  }
  return found;
}

async function probe(containment: Containment): Promise<LimitsSupport> {
  let level: string;
  try {
    level = await containmentLevel(containment);
  } catch (error) {
    return { ok: false, why: (error as Error).message };
  }
  // Under namespace containment the task's mount table makes the cgroup filesystems read-only for the step; a
  // sandbox does not show /sys at all. Anywhere else a step could raise its own limits or leave its cgroup.
  if (level !== 'namespace' && level !== 'sandbox')
    return {
      ok: false,
      why: `process containment is '${level}', not 'namespace' (needs root) or 'sandbox': a step could change its own limits`,
    };
  const found = findBackend();
  if ('why' in found) return { ok: false, why: found.why };
  const backend = found.backend;
  let cgroup: TaskCgroup | undefined;
  try {
    cgroup = TaskCgroup.create(backend, `probe-${randomBytes(4).toString('hex')}`, {
      memoryBytes: 64 * 1024 * 1024,
      pids: 64,
      cpu: 1,
    });
    const problems = await cgroup.remove();
    if (problems.length > 0) return { ok: false, why: problems.join('; ') };
    removeRunnerCgroups(backend);
    sweepStale(backend);
  } catch (error) {
    if (cgroup !== undefined) await cgroup.remove();
    return { ok: false, why: `cannot make a cgroup for a task: ${(error as Error).message}` };
  }
  return { ok: true, backend };
}

function runnerParent(own: string): string {
  return join(own, `baton-${process.pid}`);
}

/**
 * Removes this process's parent cgroups when empty (after the probe, when a runner stops); best effort. The next
 * task makes its parent again.
 */
export function removeRunnerCgroups(backend: CgroupBackend): void {
  for (const own of new Set(Object.values(backend.own))) {
    try {
      rmdirSync(runnerParent(own));
    } catch {
      // Still in use or already gone.
    }
  }
}

/**
 * Removes the empty cgroups left by runners of this machine that died without removing theirs (baton-<pid> of
 * a pid that is gone). Only rmdir: a cgroup that still holds a process or a child cgroup stays.
 */
function sweepStale(backend: CgroupBackend): void {
  for (const own of new Set(Object.values(backend.own))) {
    let names: string[];
    try {
      names = readdirSync(own);
    } catch {
      continue;
    }
    for (const name of names) {
      const pid = /^baton-(\d+)$/.exec(name)?.[1];
      if (pid === undefined || isAlive(Number(pid))) continue;
      const parent = join(own, name);
      try {
        for (const child of readdirSync(parent, { withFileTypes: true }))
          if (child.isDirectory()) rmdirQuiet(join(parent, child.name));
      } catch {
        continue;
      }
      rmdirQuiet(parent);
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** One task's cgroup: limits written at creation; add() puts a process in; remove() kills what is left. */
export class TaskCgroup {
  readonly #backend: CgroupBackend;
  readonly #dirs: Record<Controller, string>;

  private constructor(backend: CgroupBackend, dirs: Record<Controller, string>) {
    this.#backend = backend;
    this.#dirs = dirs;
  }

  static create(backend: CgroupBackend, name: string, limits: TaskLimits): TaskCgroup {
    const dirs = {} as Record<Controller, string>;
    for (const controller of CONTROLLERS)
      dirs[controller] = join(runnerParent(backend.own[controller]), name);
    const cgroup = new TaskCgroup(backend, dirs);
    try {
      if (backend.version === 2) cgroup.#prepareV2();
      for (const dir of new Set(Object.values(dirs))) mkdirSync(dir, { recursive: true });
      cgroup.#writeLimits(limits);
    } catch (error) {
      for (const dir of new Set(Object.values(dirs))) rmdirQuiet(dir);
      throw error;
    }
    return cgroup;
  }

  /** The task's cgroup directories (one per controller under v1). */
  get dirs(): string[] {
    return [...new Set(Object.values(this.#dirs))];
  }

  /** Under v2 the controllers must be enabled for the children of the runner's cgroup and of its parent. */
  #prepareV2(): void {
    const own = this.#backend.own.memory;
    const parent = runnerParent(own);
    const want = CONTROLLERS.map((c) => `+${c}`).join(' ');
    for (const dir of [own, parent]) {
      mkdirSync(dir, { recursive: true });
      const enabled = readWords(join(dir, 'cgroup.subtree_control'));
      if (CONTROLLERS.every((c) => enabled.includes(c))) continue;
      try {
        writeFileSync(join(dir, 'cgroup.subtree_control'), want);
      } catch (error) {
        throw new Error(
          `cannot enable the memory, pids and cpu controllers in ${dir}/cgroup.subtree_control (${(error as Error).message}); the runner needs a delegated cgroup v2 subtree of its own`,
        );
      }
    }
  }

  #writeLimits(limits: TaskLimits): void {
    const set = (controller: Controller, file: string, value: string): void =>
      writeFileSync(join(this.#dirs[controller], file), value);
    const { memoryBytes, pids, cpu } = limits;
    const quota = cpu === undefined ? undefined : Math.max(1000, Math.round(cpu * CPU_PERIOD_US));
    if (this.#backend.version === 2) {
      if (memoryBytes !== undefined) {
        set('memory', 'memory.max', String(memoryBytes));
        // Swap would let a task past its memory limit: none for the task.
        if (existsSync(join(this.#dirs.memory, 'memory.swap.max'))) set('memory', 'memory.swap.max', '0');
      }
      if (pids !== undefined) set('pids', 'pids.max', String(pids));
      if (quota !== undefined) set('cpu', 'cpu.max', `${quota} ${CPU_PERIOD_US}`);
      return;
    }
    if (memoryBytes !== undefined) {
      set('memory', 'memory.limit_in_bytes', String(memoryBytes));
      // memory+swap no higher than memory: no swap either (the file exists only with swap accounting).
      if (existsSync(join(this.#dirs.memory, 'memory.memsw.limit_in_bytes')))
        set('memory', 'memory.memsw.limit_in_bytes', String(memoryBytes));
    }
    if (pids !== undefined) set('pids', 'pids.max', String(pids));
    if (quota !== undefined) {
      set('cpu', 'cpu.cfs_period_us', String(CPU_PERIOD_US));
      set('cpu', 'cpu.cfs_quota_us', String(quota));
    }
  }

  /** Moves a process (with its threads) into the task's cgroup for every controller. */
  add(pid: number): void {
    for (const dir of this.dirs) writeFileSync(join(dir, 'cgroup.procs'), `${pid}\n`);
  }

  /** How many processes of the task the kernel's OOM killer has killed so far. */
  oomKills(): number {
    const file = this.#backend.version === 2 ? 'memory.events' : 'memory.oom_control';
    let text: string;
    try {
      text = readFileSync(join(this.#dirs.memory, file), 'utf8');
    } catch {
      return 0;
    }
    const count = /^oom_kill (\d+)$/m.exec(text)?.[1];
    return count === undefined ? 0 : Number(count);
  }

  #processes(): number[] {
    const pids = new Set<number>();
    for (const dir of this.dirs) {
      try {
        for (const word of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n'))
          if (word !== '') pids.add(Number(word));
      } catch {
        // Gone already.
      }
    }
    return [...pids];
  }

  /** SIGKILLs whatever is left in the cgroup and removes it; returns what could not be done. */
  async remove(): Promise<string[]> {
    const dirs = this.dirs;
    const deadline = performance.now() + 10_000;
    for (;;) {
      const left = this.#processes();
      if (left.length === 0) break;
      if (performance.now() > deadline)
        return [`processes ${left.join(', ')} are still in the task's cgroup after SIGKILL`];
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Exited meanwhile.
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const problems: string[] = [];
    for (const dir of dirs) {
      // The last processes may still be leaving (their exit is not done the moment they vanish from procs).
      for (;;) {
        try {
          rmdirSync(dir);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || performance.now() > deadline) {
            problems.push(`cannot remove the task's cgroup ${dir}: ${(error as Error).message}`);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    }
    return problems;
  }
}

function rmdirQuiet(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not made, or not empty: remove() reports what matters.
  }
}

/**
 * Prefixed to the namespace chain when the step has a cgroup: waits for `go` on fd 5 (the runner writes it once
 * the gate's pid is in the cgroup), closes fd 5 and execs the chain; anything else and it exits 125 unstarted.
 */
export function cgroupGate(): string[] {
  const bash = findOnPath('bash', SYSTEM_PATH) ?? '/bin/bash';
  return [
    bash,
    '--noprofile',
    '--norc',
    '-p',
    '-c',
    'IFS= read -r -u 5 go; exec 5<&-; [ "$go" = go ] || exit 125; exec "$@"',
    'baton-cgroup-gate',
  ];
}

/** The task's limits, each missing one taken from the runner's defaults; undefined when none is set. */
export function effectiveLimits(
  task: TaskLimits | undefined,
  defaults: TaskLimits | undefined,
): TaskLimits | undefined {
  const merged: TaskLimits = { ...defaults, ...dropUndefined(task ?? {}) };
  return Object.keys(dropUndefined(merged)).length === 0 ? undefined : dropUndefined(merged);
}

function dropUndefined(limits: TaskLimits): TaskLimits {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) as TaskLimits;
}

/** "memory 64 MiB, pids 20, cpu 1.5" */
export function describeLimits(limits: TaskLimits): string {
  const parts: string[] = [];
  if (limits.memoryBytes !== undefined) parts.push(`memory ${formatBytes(limits.memoryBytes)}`);
  if (limits.pids !== undefined) parts.push(`pids ${limits.pids}`);
  if (limits.cpu !== undefined) parts.push(`cpu ${limits.cpu}`);
  return parts.join(', ');
}

export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/**
 * A memory limit: bytes as a number, or a string such as `512M`, `1.5G`, `64MiB`, `1048576` (K, M, G, T are
 * powers of 1024). `where` names the setting in the error.
 */
export function parseMemoryLimit(value: unknown, where: string): number {
  let bytes: number | undefined;
  if (typeof value === 'number') bytes = value;
  else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(value);
    if (m !== null) bytes = Math.floor(Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toUpperCase()] ?? NaN));
  }
  if (bytes === undefined || !Number.isSafeInteger(bytes))
    throw new Error(
      `${where}: ${JSON.stringify(value)} is not a memory size; write bytes or a number with K, M, G or T (e.g. 512M)`,
    );
  if (bytes < MIN_MEMORY_BYTES)
    throw new Error(
      `${where}: ${JSON.stringify(value)} is ${formatBytes(bytes)}, below the smallest memory limit of ${formatBytes(MIN_MEMORY_BYTES)}`,
    );
  return bytes;
}

export function parsePidsLimit(value: unknown, where: string): number {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < MIN_PIDS || n > MAX_PIDS)
    throw new Error(
      `${where}: ${JSON.stringify(value)} is not a process limit; it must be a whole number from ${MIN_PIDS} to ${MAX_PIDS}`,
    );
  return n;
}

export function parseCpuLimit(value: unknown, where: string): number {
  const n = typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < MIN_CPU || n > MAX_CPU)
    throw new Error(
      `${where}: ${JSON.stringify(value)} is not a CPU limit; it must be a number of CPUs from ${MIN_CPU} to ${MAX_CPU} (e.g. 1.5)`,
    );
  return n;
}
