// What a task needs from the runner that takes it: `isolation`, `network` and `limits`, on a task or at the
// workflow's top level (a task's own value wins, key by key for `limits`). The server offers such a task only to
// a runner whose status says it can give it (see store/leases.ts and docs/workflows.md).

import type { TaskLimits, TaskSpec } from '../protocol/plan.ts';
import type { Field, Located, NodeReader } from './node-reader.ts';

export const ISOLATIONS = ['host', 'sandbox'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

/** The requirement keys as written, before a task's own values are merged over the workflow's. */
export interface Requirements {
  isolation?: Isolation;
  network?: boolean;
  limits?: TaskLimits;
}

export const REQUIREMENT_KEYS = ['isolation', 'network', 'limits'] as const;

/** `memory`: at least 1 MiB (less cannot start a shell) and at most 4 TiB. */
export const MIN_MEMORY_BYTES = 1024 ** 2;
export const MAX_MEMORY_BYTES = 4 * 1024 ** 4;
/** `pids`: the kernel's own ceiling for pid_max (2^22). */
export const MAX_PIDS = 4_194_304;
/** `cpu`: cgroup `cpu.max` takes a quota of at least 1 ms per 100 ms period, so 0.01 CPU is the least. */
export const MIN_CPU = 0.01;
export const MAX_CPU = 1024;

const MEMORY_UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
const MEMORY_TEXT = /^(\d+(?:\.\d+)?)\s*([KMG])$/i;

/** Reads the requirement keys present among a task's or the workflow's fields. */
export function readRequirements(
  reader: NodeReader,
  present: (key: string) => Field | undefined,
  owner: string,
): Requirements {
  const found: Requirements = {};
  const isolation = present('isolation');
  const level = isolation && readIsolation(reader, isolation, owner);
  if (level !== undefined) found.isolation = level;
  const network = present('network');
  if (network) {
    const value = reader.scalar(network);
    if (typeof value === 'boolean') found.network = value;
    else
      reader.report(
        'invalid_type',
        `'network' of ${owner} must be true or false (false: the task gets no network, only a loopback of its own), not ${reader.describe(network.node)}`,
        network.at,
        network.path,
      );
  }
  const limits = present('limits');
  const parsed = limits && readLimits(reader, limits, owner);
  if (parsed !== undefined) found.limits = parsed;
  return found;
}

function readIsolation(reader: NodeReader, loc: Located, owner: string): Isolation | undefined {
  const value = reader.scalar(loc);
  if (typeof value === 'string' && (ISOLATIONS as readonly string[]).includes(value))
    return value as Isolation;
  const shown = typeof value === 'string' ? `'${value}'` : reader.describe(loc.node);
  reader.report(
    typeof value === 'string' ? 'invalid_value' : 'invalid_type',
    `'isolation' of ${owner} is ${shown}; use sandbox (only sandboxed runners take the task) or host (any runner)`,
    loc.at,
    loc.path,
  );
  return undefined;
}

/** `limits: { memory: 512M, pids: 256, cpu: 1.5 }`: every key optional, each checked against its range. */
export function readLimits(reader: NodeReader, loc: Located, owner: string): TaskLimits | undefined {
  const what = `'limits' of ${owner}`;
  const fields = reader.map(loc, what);
  if (fields === undefined) return undefined;
  const limits: TaskLimits = {};
  let ok = true;
  for (const field of reader.checkKeys(fields, ['memory', 'pids', 'cpu'], what)) {
    const value = reader.scalar(field);
    const shown = value === undefined || value === null ? reader.describe(field.node) : String(value);
    const fail = (range: string) => {
      ok = false;
      reader.report(
        typeof value === 'number' || typeof value === 'string' ? 'invalid_value' : 'invalid_type',
        `'${field.key}' of ${what} is ${shown}; ${range}`,
        field.at,
        field.path,
      );
    };
    if (field.key === 'memory') {
      const bytes = memoryBytes(value);
      if (bytes !== undefined && bytes >= MIN_MEMORY_BYTES && bytes <= MAX_MEMORY_BYTES)
        limits.memoryBytes = bytes;
      else fail('memory must be a size with a unit K, M or G (like 512M or 2G), from 1M to 4096G');
    } else if (field.key === 'pids') {
      if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_PIDS)
        limits.pids = value;
      else fail(`pids must be a whole number from 1 to ${MAX_PIDS}`);
    } else {
      if (typeof value === 'number' && Number.isFinite(value) && value >= MIN_CPU && value <= MAX_CPU)
        limits.cpu = value;
      else fail(`cpu must be a number of CPUs from ${MIN_CPU} to ${MAX_CPU} (like 1.5)`);
    }
  }
  return ok ? limits : undefined;
}

/** `512M` → bytes (units of 1024, as cgroup's memory.max reads them); a bare number is bytes. */
function memoryBytes(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = MEMORY_TEXT.exec(value.trim());
  if (match === null) return undefined;
  return Math.floor(Number(match[1]) * MEMORY_UNITS[match[2]!.toUpperCase()]!);
}

/** Sets the plan fields from the workflow's requirements with the task's own over them. */
export function applyRequirements(spec: TaskSpec, workflow: Requirements, task: Requirements): void {
  const isolation = task.isolation ?? workflow.isolation;
  if (isolation === 'sandbox') spec.isolation = 'sandbox';
  const network = task.network ?? workflow.network;
  if (network === false) spec.network = false;
  const limits = { ...workflow.limits, ...task.limits };
  if (Object.keys(limits).length > 0) spec.limits = limits;
}
