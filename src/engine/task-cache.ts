// Cached task results on the runner side (issue 16): the task's cache key, computed here where its values are
// resolved (docs/adr/0002), and the lookup through the caller's lease-scoped call. The engine has no network:
// the runner passes `TaskCacheAccess` in EngineOptions.
//
// The derived key is `sha256:` + the hex SHA-256 of a canonical JSON of: a format version, the workflow's task
// type, the driver's version, the imported values, and the resolved spec — for an exec task the task env
// (workflow env, task env, imports) and each step's name, shell, working directory, resolved env and resolved
// script as they stand before the first step runs; for a typed task its driverSpec with every string's
// `${{ }}` evaluated, plus the inputs, dependencies' outputs and matrix values its expressions may read.
// `runner.temp` is a fixed placeholder in the key, so the same task on another work dir has the same key;
// secret and confidential values are masked out of it before hashing.
import { createHash } from 'node:crypto';
import { MAX_CACHE_ENTRY_BYTES, MAX_CACHE_KEY_CHARS } from '../protocol/cache-limits.ts';
import type { CacheLookupResponse } from '../protocol/cache.ts';
import type { AssignedTask } from '../protocol/plan.ts';
import { evaluateTemplate, ExpressionError, type ExpressionContext } from '../workflow/runtime.ts';
import { evaluateStep, type EvalScope } from './expressions.ts';
import { createMasker } from './masker.ts';

/** The runner's side of the cache, given to the engine for a task that declares `cache:`. */
export interface TaskCacheAccess {
  /** Asks the server for the entry under `key` in this task's workflow (the lease-scoped call, fenced). */
  lookup(key: string): Promise<CacheLookupResponse>;
  /** The version of the driver that runs tasks of `type` (Baton's own for exec and the built-in types). */
  driverVersion(type: string): string;
}

/** Bumped when what goes into a derived key changes, so old entries stop matching. */
const KEY_FORMAT = 1;
/** Stands for `runner.temp` in a key: the work dir's temp path differs for every attempt. */
const TEMP_PLACEHOLDER = '<runner.temp>';

export type CacheKey = { key: string } | { error: string };

/** The scope a key is computed in: the task's own, with `runner.temp` fixed. */
export function keyScope(scope: EvalScope): EvalScope {
  return { ...scope, runner: { ...scope.runner, temp: TEMP_PLACEHOLDER } };
}

export function cacheKey(
  task: AssignedTask,
  scope: EvalScope,
  taskEnv: Record<string, string>,
  driverVersion: string,
): CacheKey {
  const spec = task.spec;
  const keyed = keyScope(scope);
  if (spec.cache?.key !== undefined) {
    let key: string;
    try {
      key = evaluateTemplate(spec.cache.key, context(keyed, taskEnv), { functions: keyed.functions });
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      return { error: `task '${task.name}': cannot evaluate 'cache.key': ${error.message}` };
    }
    if (key.trim() === '') return { error: `task '${task.name}': 'cache.key' evaluated to an empty string` };
    // A key is shown in logs, the API and the UI: one holding a secret would publish it.
    if (createMasker(() => undefined, hiddenValues(task, scope)).mask(key) !== key)
      return {
        error: `task '${task.name}': 'cache.key' holds a secret or confidential value; keys are shown in logs, the API and the UI, so use something that is not secret`,
      };
    if (key.length > MAX_CACHE_KEY_CHARS)
      return {
        error: `task '${task.name}': 'cache.key' evaluated to ${key.length} characters; the limit is ${MAX_CACHE_KEY_CHARS} (MAX_CACHE_KEY_CHARS)`,
      };
    return { key };
  }
  const material = {
    format: KEY_FORMAT,
    type: spec.type,
    driverVersion,
    imports: sorted(task.context.imports),
    spec: spec.type === 'exec' ? execMaterial(task, keyed, taskEnv) : typedMaterial(task, keyed, taskEnv),
  };
  // Secrets and confidential values are masked out of the material before it is hashed: the key is shown in
  // logs, the API and the UI, and a hash over a known script and a weak secret could be reversed by guessing.
  // So a changed secret value alone does not change the derived key (docs/workflows.md "Caching results").
  const hidden = hiddenValues(task, scope);
  const text = canonical(material);
  const masked = hidden.length === 0 ? text : createMasker(() => undefined, hidden).mask(text);
  return { key: `sha256:${createHash('sha256').update(masked).digest('hex')}` };
}

/** The steps as they stand before the first one runs; a part that cannot be evaluated yet is kept as written. */
function execMaterial(task: AssignedTask, scope: EvalScope, taskEnv: Record<string, string>): unknown {
  const status = { success: true, failure: false, cancelled: false };
  return {
    env: sorted(taskEnv),
    steps: task.spec.steps.map((step) => {
      const evaluated = evaluateStep(scope, step, taskEnv, {}, status);
      const resolved =
        'error' in evaluated || !evaluated.value.runs
          ? { env: sorted(step.env), run: step.run, if: step.if ?? '' }
          : { env: sorted(evaluated.value.env), run: evaluated.value.script };
      return {
        name: step.name,
        shell: step.shell,
        workingDirectory: step.workingDirectory ?? '',
        ...resolved,
      };
    }),
  };
}

