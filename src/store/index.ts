// Persistence: open a database (SQLite by path, PostgreSQL by URL), migrate it, and expose its parts.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StoreDialect } from './dialect.ts';
import { openSqlite } from './sqlite/open.ts';
import { openPostgres } from './postgres/open.ts';
import { migrate } from './migrate.ts';
import { createRunStore } from './runs.ts';
import { createLeaseStore, type LeaseTimings } from './leases.ts';
import { createLogStore } from './logs.ts';
import { createCredentialStore } from './credentials.ts';
import { createArtifactStore } from './artifacts.ts';
import { createSecretStore } from './secrets.ts';
import { createRunnerTaskStore } from './runner-tasks.ts';
import { createPushRunnerStore } from './push-runners.ts';
import { createCacheStore } from './cache.ts';
import { createMetricsStore } from './metrics.ts';
import { createWebhookStore } from './webhooks.ts';
import { DEPENDENCIES_SUCCEEDED, type RunPolicy } from './advance.ts';

export interface StoreOptions {
  /** A file path for SQLite (`:memory:` allowed), or a `postgres://` / `postgresql://` URL. */
  database: string;
  timings: LeaseTimings;
  /** Whether a task whose dependencies are final runs (default: when they all succeeded). */
  policy?: RunPolicy;
}

export interface Store {
  dialect: StoreDialect;
  runs: ReturnType<typeof createRunStore>;
  leases: ReturnType<typeof createLeaseStore>;
  logs: ReturnType<typeof createLogStore>;
  credentials: ReturnType<typeof createCredentialStore>;
  artifacts: ReturnType<typeof createArtifactStore>;
  secrets: ReturnType<typeof createSecretStore>;
  runnerTasks: ReturnType<typeof createRunnerTaskStore>;
  pushRunners: ReturnType<typeof createPushRunnerStore>;
  cache: ReturnType<typeof createCacheStore>;
  metrics: ReturnType<typeof createMetricsStore>;
  webhooks: ReturnType<typeof createWebhookStore>;
  close(): Promise<void>;
}

export async function openStore(o: StoreOptions): Promise<Store> {
  const dialect = openDialect(o.database);
  try {
    await migrate(dialect);
  } catch (err) {
    await dialect.close();
    throw err;
  }
  const policy = o.policy ?? DEPENDENCIES_SUCCEEDED;
  return {
    dialect,
    runs: createRunStore(dialect, policy),
    leases: createLeaseStore(dialect, o.timings, policy),
    artifacts: createArtifactStore(dialect),
    secrets: createSecretStore(dialect),
    runnerTasks: createRunnerTaskStore(dialect),
    pushRunners: createPushRunnerStore(dialect),
    cache: createCacheStore(dialect),
    metrics: createMetricsStore(dialect),
    webhooks: createWebhookStore(dialect),
    logs: createLogStore(dialect),
    credentials: createCredentialStore(dialect),
    close: () => dialect.close(),
  };
}

/** Whether `database` names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database);
}

function openDialect(database: string): StoreDialect {
  if (isPostgresUrl(database)) return openPostgres(database);
  if (database !== ':memory:') mkdirSync(dirname(database), { recursive: true });
  return openSqlite(database);
}

export type { LeaseTimings, ClaimingRunner, Claimed, RunnerGives } from './leases.ts';
export {
  DEPENDENCIES_SUCCEEDED,
  type RunPolicy,
  type Decision,
  type DependencyFacts,
  type RunFacts,
} from './advance.ts';
export type { RunWithTasks } from './runs.ts';
export type { RunnerAttemptRow } from './runner-tasks.ts';
export type {
  RunRow,
  TaskRow,
  AttemptRow,
  RunnerRow,
  TokenRow,
  ArtifactRow,
  PushRunnerRow,
  CacheEntryRow,
  WebhookRow,
  WebhookDeliveryRow,
  WebhookAttemptRow,
} from './schema.ts';
export type { CacheHit, CacheFilter } from './cache.ts';
export { sqliteIntegrity } from './sqlite/open.ts';
