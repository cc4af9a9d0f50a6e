// Registration and heartbeat: one POST {host}/api/settings/runner-hosts/{id}/register with upstream's body,
// sent at startup, by hand (/ui/reregister), after /ui/register, after a secret rotation and every heartbeat.

import { execFileSync } from 'node:child_process';
import { arch, machine, platform, uptime } from 'node:os';
import type { ServeConfig } from './config.ts';

/** The Automn runner version this service speaks, and the oldest host it accepts (upstream 0.2.16 / 0.2.15). */
export const AUTOMN_RUNNER_VERSION = '0.2.16';
export const AUTOMN_MINIMUM_HOST_VERSION = '0.2.15';

export type RegistrationReason = 'startup' | 'manual' | 'initial' | 'secret-rotation' | 'heartbeat';

export interface RegistrationResult {
  ok: boolean;
  status?: number;
  response: unknown;
  error?: string;
}

function version(cmd: string, args: string[], pattern: RegExp): string | null {
  try {
    const out = execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 5000,
    });
    return pattern.exec(out)?.[1] ?? null;
  } catch {
    return null;
  }
}

let runtimes: Record<string, string | null> | undefined;
function runtimeVersions(): Record<string, string | null> {
  runtimes ??= {
    node: version('node', ['--version'], /v?(\d+\.\d+\.\d+)/),
    python: version('python3', ['--version'], /(\d+\.\d+\.\d+)/),
    shell: version('bash', ['--version'], /version (\d+\.\d+\.\d+)/),
  };
  return runtimes;
}

export function registrationBody(
  c: ServeConfig,
  secret: string,
  reason: RegistrationReason,
  publicKey?: string,
): Record<string, unknown> {
  return {
    secret,
    endpoint: c.endpointUrl,
    statusMessage: `${c.statusMessage} (${reason})`,
    ...(c.maxConcurrency === undefined ? {} : { maxConcurrency: c.maxConcurrency }),
    ...(c.timeoutMs === undefined ? {} : { timeoutMs: c.timeoutMs }),
    version: AUTOMN_RUNNER_VERSION,
    minimumHostVersion: AUTOMN_MINIMUM_HOST_VERSION,
    os: platform(),
    platform: arch(),
    arch: machine(),
    uptime: Math.round(uptime()),
    runtimes: runtimeVersions(),
    // A Baton extension (docs/adr/0013): the key a Baton host seals a task's secrets to. Upstream's host ignores it.
    ...(publicKey === undefined ? {} : { batonPublicKey: publicKey }),
  };
}

export async function register(
  c: ServeConfig,
  secret: string,
  reason: RegistrationReason,
  publicKey?: string,
): Promise<RegistrationResult> {
  const url = `${c.hostUrl}/api/settings/runner-hosts/${encodeURIComponent(c.runnerId)}/register`;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(registrationBody(c, secret, reason, publicKey)),
      signal: AbortSignal.timeout(c.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // not JSON: kept as text
    }
    if (res.ok) return { ok: true, status: res.status, response: body };
    const hostError =
      body !== null && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string'
        ? (body as { error: string }).error
        : `HTTP ${res.status}`;
    const error =
      res.status === 404
        ? `Runner host not found. Ensure a runner with id "${c.runnerId}" exists on ${c.hostUrl} (Settings → Runners) and that the configured secret matches.`
        : hostError;
    return { ok: false, status: res.status, response: body, error };
  } catch (err) {
    return {
      ok: false,
      response: null,
      error: `Registration request to ${url} failed: ${(err as Error).message}`,
    };
  }
}