function typedMaterial(task: AssignedTask, scope: EvalScope, taskEnv: Record<string, string>): unknown {
  const ctx = context(scope, taskEnv);
  const resolve = (value: unknown): unknown => {
    if (typeof value === 'string') {
      try {
        return evaluateTemplate(value, ctx, { functions: scope.functions });
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        return value;
      }
    }
    if (Array.isArray(value)) return value.map(resolve);
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    return value;
  };
  const c = task.context;
  return {
    driverSpec: resolve(task.spec.driverSpec ?? {}),
    env: sorted(taskEnv),
    inputs: sorted(c.inputs),
    matrix: c.matrix,
    tasks: Object.fromEntries(
      Object.entries(c.tasks)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, t]) => [name, sorted(t.outputs)]),
    ),
  };
}

/** The task's secret values and the confidential values it received. */
function hiddenValues(task: AssignedTask, scope: EvalScope): string[] {
  return [...Object.values(scope.secrets), ...task.context.mask].filter((v) => v !== '');
}

function context(scope: EvalScope, env: Record<string, string>): ExpressionContext {
  const c = scope.task.context;
  return {
    inputs: c.inputs,
    env,
    tasks: c.tasks,
    matrix: c.matrix,
    run: c.run,
    runner: scope.runner,
    steps: {},
    imports: c.imports,
    secrets: scope.secrets,
  };
}

function sorted(values: Record<string, string>): Array<[string, string]> {
  return Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** JSON with object keys in order, so the same material always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** "3s", "2m 5s", "1h 2m": an entry's age for the log. */
export function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Why a succeeded result will not be stored, or undefined when it will be. */
export function notStorable(outputs: Record<string, string>, confidential: string[]): string | undefined {
  if (confidential.length > 0)
    return `it has confidential outputs (${confidential.join(', ')}), and those are never cached`;
  const bytes = Buffer.byteLength(JSON.stringify(outputs), 'utf8');
  if (bytes > MAX_CACHE_ENTRY_BYTES)
    return `its outputs are ${bytes} bytes as JSON; the limit per entry is ${MAX_CACHE_ENTRY_BYTES} (MAX_CACHE_ENTRY_BYTES)`;
  return undefined;
}

export type CacheConsulted =
  | { kind: 'off' }
  | { kind: 'miss'; key: string }
  | { kind: 'hit'; key: string; outputs: Record<string, string>; createdAt: string }
  | { kind: 'error'; message: string };

/**
 * Computes the task's key and asks the server. A lookup that fails (the server unreachable past the runner's
 * retries) is a miss, said in the log: the task runs, as it would without a cache.
 */
export async function consultCache(
  task: AssignedTask,
  access: TaskCacheAccess | undefined,
  scope: EvalScope,
  taskEnv: Record<string, string>,
  system: (text: string) => void,
): Promise<CacheConsulted> {
  if (task.spec.cache === undefined || access === undefined) return { kind: 'off' };
  const computed = cacheKey(task, scope, taskEnv, access.driverVersion(task.spec.type));
  if ('error' in computed) return { kind: 'error', message: computed.error };
  const { key } = computed;
  let answer: CacheLookupResponse;
  try {
    answer = await access.lookup(key);
  } catch (error) {
    system(`cache lookup failed: ${(error as Error).message}; running the task`);
    return { kind: 'miss', key };
  }
  if (answer.hit && answer.outputs !== undefined && answer.createdAt !== undefined) {
    system(`cache hit: key ${key}, age ${formatAge(answer.ageMs ?? 0)}; the task does not run`);
    return { kind: 'hit', key, outputs: answer.outputs, createdAt: answer.createdAt };
  }
  system(`cache miss: key ${key}`);
  return { kind: 'miss', key };
}

/** After a miss: the log says whether the result will be kept, and the outcome carries the key. */
export function afterMiss<
  T extends { status: string; outputs: Record<string, string>; confidential: string[] },
>(
  task: AssignedTask,
  key: string,
  outcome: T,
  system: (text: string) => void,
): T & { cache: { key: string; hit: false } } {
  if (outcome.status === 'succeeded') {
    const why = notStorable(outcome.outputs, outcome.confidential);
    system(
      why === undefined
        ? `cache: the result is stored under key ${key} for ${formatAge(task.spec.cache?.ttlMs ?? 0)}`
        : `cache: the result is not stored: ${why}`,
    );
  }
  return { ...outcome, cache: { key, hit: false } };
}
