// The runner's config file (JSON, mode 0600): where the server is, who this runner is, how much it takes on.
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
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
  /** Semaphore's name for `labels`; a file gives one or the other. */
  tags?: string[];
  /** Tasks run at once (default 1, as BountyHub runners do). */
  max_parallel_tasks: number;
  /** Where task work dirs are created (default `_work` next to the config file). */
  work_dir: string;
  /** Exit after one task (ephemeral use): exactly one task, then exit 0 once its result is acknowledged. */
  one_off?: boolean;
  /**
   * An http(s) URL the server may call when it gives this runner a task and when the task ends (to start an
   * on-demand runner). Read and validated here; delivery is the server's.
   */
  webhook?: string;
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
  /**
   * `true`: carry acquisitions, offers, start, heartbeats and completions over one WebSocket (the runner
   * session, docs/adr/0023), falling back to HTTP when the server offers none. Default true; `false` keeps
   * to a request per event.
   */
  session?: boolean;
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
  /** The `webhook` URL, validated; absent when the config names none. */
  webhook?: string;
  /** The token file, when the token came from one (steps must not see it). */
  tokenFile?: string;
  /** Directory holding the config; `.env` there is loaded into every task's environment. */
  baseDir: string;
  /** Config key `session`: use the runner session (docs/adr/0023). */
  session: boolean;
}

export const DEFAULT_CONFIG_PATH = 'baton-runner.json';

export class RunnerConfigError extends Error {
  constructor(path: string, message: string, place?: { line: number; column: number }) {
    super(`${path}${place ? `:${place.line}:${place.column}` : ''}: ${message}`);
    this.name = 'RunnerConfigError';
  }
}

/** Every key a runner config file may hold; anything else is a typo or a key of another tool, and refused. */
export const RUNNER_CONFIG_KEYS = [
  'server',
  'runner_id',
  'name',
  'token',
  'token_file',
  'labels',
  'tags',
  'max_parallel_tasks',
  'work_dir',
  'one_off',
  'webhook',
  'ca_file',
  'state_dir',
  'min_free_disk_mb',
  'limits',
  'isolation',
  'network',
  'drivers',
  'session',
] as const;

/** Longest `webhook` URL a runner config may name. */
export const WEBHOOK_URL_MAX_CHARS = 2048;

/**
 * Where each key of the top-level object of a JSON text starts (1-based line and column of its opening
 * quote). JSON.parse keeps no positions, so the text is scanned: strings are skipped whole (escapes
 * included) and only keys at depth 1 are recorded. The text has already parsed, so it is well formed.
 */
export function topLevelKeyPlaces(text: string): Map<string, { line: number; column: number }> {
  const places = new Map<string, { line: number; column: number }>();
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      lineStart = i + 1;
    } else if (c === '{') {
      depth++;
      expectKey = depth === 1;
    } else if (c === '[') {
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',') {
      expectKey = depth === 1;
    } else if (c === '"') {
      const start = i;
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (expectKey && depth === 1) {
        const key = JSON.parse(text.slice(start, j + 1)) as string;
        if (!places.has(key)) places.set(key, { line, column: start - lineStart + 1 });
      }
      expectKey = false;
      i = j;
    }
  }
  return places;
}

/**
 * Writes `text` to `path` with mode 0600, whole or not at all: into a new file beside it, then renamed over
 * it (an interrupted write leaves the old file as it was). Directories it creates are mode 0700.
 */
