// Cached task results (issue 16): entries keyed by (workflow name, key) holding a succeeded task's outputs until
// they expire. Expiry is honoured at lookup (an expired entry is a miss even before the sweep removes it);
// `sweepExpired` deletes what has expired, and the reaper calls it.
import type { Kysely, Transaction } from 'kysely';
import { MAX_CACHE_ENTRY_BYTES } from '../protocol/cache-limits.ts';
import type { CompleteCache } from '../protocol/cache.ts';
import type { TaskSpec } from '../protocol/plan.ts';
import type { StoreDialect } from './dialect.ts';
import type { CacheEntryRow, Database } from './schema.ts';

export interface CacheHit {
  outputs: Record<string, string>;
  createdAt: number;
}

export interface CacheFilter {
  workflow?: string;
  key?: string;
}

export function createCacheStore(d: StoreDialect) {
  const { db } = d;
  return {
    /** The live entry for (workflow, key), or undefined when there is none or it expired at `now`. */
    async lookup(workflow: string, key: string, now: number): Promise<CacheHit | undefined> {
      const row = await db
        .selectFrom('cache_entries')
        .select(['outputs', 'created_at'])
        .where('workflow', '=', workflow)
        .where('key', '=', key)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      if (!row) return undefined;
      return { outputs: JSON.parse(row.outputs) as Record<string, string>, createdAt: row.created_at };
    },
    async list(filter: CacheFilter, now: number, limit: number): Promise<CacheEntryRow[]> {
      let q = db.selectFrom('cache_entries').selectAll().where('expires_at', '>', now);
      if (filter.workflow !== undefined) q = q.where('workflow', '=', filter.workflow);
      if (filter.key !== undefined) q = q.where('key', '=', filter.key);
      return q.orderBy('workflow').orderBy('created_at', 'desc').limit(limit).execute();
    },
    /** Removes the entries the filter names (every entry without one); returns how many. */
    async clear(filter: CacheFilter): Promise<number> {
      let q = db.deleteFrom('cache_entries');
      if (filter.workflow !== undefined) q = q.where('workflow', '=', filter.workflow);
      if (filter.key !== undefined) q = q.where('key', '=', filter.key);
      const r = await q.executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    /** Deletes expired entries; returns how many. */
    async sweepExpired(now: number): Promise<number> {
      const r = await db.deleteFrom('cache_entries').where('expires_at', '<=', now).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type CacheStore = ReturnType<typeof createCacheStore>;

/**
 * Inside `complete`'s transaction: records on the task what the runner reports about the cache and, for a
 * succeeded miss of a task that declares `cache:`, stores its outputs under (workflow, key) for the task's ttl.
 * Not stored: a failed result, a hit (it came from the cache), a result with confidential outputs (never cached,
 * docs/workflows.md), outputs over MAX_CACHE_ENTRY_BYTES as JSON.
 */
export async function recordCacheReport(
  tx: Transaction<Database> | Kysely<Database>,
  taskId: string,
  report: {
    status: string;
    cache: CompleteCache;
    outputs: Record<string, string>;
    confidential: string[];
  },
  now: number,
): Promise<void> {
  const task = await tx
    .selectFrom('tasks')
    .innerJoin('runs', 'runs.id', 'tasks.run_id')
    .select(['tasks.spec', 'runs.name'])
    .where('tasks.id', '=', taskId)
    .executeTakeFirstOrThrow();
  const spec = JSON.parse(task.spec) as TaskSpec;
  if (spec.cache === undefined) return;
  const { cache } = report;
  const created = cache.hit && cache.createdAt !== undefined ? Date.parse(cache.createdAt) : NaN;
  await tx
    .updateTable('tasks')
    .set({
      cache_key: cache.key,
      cache_hit: cache.hit ? 1 : 0,
      cache_age_ms: Number.isFinite(created) ? Math.max(0, now - created) : null,
    })
    .where('id', '=', taskId)
    .execute();
  if (cache.hit || report.status !== 'succeeded' || report.confidential.length > 0) return;
  const outputs = JSON.stringify(report.outputs);
  const size = Buffer.byteLength(outputs, 'utf8');
  if (size > MAX_CACHE_ENTRY_BYTES) return;
  const row = {
    workflow: task.name,
    key: cache.key,
    outputs,
    size_bytes: size,
    created_at: now,
    expires_at: now + spec.cache.ttlMs,
  };
  await tx
    .insertInto('cache_entries')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['workflow', 'key']).doUpdateSet({
        outputs: row.outputs,
        size_bytes: row.size_bytes,
        created_at: row.created_at,
        expires_at: row.expires_at,
      }),
    )
    .execute();
}
