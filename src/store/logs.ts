// Reading stored task logs: the chunks of one attempt in order, optionally from a byte offset. A chunk's bytes
// are in the attempt's log file (`LogFiles`, the server's blob store; docs/adr/0021-log-bytes.md) with only its
// index row in the database, or, for chunks stored before migration 22 or by a store opened without log files,
// in the row's text.
import type { StoreDialect } from './dialect.ts';

export interface StoredChunk {
  seq: number;
  offset: number;
  bytes: Buffer;
}

/** A log chunk as bytes, on its way into the store. */
export interface LogBytesChunk {
  seq: number;
  offset: number;
  bytes: Buffer;
}

/**
 * Where attempts' log bytes live: one file per attempt, written at each chunk's offset. Contract: `write`
 * resolves once the bytes are as durable as the database's commits (the index row is written after it, in the
 * same transaction as the lease check); bytes no index row covers are never read and may be written again
 * by a retry. `read` answers exactly `length` bytes from `offset` or throws. Safe to call from several
 * processes on one shared directory (each byte range of an attempt is written by its lease's holder only).
 */
export interface LogFiles {
  write(taskId: string, attempt: number, chunks: readonly LogBytesChunk[]): Promise<void>;
  read(taskId: string, attempt: number, offset: number, length: number): Promise<Buffer>;
}

export function createLogStore(d: StoreDialect) {
  return {
    /**
     * Chunks with `seq > afterSeq` (at most `limit`), in order, up to the first gap: a runner has two batches in flight, and the
     * later one can be stored first; readers see the log grow as a prefix, never with a hole they would skip.
     * `files` must be given once any chunk of the attempt may be in a log file.
     */
    async chunks(
      taskId: string,
      attempt: number,
      afterSeq = -1,
      limit = 1000,
      files?: LogFiles,
    ): Promise<StoredChunk[]> {
      const rows = await d.db
        .selectFrom('log_chunks')
        .select(['seq', 'offset', 'data', 'length'])
        .where('task_id', '=', taskId)
        .where('attempt', '=', attempt)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
      const gap = rows.findIndex((r, i) => r.seq !== afterSeq + 1 + i);
      const prefix = gap < 0 ? rows : rows.slice(0, gap);
      const out: StoredChunk[] = [];
      // Consecutive file chunks tile one byte range: one read for the run of them.
      for (let i = 0; i < prefix.length;) {
        const r = prefix[i]!;
        if (r.length === null) {
          out.push({ seq: r.seq, offset: r.offset, bytes: Buffer.from(r.data, 'utf8') });
          i++;
          continue;
        }
        if (!files)
          throw new Error(
            `task ${taskId} attempt ${attempt}: chunk ${r.seq} is in a log file; no log files given`,
          );
        let j = i;
        let end = r.offset + r.length;
        while (j + 1 < prefix.length) {
          const n = prefix[j + 1]!;
          if (n.length === null || n.offset !== end) break;
          end += n.length;
          j++;
        }
        const bytes = await files.read(taskId, attempt, r.offset, end - r.offset);
        for (let k = i; k <= j; k++) {
          const c = prefix[k]!;
          const at = c.offset - r.offset;
          out.push({ seq: c.seq, offset: c.offset, bytes: bytes.subarray(at, at + c.length!) });
        }
        i = j + 1;
      }
      return out;
    },
  };
}

export type LogStore = ReturnType<typeof createLogStore>;
