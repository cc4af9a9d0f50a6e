// How a push runner entry is shown: the field names and value shapes of Automn's `runnerHost` objects.
import type { PushRunnerRow } from '../../store/index.ts';
import type { PushRunnerHost } from '../../protocol/push-runners.ts';

/** The Automn host protocol version Baton speaks, and the oldest runner it accepts (upstream 0.2.16 / 0.2.15). */
export const AUTOMN_HOST_VERSION = '0.2.16';
export const AUTOMN_MINIMUM_RUNNER_VERSION = '0.2.15';
/** A push runner is healthy while its heartbeats arrive within this window. */
export const PUSH_HEARTBEAT_WINDOW_MS = 120_000;

export interface PushRunnerInfo {
  version?: string | null;
  minimumHostVersion?: string | null;
  os?: string | null;
  platform?: string | null;
  arch?: string | null;
  uptime?: number | null;
  runtimes?: Record<string, string>;
}

/** -1, 0 or 1 comparing dotted numeric versions; null when either is not one. */
export function compareVersions(a: string, b: string): number | null {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if ([...pa, ...pb].some((n) => !Number.isInteger(n) || n < 0)) return null;
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Automn's SQL timestamp form, `YYYY-MM-DD HH:MM:SS` (UTC). */
function sqlTime(ms: number): string;
function sqlTime(ms: number | null): string | null;
function sqlTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export function pushRunnerHealthy(row: PushRunnerRow, now: number): boolean {
  return (
    row.disabled_at === null &&
    row.endpoint !== null &&
    row.last_seen_at !== null &&
    now - row.last_seen_at <= PUSH_HEARTBEAT_WINDOW_MS
  );
}

export function pushRunnerView(row: PushRunnerRow, now: number): PushRunnerHost {
  const info = JSON.parse(row.info_json) as PushRunnerInfo;
  const healthy = pushRunnerHealthy(row, now);
  const status =
    row.disabled_at !== null
      ? 'disabled'
      : healthy
        ? 'healthy'
        : row.last_seen_at === null
          ? 'pending'
          : 'offline';
  const version = info.version ?? null;
  const minimumHostVersion = info.minimumHostVersion ?? null;
  const runnerOutdated = version !== null && compareVersions(version, AUTOMN_MINIMUM_RUNNER_VERSION) === -1;
  const hostOutdatedForRunner =
    minimumHostVersion !== null && compareVersions(AUTOMN_HOST_VERSION, minimumHostVersion) === -1;
  return {
    id: row.id,
    name: row.name,
    status,
    statusMessage: row.status_message,
    endpoint: row.endpoint,
    lastSeenAt: row.last_seen_at === null ? null : new Date(row.last_seen_at).toISOString(),
    maxConcurrency: row.max_concurrency,
    timeoutMs: row.timeout_ms,
    runnerVersion: version,
    runnerOs: info.os ?? null,
    runnerPlatform: info.platform ?? null,
    runnerArch: info.arch ?? null,
    runnerUptime: info.uptime ?? null,
    runnerRuntimes: info.runtimes ?? {},
    minimumHostVersion,
    hostVersion: AUTOMN_HOST_VERSION,
    minimumRunnerVersion: AUTOMN_MINIMUM_RUNNER_VERSION,
    adminOnly: false,
    createdAt: sqlTime(row.created_at),
    updatedAt: sqlTime(row.updated_at),
    disabledAt: sqlTime(row.disabled_at),
    // Baton extensions: whether it registered a public key (`baton runner serve`), so that it runs Baton tasks
    // themselves and may be given tasks that name secrets (sealed to that key). The secret is never shown.
    hasKey: row.public_key !== null,
    canReceiveSecrets: row.public_key !== null,
    isHealthy: healthy,
    isStale: !healthy,
    isCompatible: !runnerOutdated && !hostOutdatedForRunner,
    runnerOutdated,
    hostOutdatedForRunner,
  };
}
