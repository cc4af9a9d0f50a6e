// The built-in `secret` task type: no process, no work dir. Its spec's `${{ }}` are evaluated here (credentials
// arrive as sealed secrets), its source — given by the runner in EngineOptions.secretSources (the runner's
// runner/secret-sources/; the engine does no network) — fetches the secret, and each value becomes a
// confidential output: `value` when the spec names a `key` (or reads a Baton secret), else one output per key.
// Values are masked in this task's log and never printed; the runner seals them to the importing tasks'
// runners before they leave this machine (protocol/relay.ts, docs/adr/0014).

import type { AssignedTask } from '../protocol/plan.ts';
import { DEFAULT_WORKFLOW_LIMITS, formatBytes } from '../workflow/limits.ts';
import { evaluateTaskEnv, evaluateValues, runnerContext, type EvalScope } from './expressions.ts';
import { MIN_MASK_LENGTH } from './masker.ts';
import type { SecretSource } from './types.ts';

export const SECRET_TYPE = 'secret';
/** A fetch (login and read together) that takes longer fails the task: Vault answers in milliseconds. */
export const SECRET_FETCH_TIMEOUT_MS = 30_000;
/** Bytes of one answer of a secret source: a KV secret is small; more is a wrong address or an attack. */
export const SECRET_RESPONSE_MAX_BYTES = 1024 * 1024;
/** Outputs one secret may give (one per key): more fails the task naming the limit. */
export const SECRET_MAX_OUTPUTS = 64;
/** An output name: usable as `{{ .task.name }}`, `tasks.x.outputs.name` and an env var. */
const OUTPUT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

/** A failure the task's log shows as it is: the message names the source, the path and the cause. */
export class SecretSourceError extends Error {
  override name = 'SecretSourceError';
}

export type SecretOutcome =
  | { ok: true; outputs: Record<string, string>; source: string; where: string }
  | { ok: false; message: string; reason: 'setup_failed' | 'timeout' | 'cancelled' };

export async function runSecret(
  task: AssignedTask,
  secrets: Record<string, string>,
  options: {
    runnerName?: string;
    signal?: AbortSignal;
    baseEnv?: Record<string, string>;
    sources?: ReadonlyMap<string, SecretSource>;
  },
): Promise<SecretOutcome> {
  const fail = (message: string): SecretOutcome => ({ ok: false, reason: 'setup_failed', message });
  const raw = task.spec.driverSpec ?? {};
  const scope: EvalScope = { task, runner: runnerContext(options.runnerName, ''), secrets, functions: {} };
  const env = evaluateTaskEnv(scope);
  if ('error' in env) return fail(env.error);
  const flat = flatten(raw);
  const evaluated = evaluateValues(scope, flat, env.value, `task '${task.name}' spec`);
  if ('error' in evaluated) return fail(evaluated.error);
  const spec = unflatten(evaluated.value);
  const sourceName = String(spec.source);
  // As Vault's own CLI: the runner's VAULT_ADDR (and VAULT_NAMESPACE) when the spec gives none.
  if (sourceName === 'vault') {
    const address = spec.address ?? options.baseEnv?.VAULT_ADDR;
    if (address === undefined || address === '')
      return fail(
        `task '${task.name}': its spec has no 'address' and runner${options.runnerName === undefined ? '' : ` '${options.runnerName}'`} has no VAULT_ADDR in its environment`,
      );
    spec.address = address;
    const namespace = spec.namespace ?? options.baseEnv?.VAULT_NAMESPACE;
    if (namespace !== undefined && namespace !== '') spec.namespace = namespace;
  }
  const sources = options.sources ?? new Map<string, SecretSource>();
  const source = sources.get(sourceName);
  if (source === undefined) {
    const runner = options.runnerName === undefined ? 'this runner' : `runner '${options.runnerName}'`;
    const has = sources.size === 0 ? 'none' : [...sources.keys()].join(', ');
    return fail(
      `task '${task.name}': the secret source '${sourceName}' is not available on ${runner}; it has: ${has}`,
    );
  }
  const timeoutMs = Math.min(SECRET_FETCH_TIMEOUT_MS, task.spec.timeoutMs ?? Infinity);
  const timer = AbortSignal.timeout(timeoutMs);
  const signal = options.signal === undefined ? timer : AbortSignal.any([options.signal, timer]);
  const where = sourceName === 'vault' ? `'${String(spec.path)}'` : `'${String(spec.name)}'`;
  let fetched: Record<string, string>;
  try {
    fetched = await source.fetch(spec, {
      task: task.name,
      signal,
      maxResponseBytes: SECRET_RESPONSE_MAX_BYTES,
    });
  } catch (error) {
    if (!(error instanceof SecretSourceError)) throw error;
    if (options.signal?.aborted === true)
      return {
        ok: false,
        reason: 'cancelled',
        message: `task '${task.name}' was cancelled while fetching its secret`,
      };
    if (timer.aborted)
      return {
        ok: false,
        reason: 'timeout',
        message: `task '${task.name}': fetching its secret from ${sourceName} took longer than ${timeoutMs} ms`,
      };
    return fail(`task '${task.name}': ${error.message}`);
  }
  const key = typeof spec.key === 'string' ? spec.key : undefined;
  let outputs: Record<string, string>;
  if (sourceName === 'baton') outputs = { value: fetched.value ?? '' };
  else if (key !== undefined) {
    if (!Object.hasOwn(fetched, key))
      return fail(
        `task '${task.name}': the secret at ${where} has no key '${key}'; it has: ${Object.keys(fetched).join(', ') || 'no keys'}`,
      );
    outputs = { value: fetched[key]! };
  } else outputs = fetched;
  const problem = checkOutputs(task.name, where, outputs);
  if (problem !== undefined) return fail(problem);
  return { ok: true, outputs, source: sourceName, where };
}

/** Names, count and sizes of the outputs a secret gives, each limit named in the message. */
function checkOutputs(task: string, where: string, outputs: Record<string, string>): string | undefined {
  const names = Object.keys(outputs);
  if (names.length === 0) return `task '${task}': the secret at ${where} has no keys`;
  if (names.length > SECRET_MAX_OUTPUTS)
    return `task '${task}': the secret at ${where} has ${names.length} keys; the limit is ${SECRET_MAX_OUTPUTS} outputs per secret task (name one with 'key')`;
  const limit = DEFAULT_WORKFLOW_LIMITS.maxEnvValueBytes;
  for (const [name, value] of Object.entries(outputs)) {
    if (!OUTPUT_NAME.test(name))
      return `task '${task}': the secret at ${where} has the key '${name.slice(0, 100)}', which cannot be an output name (letters, digits and _, not starting with a digit, at most 100); name the key you want with 'key'`;
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > limit)
      return `task '${task}': key '${name}' of the secret at ${where} is ${bytes} bytes; the limit is ${formatBytes(limit)} per output value`;
    if (value.length > 0 && value.length < MIN_MASK_LENGTH)
      return `task '${task}': key '${name}' of the secret at ${where} is ${value.length} characters long, too short to be masked safely (at least ${MIN_MASK_LENGTH}); it is refused rather than shown`;
  }
  return undefined;
}

function flatten(value: Record<string, unknown>, prefix = '', out: Record<string, string> = {}) {
  for (const [k, v] of Object.entries(value)) {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    if (v !== null && typeof v === 'object') flatten(v as Record<string, unknown>, path, out);
    else if (v !== undefined) out[path] = String(v);
  }
  return out;
}

function unflatten(flat: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(flat)) {
    const parts = path.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = value;
  }
  return out;
}