function writePrivateFile(path: string, text: string): void {
  const target = resolve(path);
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
    chmodSync(temp, 0o600);
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

export function writeRunnerConfig(path: string, file: RunnerConfigFile): void {
  writePrivateFile(path, JSON.stringify(file, null, 2) + '\n');
}

/** Writes a runner token into its `token_file` (mode 0600; a directory there is refused by name). */
export function writeTokenFile(path: string, token: string): void {
  if (existsSync(path) && statSync(path).isDirectory())
    throw new Error(`token_file ${path} is a directory, not a file to hold the token`);
  writePrivateFile(path, token + '\n');
}

export function loadRunnerConfig(path: string): RunnerConfig {
  const configPath = resolve(path);
  if (!existsSync(configPath)) {
    throw new RunnerConfigError(
      path,
      'no such file; create it with `baton runner register --server URL --registration-token T`',
    );
  }
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (err) {
    throw new RunnerConfigError(path, `cannot read it (${(err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RunnerConfigError(path, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new RunnerConfigError(path, 'must hold a JSON object');
  const places = topLevelKeyPlaces(text);
  /** An error about one key, at the line and column where the file names it. */
  const bad = (key: string, message: string) => new RunnerConfigError(path, message, places.get(key));
  for (const key of Object.keys(raw)) {
    if (!(RUNNER_CONFIG_KEYS as readonly string[]).includes(key))
      throw bad(
        key,
        `unknown key ${JSON.stringify(key)}; a runner config takes ${RUNNER_CONFIG_KEYS.join(', ')} (docs/runner-config.md)`,
      );
  }
  const f = raw as Partial<RunnerConfigFile>;
  const baseDir = dirname(configPath);
  const need = (key: keyof RunnerConfigFile) => {
    if (typeof f[key] !== 'string' || (f[key] as string).length === 0)
      throw bad(key, `"${key}" must be a non-empty string`);
    return f[key] as string;
  };
  if (f.token !== undefined && f.token_file !== undefined)
    throw bad(
      'token_file',
      'give "token" or "token_file", not both: "token_file" names the file that holds the token',
    );
  if (f.token !== undefined && (typeof f.token !== 'string' || f.token.trim() === ''))
    throw bad('token', `"token" must be a non-empty string, got ${JSON.stringify(f.token)}`);
  let token = typeof f.token === 'string' ? f.token.trim() : undefined;
  let tokenFile: string | undefined;
  if (f.token_file !== undefined) {
    if (typeof f.token_file !== 'string' || f.token_file.length === 0)
      throw bad('token_file', `"token_file" must name a file, got ${JSON.stringify(f.token_file)}`);
    const tf = isAbsolute(f.token_file) ? f.token_file : join(baseDir, f.token_file);
    tokenFile = tf;
    const problem = tokenFileProblem(tf);
    if (problem) throw bad('token_file', `"token_file" ${tf} ${problem}`);
    token = readFileSync(tf, 'utf8').trim();
    if (token === '')
      throw bad(
        'token_file',
        `"token_file" ${tf} is empty; register the runner (baton runner register --config ${path}) to write a token there`,
      );
  }
  if (!token)
    throw new RunnerConfigError(
      path,
      `needs "token" or "token_file"; register the runner (baton runner register --config ${path}) to get one`,
    );
  if (f.labels !== undefined && f.tags !== undefined)
    throw bad('tags', 'give "labels" or "tags" (its other name), not both');
  const labelKey = f.tags !== undefined ? 'tags' : 'labels';
  const labels = f.tags ?? f.labels ?? [];
  if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string'))
    throw bad(labelKey, `"${labelKey}" must be a list of strings, got ${JSON.stringify(labels)}`);
  const max = f.max_parallel_tasks ?? 1;
  if (!Number.isInteger(max) || max < 1 || max > 256) {
    throw bad(
      'max_parallel_tasks',
      `"max_parallel_tasks" must be an integer from 1 to 256, got ${JSON.stringify(max)}`,
    );
  }
  if (f.one_off !== undefined && typeof f.one_off !== 'boolean')
    throw bad('one_off', `"one_off" must be true or false, got ${JSON.stringify(f.one_off)}`);
  if (f.session !== undefined && typeof f.session !== 'boolean')
    throw bad('session', `"session" must be true or false, got ${JSON.stringify(f.session)}`);
  const webhookProblem = f.webhook === undefined ? undefined : webhookUrlProblem(f.webhook);
  if (webhookProblem) throw bad('webhook', `"webhook" ${webhookProblem}`);
  const workDir = f.work_dir ?? '_work';
  if (f.state_dir !== undefined && (typeof f.state_dir !== 'string' || f.state_dir.length === 0))
    throw bad('state_dir', `"state_dir" must be a non-empty string, got ${JSON.stringify(f.state_dir)}`);
  const stateDir = f.state_dir ?? '.baton-state';
  const minFree = f.min_free_disk_mb ?? 256;
  if (typeof minFree !== 'number' || !(minFree >= 0))
    throw bad(
      'min_free_disk_mb',
      `"min_free_disk_mb" must be a number of MiB ≥ 0, got ${JSON.stringify(minFree)}`,
    );
  let isolation: Isolation;
  try {
    isolation = f.isolation === undefined ? 'host' : parseIsolation(f.isolation, '"isolation"');
  } catch (err) {
    throw bad('isolation', (err as Error).message);
  }
  let network: RunnerNetwork;
  try {
    network = f.network === undefined ? 'host' : parseNetwork(f.network, '"network"');
  } catch (err) {
    throw bad('network', (err as Error).message);
  }
  const limits = parseLimits(path, f.limits, places.get('limits'));
  if (f.drivers !== undefined && (typeof f.drivers !== 'string' || f.drivers.length === 0))
    throw bad(
      'drivers',
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
    session: f.session !== false,
    ...(f.webhook === undefined ? {} : { webhook: f.webhook }),
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

/**
 * Why `path` cannot be a runner token file, or undefined when it is a readable regular file. A directory is
 * refused by name (reading it would fail with a bare EISDIR).
 */
export function tokenFileProblem(path: string): string | undefined {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    return `cannot be read: ${(err as Error).message}`;
  }
  if (st.isDirectory()) return 'is a directory, not a file holding the token';
  if (!st.isFile()) return 'is not a regular file';
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    return `cannot be read: ${(err as Error).message}`;
  }
  return undefined;
}

/** Why `value` is not a usable webhook URL, or undefined when it is one. */
export function webhookUrlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '')
    return `must be an http or https URL, got ${JSON.stringify(value)}`;
  if (value.length > WEBHOOK_URL_MAX_CHARS)
    return `is ${value.length} characters; the limit is ${WEBHOOK_URL_MAX_CHARS}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be an http or https URL, got ${JSON.stringify(value)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `must be an http or https URL, got ${JSON.stringify(value)} (scheme ${url.protocol})`;
  if (url.username !== '' || url.password !== '')
    return 'must not carry a user name or password: the server signs each delivery instead';
  return undefined;
}

function parseLimits(
  path: string,
  given: unknown,
  place: { line: number; column: number } | undefined,
): TaskLimits | undefined {
  if (given === undefined) return undefined;
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw new RunnerConfigError(
      path,
      `"limits" must be an object such as {"memory": "512M", "pids": 256, "cpu": 1.5}, got ${JSON.stringify(given)}`,
      place,
    );
  const g = given as Record<string, unknown>;
  const unknown = Object.keys(g).filter((k) => !LIMIT_KEYS.includes(k));
  if (unknown.length > 0)
    throw new RunnerConfigError(
      path,
      `"limits" has unknown key(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; it takes memory, pids and cpu`,
      place,
    );
  try {
    const limits: TaskLimits = {
      ...(g.memory === undefined ? {} : { memoryBytes: parseMemoryLimit(g.memory, '"limits.memory"') }),
      ...(g.pids === undefined ? {} : { pids: parsePidsLimit(g.pids, '"limits.pids"') }),
      ...(g.cpu === undefined ? {} : { cpu: parseCpuLimit(g.cpu, '"limits.cpu"') }),
    };
    return Object.keys(limits).length === 0 ? undefined : limits;
  } catch (error) {
    throw new RunnerConfigError(path, (error as Error).message, place);
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
