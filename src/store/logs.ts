// Reading stored task logs: the chunks of one attempt in order, optionally from a byte offset.
import type { StoreDialect } from './dialect.ts';

export interface StoredChunk {
  seq: number;
  offset: number;
  data: string;
}

export function createLogStore(d: StoreDialect) {
  return {
    /** Chunks with `seq > afterSeq`, in order; at most `limit` of them. */
    async chunks(taskId: string, attempt: number, afterSeq = -1, limit = 1000): Promise<StoredChunk[]> {
      return d.db
        .selectFrom('log_chunks')
        .select(['seq', 'offset', 'data'])
        .where('task_id', '=', taskId)
        .where('attempt', '=', attempt)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
    },
  };
}

export type LogStore = ReturnType<typeof createLogStore>;
