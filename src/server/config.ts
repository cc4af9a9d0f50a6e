// The server's validated configuration: built once from flags > environment (BATON_*) > config file > defaults,
// frozen, passed down. SETTINGS is the one table of every setting: its file key, its variable, and whether it is a
// secret (then also read from BATON_<NAME>_FILE, and redacted by --print-config).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /**
   * Where artifacts and task logs' bytes live (default `<dataDir>/blobs`; `--blob-dir` / BATON_BLOB_DIR). Servers
   * sharing one PostgreSQL database must share one blob directory (a shared volume).
   */
  blobDir?: string;
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
  /** `json` (one JSON object a line, pino) or `pretty` (a line for people). */
  logFormat: 'json' | 'pretty';
  /** Also serve /metrics without authentication on this address (a private network only). */
  metricsHost?: string;
  metricsPort?: number;
}

export interface ServerOptions extends Partial<ServerConfig> {
  env?: NodeJS.ProcessEnv;
  /** Settings from a config file (config-file.ts), below the environment. */
  file?: Partial<ServerConfig>;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const;

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
  logFormat: 'json',
  minSecretLength: 8,
  metricsHost: '127.0.0.1',
  dispatchers: ['pull', 'push'],
} as const;

type Kind = 'string' | 'int' | 'list';

export interface Setting {
  field: keyof ServerConfig;
  /** Its key in the config file. */
  key: string;
  /** Its environment variable; a secret is also read from `<env>_FILE`. */
  env?: string;
  kind: Kind;
  secret?: boolean;
}

/** Every setting the config file and the environment may give, in the order --print-config shows them. */
export const SETTINGS: readonly Setting[] = [
  { field: 'host', key: 'host', env: 'BATON_HOST', kind: 'string' },
  { field: 'port', key: 'port', env: 'BATON_PORT', kind: 'int' },
  { field: 'dataDir', key: 'data_dir', env: 'BATON_DATA_DIR', kind: 'string' },
  { field: 'blobDir', key: 'blob_dir', env: 'BATON_BLOB_DIR', kind: 'string' },
  { field: 'database', key: 'database', env: 'BATON_DATABASE_URL', kind: 'string', secret: true },
  { field: 'adminToken', key: 'admin_token', env: 'BATON_ADMIN_TOKEN', kind: 'string', secret: true },
  {
    field: 'registrationToken',
    key: 'registration_token',
    env: 'BATON_RUNNER_REGISTRATION_TOKEN',
    kind: 'string',
    secret: true,
  },
  { field: 'masterKey', key: 'master_key', env: 'BATON_MASTER_KEY', kind: 'string', secret: true },
  { field: 'tlsCertFile', key: 'tls_cert', env: 'BATON_TLS_CERT', kind: 'string' },
  { field: 'tlsKeyFile', key: 'tls_key', env: 'BATON_TLS_KEY', kind: 'string' },
  {
    field: 'heartbeatIntervalMs',
    key: 'heartbeat_interval_ms',
    env: 'BATON_HEARTBEAT_INTERVAL_MS',
    kind: 'int',
  },
  { field: 'leaseTtlMs', key: 'lease_ttl_ms', env: 'BATON_LEASE_TTL_MS', kind: 'int' },
  { field: 'ackWindowMs', key: 'ack_window_ms', env: 'BATON_ACK_WINDOW_MS', kind: 'int' },
  { field: 'sweepIntervalMs', key: 'sweep_interval_ms', env: 'BATON_SWEEP_INTERVAL_MS', kind: 'int' },
  { field: 'maxLongPollMs', key: 'max_long_poll_ms', kind: 'int' },
  { field: 'bodyLimitBytes', key: 'body_limit_bytes', kind: 'int' },
  { field: 'minSecretLength', key: 'min_secret_length', env: 'BATON_MIN_SECRET_LENGTH', kind: 'int' },
  { field: 'dispatchers', key: 'dispatchers', env: 'BATON_DISPATCHERS', kind: 'list' },
  { field: 'logLevel', key: 'log_level', env: 'BATON_LOG_LEVEL', kind: 'string' },
  { field: 'logFormat', key: 'log_format', env: 'BATON_LOG_FORMAT', kind: 'string' },
  { field: 'metricsHost', key: 'metrics_host', env: 'BATON_METRICS_HOST', kind: 'string' },
  { field: 'metricsPort', key: 'metrics_port', env: 'BATON_METRICS_PORT', kind: 'int' },
];

