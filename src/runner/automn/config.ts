// `baton runner serve` settings: every AUTOMN_* variable upstream's runner reads, each also as BATON_SERVE_*
// (AUTOMN_RUNNER_X and AUTOMN_X become BATON_SERVE_X; the BATON_ name wins when both are set).

import { join, resolve } from 'node:path';

export interface ServeConfig {
  hostUrl: string;
  runnerId: string;
  endpointUrl: string;
  stateDir: string;
  scriptsDir: string;
  workDir: string;
  heartbeatMs: number;
  envSecret: string | undefined;
  statusMessage: string;
  maxConcurrency: number | undefined;
  localMaxConcurrency: number;
  timeoutMs: number | undefined;
  resetToken: string | undefined;
  port: number;
  /** Read upstream's `__SCRIPT…__` stdout markers too (off by default: printed data could forge them). */
  stdoutMarkers: boolean;
}

function pick(env: NodeJS.ProcessEnv, automn: string): string | undefined {
  const baton = `BATON_SERVE_${automn.replace(/^AUTOMN_(RUNNER_)?/, '')}`;
  const v = env[baton] ?? env[automn];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function int(env: NodeJS.ProcessEnv, automn: string, min: number): number | undefined {
  return whole(pick(env, automn), `${automn} (or its BATON_SERVE_ form)`, min);
}

function whole(v: string | undefined, what: string, min: number): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${what} is '${v}': it must be a whole number of at least ${min}`);
  return n;
}

function flag(env: NodeJS.ProcessEnv, automn: string): boolean {
  const v = pick(env, automn);
  if (v === undefined || ['0', 'false', 'no', 'off'].includes(v.toLowerCase())) return false;
  if (['1', 'true', 'yes', 'on'].includes(v.toLowerCase())) return true;
  throw new Error(`${automn} (or its BATON_SERVE_ form) is '${v}': it must be true or false`);
}

export function serveConfig(env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const dataDir = resolve(pick(env, 'AUTOMN_RUNNER_DATA_DIR') ?? join(process.cwd(), 'runner-data'));
  const publicUrl = pick(env, 'AUTOMN_RUNNER_PUBLIC_URL');
  const path = pick(env, 'AUTOMN_RUNNER_ENDPOINT_PATH') ?? '/api/run';
  const endpointUrl =
    pick(env, 'AUTOMN_RUNNER_ENDPOINT_URL') ??
    (publicUrl === undefined
      ? ''
      : `${publicUrl.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`);
  return {
    hostUrl: (pick(env, 'AUTOMN_HOST_URL') ?? '').replace(/\/+$/, ''),
    runnerId: pick(env, 'AUTOMN_RUNNER_ID') ?? '',
    endpointUrl,
    stateDir: resolve(pick(env, 'AUTOMN_RUNNER_STATE_DIR') ?? join(dataDir, 'state')),
    scriptsDir: resolve(pick(env, 'AUTOMN_RUNNER_SCRIPTS_DIR') ?? join(dataDir, 'scripts')),
    workDir: resolve(pick(env, 'AUTOMN_RUNNER_WORKDIR') ?? join(dataDir, 'script_workdir')),
    heartbeatMs: int(env, 'AUTOMN_RUNNER_HEARTBEAT_MS', 1000) ?? 60_000,
    envSecret: pick(env, 'AUTOMN_RUNNER_SECRET'),
    statusMessage: pick(env, 'AUTOMN_RUNNER_STATUS_MESSAGE') ?? 'Runner heartbeat',
    maxConcurrency: int(env, 'AUTOMN_RUNNER_MAX_CONCURRENCY', 1),
    localMaxConcurrency: int(env, 'AUTOMN_RUNNER_LOCAL_MAX_CONCURRENCY', 1) ?? 4,
    timeoutMs: int(env, 'AUTOMN_RUNNER_TIMEOUT_MS', 1),
    resetToken: pick(env, 'AUTOMN_RUNNER_RESET_TOKEN'),
    port: int(env, 'AUTOMN_RUNNER_PORT', 0) ?? whole(env.PORT, 'PORT', 0) ?? 3030,
    stdoutMarkers: flag(env, 'AUTOMN_RUNNER_STDOUT_MARKERS'),
  };
}

/** The script's environment: the runner's, without any BATON_* / AUTOMN_* setting or any value equal to a secret. */
export function scriptBaseEnv(
  env: NodeJS.ProcessEnv,
  secrets: Array<string | undefined>,
): Record<string, string> {
  const hidden = new Set(secrets.filter((s): s is string => s !== undefined && s !== ''));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || /^(BATON_|AUTOMN_)/.test(k) || hidden.has(v)) continue;
    out[k] = v;
  }
  return out;
}
