// The runner's config file (JSON, mode 0600): where the server is, who this runner is, how much it takes on.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseCpuLimit, parseMemoryLimit, parsePidsLimit } from '../engine/index.ts';
import type { TaskLimits } from '../protocol/plan.ts';

export interface RunnerConfigFile {
  server: string;
  runner_id: string;
  name: string;
  /** The runner token itself, or… */
  token?: string;
  /** …a file holding it (relative paths are relative to the config file). */
  token_file?: string;
  labels: string[];
  /** Tasks run at once (default 1, as BountyHub runners do). */
  max_parallel_tasks: number;
  /** Where task work dirs are created (default `_work` next to the config file). */
  work_dir: string;
  /** Exit after one task (ephemeral use). */
  one_off?: boolean;
  /** A PEM file of the certificate authority that signed an HTTPS server's certificate. */
  ca_file?: string;
  /**
   * This runner's own directory for its key pair, spooled logs and results (relative paths are relative to the
   * config file). `register` writes `.baton-state/<runner id>`; a config without it uses the old shared
   * `.baton-state` next to the config file (see `sharedStateDir`).
   */
  state_dir?: string;
  /** Take no task while the work dir has less free disk space than this many MiB (default 256). */
  min_free_disk_mb?: number;
  /**
   * Resource limits for every task that does not set them itself: `memory` as bytes or a size such as "512M",
   * `pids` a process count, `cpu` a number of CPUs (1.5). Enforced with cgroups; see docs/runner-limits.md.
   */
  limits?: { memory?: string | number; pids?: number; cpu?: number };
  /**
   * `host` (default: steps run as the runner's user, in their own pid and mount namespaces where it can) or
   * `sandbox` (each step in bubblewrap; the runner refuses to start without a working `bwrap`).
   */
  isolation?: Isolation;
  /**
   * `none`: every task on this runner runs without network, as if it said `network: false` (needs
   * `isolation: sandbox`); `host` (default): tasks have the runner's network unless they say `network: false`.
   */
  network?: RunnerNetwork;
  /**
   * A directory of CGI programs: each executable `<type>` or `<type>.cgi` runs tasks of that custom type
   * (docs/drivers.md). Relative paths are relative to the config file. Default: none.
   */
  drivers?: string;
}

export const NETWORKS = ['host', 'none'] as const;
export type RunnerNetwork = (typeof NETWORKS)[number];

