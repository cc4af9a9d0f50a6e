// Reading stored task logs: the chunks of one attempt in order, optionally from a byte offset.
import type { StoreDialect } from './dialect.ts';

export interface StoredChunk {
  seq: number;
  offset: number;
  data: string;
}

export function createLogStore(d: StoreDialect) {
  return {
    /**
     * Chunks with `seq > afterSeq` (at most `limit`), in order, up to the first gap: a runner has two batches in flight, and the
     * later one can be stored first; readers see the log grow as a prefix, never with a hole they would skip.
     */
    async chunks(taskId: string, attempt: number, afterSeq = -1, limit = 1000): Promise<StoredChunk[]> {
      const rows = await d.db
        .selectFrom('log_chunks')
        .select(['seq', 'offset', 'data'])
        .where('task_id', '=', taskId)
        .where('attempt', '=', attempt)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
      const gap = rows.findIndex((r, i) => r.seq !== afterSeq + 1 + i);
      return gap < 0 ? rows : rows.slice(0, gap);
    },
  };
}

export type LogStore = ReturnType<typeof createLogStore>;
