// Applies the dialect's numbered migrations that are not yet recorded, in order, each in its own transaction,
// under the dialect's migration lock.
import { sql } from 'kysely';
import type { StoreDialect } from './dialect.ts';

export async function migrate(dialect: StoreDialect): Promise<number[]> {
  // Several replicas may start at once: only one migrates at a time, the others then find the work done.
  return dialect.withMigrationLock(() => applyPending(dialect));
}

async function applyPending(dialect: StoreDialect): Promise<number[]> {
  const { db } = dialect;
  await sql`CREATE TABLE IF NOT EXISTS baton_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`.execute(
    db,
  );
  const done = new Set((await db.selectFrom('baton_migrations').select('id').execute()).map((r) => r.id));
  const applied: number[] = [];
  for (const m of dialect.migrations) {
    if (done.has(m.id)) continue;
    await dialect.writeTx(async (tx) => {
      for (const statement of splitStatements(m.sql)) await sql.raw(statement).execute(tx);
      await tx
        .insertInto('baton_migrations')
        .values({ id: m.id, name: m.name, applied_at: Date.now() })
        .execute();
    });
    applied.push(m.id);
  }
  return applied;
}

function splitStatements(text: string): string[] {
  return text
    .split(/;\s*\n/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}