/** One of `choices`, or an error naming the place (a flag or a config key), the value and the choices. */
function parseChoice<T extends string>(choices: readonly T[], value: unknown, where: string): T {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  throw new Error(`${where} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
}

export function parseNetwork(value: unknown, where: string): RunnerNetwork {
  return parseChoice(NETWORKS, value, where);
}

/** Why a runner cannot give every task no network, or undefined when it can. */
export function networkProblem(
  network: RunnerNetwork,
  isolation: Isolation,
  networkIsolation: boolean,
): string | undefined {
  if (network !== 'none') return undefined;
  if (isolation !== 'sandbox')
    return "network 'none' needs isolation 'sandbox': a host runner cannot cut its tasks' network";
  if (!networkIsolation)
    return "network 'none' needs a bubblewrap that can make a network namespace (--unshare-net), and this one cannot";
  return undefined;
}

export const ISOLATIONS = ['host', 'sandbox'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

export function parseIsolation(value: unknown, where: string): Isolation {
  return parseChoice(ISOLATIONS, value, where);
}

export interface RunnerConfig {
  configPath: string;
  server: string;
  runnerId: string;
  name: string;
  token: string;
  labels: string[];
  maxParallelTasks: number;
  workDir: string;
  oneOff: boolean;
  stateDir: string;
  /** True when the config names no `state_dir` and uses the old layout every config in its dir shared. */
  sharedStateDir: boolean;
  minFreeDiskBytes: number;
  isolation: Isolation;
  network: RunnerNetwork;
  /** The runner's default resource limits (config key `limits`), absent when it sets none. */
  limits?: TaskLimits;
  /** The drivers directory (config key `drivers`), absolute; absent when it names none. */
  driversDir?: string;
  caFile?: string;
  /** The token file, when the token came from one (steps must not see it). */
  tokenFile?: string;
  /** Directory holding the config; `.env` there is loaded into every task's environment. */
  baseDir: string;
}

export const DEFAULT_CONFIG_PATH = 'baton-runner.json';

export class RunnerConfigError extends Error {
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'RunnerConfigError';
  }
}

export function writeRunnerConfig(path: string, file: RunnerConfigFile): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileSync(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  // writeFileSync keeps the mode of an existing file: set it explicitly.
  chmodSync(path, 0o600);
}

export function loadRunnerConfig(path: string): RunnerConfig {
  const configPath = resolve(path);
  if (!existsSync(configPath)) {
    throw new RunnerConfigError(
      path,
      'no such file; create it with `baton runner register --server URL --registration-token T`',
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (err) {
    throw new RunnerConfigError(path, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new RunnerConfigError(path, 'must hold a JSON object');
  const f = raw as Partial<RunnerConfigFile>;
  const baseDir = dirname(configPath);
  const need = (key: keyof RunnerConfigFile) => {
    if (typeof f[key] !== 'string' || (f[key] as string).length === 0)
      throw new RunnerConfigError(path, `"${key}" must be a non-empty string`);
    return f[key] as string;
  };
  let token = f.token;
  let tokenFile: string | undefined;
  if (!token && f.token_file) {
    const tf = isAbsolute(f.token_file) ? f.token_file : join(baseDir, f.token_file);
    tokenFile = tf;
    try {
      token = readFileSync(tf, 'utf8').trim();
    } catch (err) {
      throw new RunnerConfigError(path, `cannot read token_file ${tf}: ${(err as Error).message}`);
    }
  }
  if (!token) throw new RunnerConfigError(path, 'needs "token" or "token_file"');
  const labels = f.labels ?? [];
  if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string'))
    throw new RunnerConfigError(path, '"labels" must be a list of strings');
  const max = f.max_parallel_tasks ?? 1;
  if (!Number.isInteger(max) || max < 1 || max > 256) {
    throw new RunnerConfigError(
      path,
      `"max_parallel_tasks" must be an integer from 1 to 256, got ${JSON.stringify(max)}`,
    );
  }
  const workDir = f.work_dir ?? '_work';
  if (f.state_dir !== undefined && (typeof f.state_dir !== 'string' || f.state_dir.length === 0))
    throw new RunnerConfigError(
      path,
      `"state_dir" must be a non-empty string, got ${JSON.stringify(f.state_dir)}`,
    );
  const stateDir = f.state_dir ?? '.baton-state';
  const minFree = f.min_free_disk_mb ?? 256;
  if (typeof minFree !== 'number' || !(minFree >= 0))
    throw new RunnerConfigError(
      path,
      `"min_free_disk_mb" must be a number of MiB ≥ 0, got ${JSON.stringify(minFree)}`,
    );
  let isolation: Isolation;
  try {
    isolation = f.isolation === undefined ? 'host' : parseIsolation(f.isolation, '"isolation"');
  } catch (err) {
    throw new RunnerConfigError(path, (err as Error).message);
  }
  let network: RunnerNetwork;
  try {
    network = f.network === undefined ? 'host' : parseNetwork(f.network, '"network"');
  } catch (err) {
    throw new RunnerConfigError(path, (err as Error).message);
  }
  const limits = parseLimits(path, f.limits);
  if (f.drivers !== undefined && (typeof f.drivers !== 'string' || f.drivers.length === 0))
    throw new RunnerConfigError(
      path,
      `"drivers" must name a directory of CGI driver programs, got ${JSON.stringify(f.drivers)}`,
    );
  return Object.freeze({
    configPath,
    isolation,
    network,
    server: need('server'),
    runnerId: need('runner_id'),
    name: need('name'),
    token,
    labels,
    maxParallelTasks: max,
    workDir: isAbsolute(workDir) ? workDir : join(baseDir, workDir),
    oneOff: f.one_off === true,
    stateDir: isAbsolute(stateDir) ? stateDir : join(baseDir, stateDir),
    sharedStateDir: f.state_dir === undefined,
    minFreeDiskBytes: minFree * 1024 * 1024,
    ...(limits === undefined ? {} : { limits }),
    ...(f.drivers === undefined
      ? {}
      : { driversDir: isAbsolute(f.drivers) ? f.drivers : join(baseDir, f.drivers) }),
    ...(tokenFile === undefined ? {} : { tokenFile }),
    ...(f.ca_file ? { caFile: isAbsolute(f.ca_file) ? f.ca_file : join(baseDir, f.ca_file) } : {}),
    baseDir,
  });
}

const LIMIT_KEYS = ['memory', 'pids', 'cpu'];

function parseLimits(path: string, given: unknown): TaskLimits | undefined {
  if (given === undefined) return undefined;
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw new RunnerConfigError(
      path,
      `"limits" must be an object such as {"memory": "512M", "pids": 256, "cpu": 1.5}, got ${JSON.stringify(given)}`,
    );
  const g = given as Record<string, unknown>;
  const unknown = Object.keys(g).filter((k) => !LIMIT_KEYS.includes(k));
  if (unknown.length > 0)
    throw new RunnerConfigError(
      path,
      `"limits" has unknown key(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; it takes memory, pids and cpu`,
    );
  try {
    const limits: TaskLimits = {
      ...(g.memory === undefined ? {} : { memoryBytes: parseMemoryLimit(g.memory, '"limits.memory"') }),
      ...(g.pids === undefined ? {} : { pids: parsePidsLimit(g.pids, '"limits.pids"') }),
      ...(g.cpu === undefined ? {} : { cpu: parseCpuLimit(g.cpu, '"limits.cpu"') }),
    };
    return Object.keys(limits).length === 0 ? undefined : limits;
  } catch (error) {
    throw new RunnerConfigError(path, (error as Error).message);
  }
}

/**
 * The other runner config files in `dir` (JSON objects naming a `runner_id` and a `server`): several runners
 * may be configured in one directory, and the tasks of one must not read another's token.
 */
export function siblingRunnerConfigs(dir: string, self: string): string[] {
  const found: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return found;
  }
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const path = join(dir, name);
    if (path === self) continue;
    try {
      const f = JSON.parse(readFileSync(path, 'utf8')) as Partial<RunnerConfigFile> | null;
      if (f && typeof f.runner_id === 'string' && typeof f.server === 'string') found.push(path);
    } catch {
      // Not a runner config (unreadable or not JSON).
    }
  }
  return found;
}
