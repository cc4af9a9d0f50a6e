// The server's validated configuration: built once from flags > environment > defaults, frozen, passed down.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** SQLite file path (default `<dataDir>/baton.db`). */
  database: string;
  /** An admin user token to accept (stored hashed); otherwise one is generated at first start. */
  adminToken?: string;
  /** A runner registration token to accept (stored hashed, reusable, no expiry). */
  registrationToken?: string;
  /** Runners renew their lease this often (default 10 s). */
  heartbeatIntervalMs: number;
  /** A lease not renewed for this long is lost (default 45 s: four missed heartbeats and a margin). */
  leaseTtlMs: number;
  /** An offer not confirmed with `start` this soon returns to the queue (default 15 s). */
  ackWindowMs: number;
  /** How often the reaper looks for expired offers and leases (default 1 s). */
  sweepIntervalMs: number;
  /** Longest long-poll hold (default 25 s: under typical proxy idle timeouts of 60 s). */
  maxLongPollMs: number;
  /** Request body limit in bytes (default 8 MiB). */
  bodyLimitBytes: number;
  logLevel: string;
  /** Encrypts secrets at rest: 32 bytes as base64 or hex (BATON_MASTER_KEY / BATON_MASTER_KEY_FILE); default a generated `<dataDir>/master.key`. */
  masterKey?: string;
  /** Secrets shorter than this are refused: they cannot be masked without masking ordinary text (default 8). */
  minSecretLength: number;
  /** Serve HTTPS with this certificate and key (PEM files); plain HTTP when absent. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /**
   * The ways tasks reach executors, by kind from the dispatcher registry (docs/dispatchers.md): default
   * `pull,push`; `--dispatchers` / BATON_DISPATCHERS. Checked against the registry when the server is built.
   */
  dispatchers: readonly string[];
}

export interface ServerOptions extends Partial<ServerConfig> {
  env?: NodeJS.ProcessEnv;
}

export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 8480,
  heartbeatIntervalMs: 10_000,
  leaseTtlMs: 45_000,
  ackWindowMs: 15_000,
  sweepIntervalMs: 1_000,
  maxLongPollMs: 25_000,
  bodyLimitBytes: 8 * 1024 * 1024,
  logLevel: 'info',
  dispatchers: ['pull', 'push'],
} as const;

/** A comma-separated list setting, trimmed, empty entries dropped. */
function envList(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const v = env[name];
  if (v === undefined || v.trim() === '') return undefined;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Every secret setting can also be read from a file named by `<NAME>_FILE`. */
function readSecretFile(path: string | undefined): string | undefined {
  return path ? readFileSync(path, 'utf8').trim() : undefined;
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${v}'`);
  return n;
}

export function buildServerConfig(o: ServerOptions = {}): Readonly<ServerConfig> {
  const env = o.env ?? {};
  const dataDir = o.dataDir ?? env.BATON_DATA_DIR ?? join(homedir(), '.baton');
  const config: ServerConfig = {
    host: o.host ?? env.BATON_HOST ?? SERVER_DEFAULTS.host,
    port: o.port ?? envInt(env, 'BATON_PORT') ?? SERVER_DEFAULTS.port,
    dataDir,
    database: o.database ?? env.BATON_DATABASE_URL ?? join(dataDir, 'baton.db'),
    adminToken: o.adminToken ?? env.BATON_ADMIN_TOKEN ?? readSecretFile(env.BATON_ADMIN_TOKEN_FILE),
    registrationToken:
      o.registrationToken ??
      env.BATON_RUNNER_REGISTRATION_TOKEN ??
      readSecretFile(env.BATON_RUNNER_REGISTRATION_TOKEN_FILE),
    heartbeatIntervalMs:
      o.heartbeatIntervalMs ??
      envInt(env, 'BATON_HEARTBEAT_INTERVAL_MS') ??
      SERVER_DEFAULTS.heartbeatIntervalMs,
    leaseTtlMs: o.leaseTtlMs ?? envInt(env, 'BATON_LEASE_TTL_MS') ?? SERVER_DEFAULTS.leaseTtlMs,
    ackWindowMs: o.ackWindowMs ?? envInt(env, 'BATON_ACK_WINDOW_MS') ?? SERVER_DEFAULTS.ackWindowMs,
    sweepIntervalMs:
      o.sweepIntervalMs ?? envInt(env, 'BATON_SWEEP_INTERVAL_MS') ?? SERVER_DEFAULTS.sweepIntervalMs,
    maxLongPollMs: o.maxLongPollMs ?? SERVER_DEFAULTS.maxLongPollMs,
    bodyLimitBytes: o.bodyLimitBytes ?? SERVER_DEFAULTS.bodyLimitBytes,
    logLevel: o.logLevel ?? env.BATON_LOG_LEVEL ?? SERVER_DEFAULTS.logLevel,
    masterKey: o.masterKey ?? env.BATON_MASTER_KEY ?? readSecretFile(env.BATON_MASTER_KEY_FILE),
    minSecretLength: o.minSecretLength ?? envInt(env, 'BATON_MIN_SECRET_LENGTH') ?? 8,
    tlsCertFile: o.tlsCertFile ?? env.BATON_TLS_CERT,
    tlsKeyFile: o.tlsKeyFile ?? env.BATON_TLS_KEY,
    dispatchers: o.dispatchers ?? envList(env, 'BATON_DISPATCHERS') ?? SERVER_DEFAULTS.dispatchers,
  };
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined)) {
    throw new Error('TLS needs both a certificate and a key: pass --tls-cert and --tls-key together');
  }
  if (config.leaseTtlMs <= config.heartbeatIntervalMs) {
    throw new Error(
      `lease TTL (${config.leaseTtlMs} ms) must be longer than the heartbeat interval (${config.heartbeatIntervalMs} ms)`,
    );
  }
  for (const secret of ['adminToken', 'registrationToken'] as const) {
    const v = config[secret];
    if (v !== undefined && v.length < 16) {
      throw new Error(
        `the ${secret === 'adminToken' ? 'admin' : 'registration'} token must be at least 16 characters`,
      );
    }
  }
  return Object.freeze(config);
}
