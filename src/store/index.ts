// Persistence: open a database (SQLite by path, PostgreSQL later by URL), migrate it, and expose its parts.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StoreDialect } from './dialect.ts';
import { openSqlite } from './sqlite/open.ts';
import { migrate } from './migrate.ts';
import { createRunStore } from './runs.ts';
import { createLeaseStore, type LeaseTimings } from './leases.ts';
import { createLogStore } from './logs.ts';
import { createCredentialStore } from './credentials.ts';
import { createArtifactStore } from './artifacts.ts';
import { DEPENDENCIES_SUCCEEDED, type RunPolicy } from './advance.ts';

export interface StoreOptions {
  /** A file path for SQLite (`:memory:` allowed). */
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
  close(): Promise<void>;
}

export async function openStore(o: StoreOptions): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(o.database)) {
    throw new Error('PostgreSQL support is not available in this version; use a SQLite file path');
  }
  if (o.database !== ':memory:') mkdirSync(dirname(o.database), { recursive: true });
  const dialect = openSqlite(o.database);
  await migrate(dialect);
  const policy = o.policy ?? DEPENDENCIES_SUCCEEDED;
  return {
    dialect,
    runs: createRunStore(dialect, policy),
    leases: createLeaseStore(dialect, o.timings, policy),
    artifacts: createArtifactStore(dialect),
    logs: createLogStore(dialect),
    credentials: createCredentialStore(dialect),
    close: () => dialect.close(),
  };
}

export type { LeaseTimings, ClaimingRunner, Claimed } from './leases.ts';
export { DEPENDENCIES_SUCCEEDED, type RunPolicy, type Decision, type DependencyFacts } from './advance.ts';
export type { RunWithTasks } from './runs.ts';
export type { RunRow, TaskRow, AttemptRow, RunnerRow, TokenRow, ArtifactRow } from './schema.ts';
export { sqliteIntegrity } from './sqlite/open.ts';
