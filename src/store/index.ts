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

export interface StoreOptions {
  /** A file path for SQLite (`:memory:` allowed). */
  database: string;
  timings: LeaseTimings;
}

export interface Store {
  dialect: StoreDialect;
  runs: ReturnType<typeof createRunStore>;
  leases: ReturnType<typeof createLeaseStore>;
  logs: ReturnType<typeof createLogStore>;
  credentials: ReturnType<typeof createCredentialStore>;
  close(): Promise<void>;
}

export async function openStore(o: StoreOptions): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(o.database)) {
    throw new Error('PostgreSQL support is not available in this version; use a SQLite file path');
  }
  if (o.database !== ':memory:') mkdirSync(dirname(o.database), { recursive: true });
  const dialect = openSqlite(o.database);
  await migrate(dialect);
  return {
    dialect,
    runs: createRunStore(dialect),
    leases: createLeaseStore(dialect, o.timings),
    logs: createLogStore(dialect),
    credentials: createCredentialStore(dialect),
    close: () => dialect.close(),
  };
}

export type { LeaseTimings } from './leases.ts';
export type { RunWithTasks } from './runs.ts';
export type { RunRow, TaskRow, AttemptRow, RunnerRow, TokenRow } from './schema.ts';
export { sqliteIntegrity } from './sqlite/open.ts';
