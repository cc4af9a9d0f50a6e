// What differs between the databases, in one place: the capabilities table (data the shared queries consult),
// and the dialect object (how to open, start a write transaction, migrate safely, and wake other processes).
import type { Expression, ExpressionBuilder, Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';
import type { Migration } from './sqlite/migrations.ts';
import type { GroupCommitStats } from './group-commit.ts';

export interface DialectCapabilities {
  name: 'sqlite' | 'postgres';
  /** Several server processes may share the database (and need cross-process wake-ups). */
  multiProcess: boolean;
  /**
   * Row locks (`SELECT … FOR UPDATE`) exist. Without them (SQLite) every write transaction already holds the
   * whole database's write lock from its first statement, so a row lock would add nothing.
   */
  rowLocks: boolean;
  /** `FOR UPDATE SKIP LOCKED` is available for claims and sweeps. */
  skipLocked: boolean;
  /** The scalar function that returns the larger of two values (`max(a, b)` / `greatest(a, b)`). */
  greatest: 'max' | 'greatest';
  /** Session advisory locks serialise migrations between processes (`pg_advisory_lock`). */
  advisoryLocks: boolean;
}

/**
 * One database behind the store. Contract:
 * - `writeTx` runs `fn` in a transaction and retries it from the start when the database reports a
 *   deadlock or serialization failure, so `fn` must not have effects outside the transaction. SQLite:
 *   `BEGIN IMMEDIATE` (the write lock from the first statement), shared with the writes that queued while the
 *   previous transaction ran (group-commit.ts: each caller still learns its outcome only after the commit, and a
 *   write that fails is run again alone, so it fails alone). PostgreSQL: READ COMMITTED; every transition
 *   is a conditional update, and reads that a decision depends on take row locks through `lockRows`/`skipLocked`.
 * - `notifyQueued(tx)` tells every process listening on this database that tasks were queued. Called inside
 *   the transaction that queued them, so the notice is delivered on commit and never before the rows are
 *   visible. A no-op where one process owns the database.
 * - `notifyTokenRevoked(tx, tokenId)` tells every process that a token was revoked (its open streams close at
 *   once), delivered on commit like `notifyQueued`. A no-op where one process owns the database.
 * - `listen(onQueued, onTokenRevoked)` calls `onQueued` for each queued notice and `onTokenRevoked` with the
 *   token id of each revocation notice (from any process, this one included) until the returned stop function
 *   is called. Notices can be lost (a dropped connection): callers keep a backstop; after a reconnect
 *   `onTokenRevoked` is called with no id, meaning "check every token again".
 * - `withMigrationLock(fn)` runs `fn` while no other process migrates the same database.
 */
export interface StoreDialect {
  capabilities: DialectCapabilities;
  db: Kysely<Database>;
  migrations: Migration[];
  writeTx<T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** Where writes are grouped into shared transactions (SQLite): how many writes, how many transactions. */
  groupCommit?: GroupCommitStats;
  notifyQueued(tx: Kysely<Database>): Promise<void>;
  notifyTokenRevoked(tx: Kysely<Database>, tokenId: string): Promise<void>;
  listen?(
    onQueued: () => void,
    onTokenRevoked?: (tokenId: string | undefined) => void,
  ): Promise<() => Promise<void>>;
  withMigrationLock<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

interface Lockable<T> {
  forUpdate(): T;
  skipLocked(): T;
}

/** `FOR UPDATE` where row locks exist (waits for the row): use with `.$call(lockRows(caps))`. */
export function lockRows(caps: DialectCapabilities) {
  return <T extends Lockable<T>>(qb: T): T => (caps.rowLocks ? qb.forUpdate() : qb);
}

/** `FOR UPDATE SKIP LOCKED` where available (rows another transaction holds are passed over). */
export function lockRowsSkipLocked(caps: DialectCapabilities) {
  return <T extends Lockable<T>>(qb: T): T => (caps.skipLocked ? qb.forUpdate().skipLocked() : qb);
}

/** The larger of two numeric expressions, spelled as the database wants it. */
export function greatest<DB, TB extends keyof DB>(
  caps: DialectCapabilities,
  eb: ExpressionBuilder<DB, TB>,
  a: Expression<number>,
  b: Expression<number>,
) {
  return eb.fn<number>(caps.greatest, [a, b]);
}

/** Text columns never receive NUL (PostgreSQL refuses it): it becomes U+FFFD, as the runner also does. */
export function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}
