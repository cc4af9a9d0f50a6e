// The SQLite dialect: one better-sqlite3 connection in WAL mode, serialised by Kysely's driver.
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type Transaction } from 'kysely';
import type { Database } from '../schema.ts';
import type { StoreDialect } from '../dialect.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';
import { createGroupCommit } from '../group-commit.ts';

export function openSqlite(path: string): StoreDialect {
  const raw = new BetterSqlite3(path);
  raw.pragma('journal_mode = WAL');
  // NORMAL is durable against process crashes in WAL mode; only an OS crash can lose the last commits.
  raw.pragma('synchronous = NORMAL');
  raw.pragma('busy_timeout = 5000');
  // Checkpoint the WAL every 4,000 pages (16 MiB) instead of SQLite's 1,000: a task printing at full speed
  // otherwise paid for a checkpoint (and its fsync) every 4 MiB of log.
  raw.pragma('wal_autocheckpoint = 4000');
  raw.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  // Writes that queue while a transaction runs commit together in the next one (group-commit.ts).
  const group = createGroupCommit(<T>(body: (tx: Transaction<Database>) => Promise<T>) =>
    // Kysely's SQLite driver holds its connection mutex for the whole transaction, so within this
    // process nothing interleaves; IMMEDIATE also takes the file's write lock up front.
    db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const result = await body(conn as unknown as Transaction<Database>);
        await sql`commit`.execute(conn);
        return result;
      } catch (err) {
        // SQLite rolls back by itself on some errors (SQLITE_FULL among them): then our rollback fails with
        // "no transaction is active", which must not hide the error that matters.
        if (raw.inTransaction) await sql`rollback`.execute(conn);
        throw err;
      }
    }),
  );
  return {
    capabilities: {
      name: 'sqlite',
      multiProcess: false,
      rowLocks: false,
      skipLocked: false,
      greatest: 'max',
      advisoryLocks: false,
    },
    db,
    migrations: SQLITE_MIGRATIONS,
    writeTx<T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
      return group.run(fn);
    },
    groupCommit: group.stats,
    // One process owns the file: its in-process hub already hears every queued task.
    async notifyQueued() {},
    // Likewise: the revoking request runs in the process that holds the streams.
    async notifyTokenRevoked() {},
    async withMigrationLock<T>(fn: () => Promise<T>): Promise<T> {
      return fn();
    },
    async close() {
      await db.destroy();
    },
  };
}

/** How many distinct statements stay prepared (queries with `in (…)` lists vary in their placeholders). */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver prepares every statement on every call, which cost more than running it on the
 * claim and completion paths. Prepared statements are kept per SQL text, least recently used dropped first.
 * Safe to share: the driver runs one statement at a time on this one connection (streams hold it).
 */
function withStatementCache(raw: BetterSqlite3.Database): {
  prepare: BetterSqlite3.Database['prepare'];
  close(): void;
} {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(text: string) {
      let statement = cache.get(text);
      if (statement === undefined) {
        statement = raw.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      } else cache.delete(text);
      cache.set(text, statement);
      return statement;
    },
    close() {
      raw.close();
    },
  } as { prepare: BetterSqlite3.Database['prepare']; close(): void };
}

/** `PRAGMA integrity_check` result; "ok" when the file is sound. */
export function sqliteIntegrity(path: string): string {
  const raw = new BetterSqlite3(path, { readonly: true });
  try {
    const row = raw.pragma('integrity_check', { simple: true });
    return String(row);
  } finally {
    raw.close();
  }
}