/** A setting's value from the environment: `BATON_X`, else (for a secret) the trimmed contents of `BATON_X_FILE`. */
function fromEnv(env: NodeJS.ProcessEnv, s: Setting): unknown {
  if (s.env === undefined) return undefined;
  let v = env[s.env];
  if ((v === undefined || v === '') && s.secret) {
    const path = env[`${s.env}_FILE`];
    if (path) {
      try {
        v = readFileSync(path, 'utf8').trim();
      } catch (err) {
        throw new Error(`${s.env}_FILE names ${path}, which cannot be read: ${(err as Error).message}`, {
          cause: err,
        });
      }
      if (v === '') throw new Error(`${s.env}_FILE names ${path}, which is empty`);
    }
  }
  if (v === undefined || v === '') return undefined;
  if (s.kind === 'int') {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${s.env} must be a non-negative integer, got '${v}'`);
    return n;
  }
  if (s.kind === 'list') {
    const list = v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    return list.length === 0 ? undefined : list;
  }
  // The TLS key is a file path already; BATON_TLS_KEY_FILE is accepted as the same thing.
  return v;
}

export function buildServerConfig(o: ServerOptions = {}): Readonly<ServerConfig> {
  const env = o.env ?? {};
  const file = o.file ?? {};
  const pick = <K extends keyof ServerConfig>(field: K): ServerConfig[K] | undefined => {
    const s = SETTINGS.find((x) => x.field === field);
    const flag = o[field];
    if (flag !== undefined) return flag as ServerConfig[K];
    const fromEnvValue = s === undefined ? undefined : fromEnv(env, s);
    if (fromEnvValue !== undefined) return fromEnvValue as ServerConfig[K];
    if (field === 'tlsKeyFile' && env.BATON_TLS_KEY_FILE) return env.BATON_TLS_KEY_FILE as ServerConfig[K];
    return file[field] as ServerConfig[K] | undefined;
  };
  const dataDir = pick('dataDir') ?? join(homedir(), '.baton');
  const config: ServerConfig = {
    host: pick('host') ?? SERVER_DEFAULTS.host,
    port: pick('port') ?? SERVER_DEFAULTS.port,
    dataDir,
    blobDir: pick('blobDir') ?? join(dataDir, 'blobs'),
    database: pick('database') ?? join(dataDir, 'baton.db'),
    adminToken: pick('adminToken'),
    registrationToken: pick('registrationToken'),
    heartbeatIntervalMs: pick('heartbeatIntervalMs') ?? SERVER_DEFAULTS.heartbeatIntervalMs,
    leaseTtlMs: pick('leaseTtlMs') ?? SERVER_DEFAULTS.leaseTtlMs,
    ackWindowMs: pick('ackWindowMs') ?? SERVER_DEFAULTS.ackWindowMs,
    sweepIntervalMs: pick('sweepIntervalMs') ?? SERVER_DEFAULTS.sweepIntervalMs,
    maxLongPollMs: pick('maxLongPollMs') ?? SERVER_DEFAULTS.maxLongPollMs,
    bodyLimitBytes: pick('bodyLimitBytes') ?? SERVER_DEFAULTS.bodyLimitBytes,
    logLevel: pick('logLevel') ?? SERVER_DEFAULTS.logLevel,
    logFormat: pick('logFormat') ?? SERVER_DEFAULTS.logFormat,
    masterKey: pick('masterKey'),
    minSecretLength: pick('minSecretLength') ?? SERVER_DEFAULTS.minSecretLength,
    tlsCertFile: pick('tlsCertFile'),
    tlsKeyFile: pick('tlsKeyFile'),
    dispatchers: pick('dispatchers') ?? SERVER_DEFAULTS.dispatchers,
    metricsPort: pick('metricsPort'),
    metricsHost: pick('metricsHost'),
  };
  if (config.metricsPort !== undefined) config.metricsHost ??= SERVER_DEFAULTS.metricsHost;
  if (!(LOG_LEVELS as readonly string[]).includes(config.logLevel))
    throw new Error(`log level '${config.logLevel}' is not one of ${LOG_LEVELS.join(', ')}`);
  if (!(LOG_FORMATS as readonly string[]).includes(config.logFormat))
    throw new Error(`log format '${String(config.logFormat)}' is not one of ${LOG_FORMATS.join(', ')}`);
  for (const p of ['port', 'metricsPort'] as const) {
    const v = config[p];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 65535))
      throw new Error(`${p === 'port' ? 'port' : 'metrics port'} must be 0–65535, got ${v}`);
  }
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

/** A database URL as it may be printed: without its password. */
export function redactDatabaseUrl(database: string): string {
  return database.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/i, '$1:***@');
}

/** The effective configuration by file key, secrets redacted: what `baton server --print-config` prints. */
export function printableConfig(config: Readonly<ServerConfig>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const v = config[s.field];
    if (v === undefined) continue;
    if (s.field === 'database') out[s.key] = redactDatabaseUrl(String(v));
    else if (s.secret) out[s.key] = '[redacted]';
    else out[s.key] = Array.isArray(v) ? [...(v as string[])] : v;
  }
  return out;
}
