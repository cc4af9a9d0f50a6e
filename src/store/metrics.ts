// What the server's /metrics gauges read at scrape time: two cheap aggregate queries, bounded in size.
import { sql } from 'kysely';
import type { StoreDialect } from './dialect.ts';

/** At most this many label sets are reported for queued tasks; the rest are summed into one `_other` set. */
export const METRICS_MAX_LABEL_SETS = 20;

export interface QueuedByLabels {
  /** The task's `runs_on` as stored (JSON), and how many queued tasks have it; the largest first. */
  groups: Array<{ runsOn: string; count: number }>;
  /** Queued tasks whose label set fell beyond METRICS_MAX_LABEL_SETS. */
  other: number;
}

export function createMetricsStore(d: StoreDialect) {
  return {
    async queuedByLabels(): Promise<QueuedByLabels> {
      const rows = await d.db
        .selectFrom('tasks')
        .select(['runs_on', sql<number | string>`count(*)`.as('n')])
        .where('status', '=', 'queued')
        .groupBy('runs_on')
        .orderBy(sql`count(*)`, 'desc')
        .orderBy('runs_on')
        .execute();
      const all = rows.map((r) => ({ runsOn: r.runs_on, count: Number(r.n) }));
      return {
        groups: all.slice(0, METRICS_MAX_LABEL_SETS),
        other: all.slice(METRICS_MAX_LABEL_SETS).reduce((s, g) => s + g.count, 0),
      };
    },

    /** Bytes of task log stored, over every task kept. */
    async logBytes(): Promise<number> {
      const row = await d.db
        .selectFrom('tasks')
        .select(sql<number | string | null>`sum(log_bytes)`.as('n'))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
  };
}
