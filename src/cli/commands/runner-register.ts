// Registering a runner and writing its config: shared by `baton runner register` and `baton runner setup`.
//
// Re-registering with an existing config keeps its settings (labels, capacity, work dir, isolation, limits,
// webhook, …), gives the runner a new id, token and key pair in a state dir of its own, and overwrites only
// this config's token (in the config, or in its `token_file`). The previous registration is removed from the
// server with its own token when that still works; no other runner's config, token or state is touched.
import { secretsInWorkTreeWarning } from '../git-tree.ts';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ApiError, createClient, trustCaFile } from '../../client/index.ts';
import { RUNNER_REGISTER_LABEL_PATTERN } from '../../protocol/labels.ts';
import { STATE_ROOT, assertNoIdentity, newIdentity, saveIdentity } from '../../runner/identity.ts';
import { writeRunnerConfig, writeTokenFile, type RunnerConfigFile } from '../../runner/index.ts';
import { CliError } from '../common.ts';
import { batonVersion } from '../version.ts';

/** The longest registration token read from stdin or a file. */
export const REGISTRATION_TOKEN_MAX_CHARS = 4096;

export interface RegistrationRequest {
  server: string;
  registrationToken: string;
  config: string;
  name?: string;
  labels?: string[];
  maxParallelTasks?: number;
  workDir?: string;
  caFile?: string;
  stateDir?: string;
  /** Where the runner token goes instead of the config (written 0600); relative to the config's directory. */
  tokenFile?: string;
  /** Further keys for the config (setup's isolation). */
  extra?: Partial<RunnerConfigFile>;
}

export interface Registered {
  runnerId: string;
  name: string;
  stateDir: string;
  tokenFile?: string;
  /** What happened to the registration this config held before, when it held one. */
  previous?: string;
  /** The signing secret of the config's `webhook` (X-Baton-Signature), given by the server only now. */
  webhookSecret?: string;
  /** Set when the token or key landed in a git work tree that does not ignore them (git-tree.ts). */
  gitWarning?: string;
}

/** The config file as it is, loosely read, when it exists: re-registering keeps its settings. */
export function readExistingConfig(path: string): Partial<RunnerConfigFile> | undefined {
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CliError(
      `${path} exists but is not a runner config (${(err as Error).message}); move it away or choose another --config`,
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new CliError(
      `${path} exists but does not hold a JSON object; move it away or choose another --config`,
    );
  return raw as Partial<RunnerConfigFile>;
}

/** A registration token from one source, trimmed; empty or oversized is refused naming the source. */
export function checkRegistrationToken(value: string, source: string): string {
  const token = value.trim();
  if (token === '') throw new CliError(`the registration token from ${source} is empty`);
  if (token.length > REGISTRATION_TOKEN_MAX_CHARS)
    throw new CliError(
      `the registration token from ${source} is ${token.length} characters; the limit is ${REGISTRATION_TOKEN_MAX_CHARS}`,
    );
  if (/\s/.test(token))
    throw new CliError(
      `the registration token from ${source} holds white space inside it; give the token alone`,
    );
  return token;
}

/** The first line of stdin (up to EOF), as `--stdin-registration-token` reads it. */
export async function readStdinLine(): Promise<string> {
  let data = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin as AsyncIterable<string>) {
    data += chunk;
    const nl = data.indexOf('\n');
    if (nl >= 0) return data.slice(0, nl);
    if (data.length > REGISTRATION_TOKEN_MAX_CHARS + 2) break;
  }
  return data;
}

