// What differs between the databases, in one place: how to open, how to start a write transaction.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';
import type { Migration } from './sqlite/migrations.ts';

export interface DialectCapabilities {
  name: 'sqlite' | 'postgres';
  /** Several server processes may share the database (and need cross-process wake-ups). */
  multiProcess: boolean;
  /** `FOR UPDATE SKIP LOCKED` is available for claims. */
  skipLocked: boolean;
}

export interface StoreDialect {
  capabilities: DialectCapabilities;
  db: Kysely<Database>;
  migrations: Migration[];
  /**
   * Runs `fn` in a transaction that holds the write lock from its first statement
   * (SQLite `BEGIN IMMEDIATE`), so read-then-write sequences such as a claim are atomic.
   */
  writeTx<T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