/** A registration token file's content; a directory, an unreadable or an oversized file is refused by name. */
export function readRegistrationTokenFile(path: string): string {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new CliError(`--registration-token-file ${path} is a directory, not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot read --registration-token-file ${path}: ${(err as Error).message}`);
  }
  if (size > REGISTRATION_TOKEN_MAX_CHARS + 2)
    throw new CliError(
      `--registration-token-file ${path} is ${size} bytes; the limit is ${REGISTRATION_TOKEN_MAX_CHARS} characters`,
    );
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read --registration-token-file ${path}: ${(err as Error).message}`);
  }
}

export function parseLabels(text: string, where: string): string[] {
  const labels = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const re = new RegExp(RUNNER_REGISTER_LABEL_PATTERN);
  for (const l of labels)
    if (!re.test(l) || l.length > 100)
      throw new CliError(
        `${where}: label '${l}' may hold only letters, digits and _ . : / - (starting with a letter, digit or _), at most 100 characters; * alone takes every label`,
      );
  return labels;
}

export function parseMaxParallel(value: unknown, where: string): number {
  const max = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(max) || max < 1 || max > 256)
    throw new CliError(`${where} must be a whole number from 1 to 256, got '${String(value)}'`);
  return max;
}

function previousToken(existing: Partial<RunnerConfigFile>, configDir: string): string | undefined {
  if (typeof existing.token === 'string' && existing.token.trim() !== '') return existing.token.trim();
  if (typeof existing.token_file !== 'string') return undefined;
  const path = isAbsolute(existing.token_file) ? existing.token_file : join(configDir, existing.token_file);
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Registers with the server, then writes the key pair, the token (file) and the config — or none of them. */
export async function registerAndWrite(r: RegistrationRequest): Promise<Registered> {
  const existing = readExistingConfig(r.config) ?? {};
  const configDir = dirname(resolve(r.config));
  const name = (r.name ?? existing.name ?? hostname()).replace(/[^A-Za-z0-9_.@-]/g, '-');
  const labels = r.labels ?? existing.tags ?? existing.labels ?? [];
  const max = r.maxParallelTasks ?? existing.max_parallel_tasks ?? 1;
  const workDir = r.workDir ?? existing.work_dir ?? '_work';
  const caFile = r.caFile !== undefined ? resolve(r.caFile) : existing.ca_file;
  const tokenFileKey = r.tokenFile ?? existing.token_file;
  const tokenFile =
    tokenFileKey === undefined
      ? undefined
      : isAbsolute(tokenFileKey)
        ? tokenFileKey
        : join(configDir, tokenFileKey);
  if (tokenFile !== undefined && existsSync(tokenFile) && statSync(tokenFile).isDirectory())
    throw new CliError(`token_file ${tokenFile} is a directory, not a file to hold the runner token`);
  if (caFile) trustCaFile(isAbsolute(caFile) ? caFile : join(configDir, caFile));
  const client = createClient({ baseUrl: r.server, userAgent: `baton-runner/${batonVersion()}` });
  if (r.stateDir !== undefined && r.stateDir.trim() === '')
    throw new CliError('--state-dir must name a directory, got an empty string');
  const chosenStateDir = r.stateDir === undefined ? undefined : resolve(r.stateDir);
  if (chosenStateDir !== undefined) assertNoIdentity(chosenStateDir);
  // Read before anything is written: re-registering overwrites the token file that holds it.
  const old = previousToken(existing, configDir);
  const keys = await newIdentity();
  // The config's `webhook` (seed 003): the server POSTs each task's start and finish there, signed.
  const webhook = r.extra?.webhook ?? existing.webhook;
  const reg = await client.register(r.registrationToken, {
    name,
    labels,
    capacity: max,
    version: batonVersion(),
    publicKey: keys.publicKey,
    ...(webhook === undefined ? {} : { webhook }),
  });
  const stateDir = chosenStateDir ?? join(configDir, STATE_ROOT, reg.runnerId);
  let madeStateDir = false;
  try {
    madeStateDir = !existsSync(stateDir);
    saveIdentity(stateDir, reg.runnerId, keys);
    if (tokenFile !== undefined) writeTokenFile(tokenFile, reg.token);
    // Kept relative when it sits under the config's directory, so the directory can be moved as a whole.
    const rel = relative(configDir, stateDir);
    const { token: _token, token_file: _tokenFile, labels: _labels, tags: _tags, ...kept } = existing;
    writeRunnerConfig(r.config, {
      ...kept,
      ...r.extra,
      server: r.server,
      runner_id: reg.runnerId,
      state_dir: rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : stateDir,
      name,
      ...(tokenFile === undefined ? { token: reg.token } : { token_file: tokenFileKey }),
      ...(existing.tags !== undefined ? { tags: labels } : { labels }),
      max_parallel_tasks: max,
      work_dir: workDir,
      ...(caFile ? { ca_file: caFile } : {}),
    } as RunnerConfigFile);
  } catch (err) {
    // Registered, but what it needs has nowhere to go: take the registration back rather than leave a runner
    // nobody can start (or whose secrets nobody can open).
    await createClient({ baseUrl: r.server, token: reg.token })
      .unregister()
      .catch(() => {});
    if (madeStateDir) rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  let previous: string | undefined;
  if (old !== undefined && existing.runner_id !== undefined && typeof existing.server === 'string') {
    try {
      await createClient({ baseUrl: existing.server, token: old }).unregister();
      previous = `the previous registration (${existing.runner_id}) was removed from the server`;
    } catch (err) {
      previous =
        err instanceof ApiError && (err.status === 401 || err.status === 404)
          ? `the previous registration (${existing.runner_id}) was already gone from the server`
          : `the previous registration (${existing.runner_id}) could not be removed (${(err as Error).message}); remove it with baton runners remove ${existing.runner_id}`;
    }
  }
  return {
    runnerId: reg.runnerId,
    name,
    stateDir,
    ...(tokenFile === undefined ? {} : { tokenFile }),
    ...(previous === undefined ? {} : { previous }),
    ...(reg.webhookSecret === undefined ? {} : { webhookSecret: reg.webhookSecret }),
    ...withGitWarning([resolve(r.config), stateDir, ...(tokenFile === undefined ? [] : [tokenFile])]),
  };
}

function withGitWarning(paths: string[]): { gitWarning?: string } {
  const warning = secretsInWorkTreeWarning(paths);
  return warning === undefined ? {} : { gitWarning: warning };
}
