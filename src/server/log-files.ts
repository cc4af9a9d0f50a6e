// Task logs' bytes on the filesystem, beside the artifacts in the blob store: one file per attempt
// (`<blobDir>/logs/<id[0..2]>/<task-id>.<attempt>.log`), each chunk written at its offset in the log, so the
// file's first N bytes are the log's first N bytes. The database holds only the index (docs/adr/0021-log-bytes.md).
// A directory shared by replicas serves them all, as for artifacts.
//
// Synchronous calls: a write is at most one batch (~1 MiB) into the page cache, cheaper than a hop through
// the thread pool (the same finding as the runner's spool, docs/performance.md).
import { closeSync, fdatasyncSync, mkdirSync, openSync, readSync, writeSync, constants } from 'node:fs';
import { join } from 'node:path';
import { BatonError } from '../protocol/errors.ts';
import type { LogBytesChunk, LogFiles } from '../store/logs.ts';

export interface FsLogFilesOptions {
  /**
   * fdatasync each write before its index row is committed: on where the database's commits are durable
   * against power loss (PostgreSQL); off for SQLite, whose WAL commits (synchronous = NORMAL) are durable
   * against a crash of the process but not of the machine, as the log's page-cache writes are.
   */
  sync: boolean;
}

const ID = /^[0-9A-Za-z_-]{1,64}$/;

export function createFsLogFiles(root: string, o: FsLogFilesOptions): LogFiles {
  const pathOf = (taskId: string, attempt: number) => {
    if (!ID.test(taskId) || !Number.isSafeInteger(attempt) || attempt < 0)
      throw new BatonError('not_found', `no log file for task ${taskId.slice(0, 64)} attempt ${attempt}`);
    const dir = join(root, taskId.slice(0, 2));
    return { dir, path: join(dir, `${taskId}.${attempt}.log`) };
  };
  return {
    async write(taskId, attempt, chunks: readonly LogBytesChunk[]) {
      const { dir, path } = pathOf(taskId, attempt);
      // Not O_APPEND: Linux ignores the position of a write to an O_APPEND file, and chunks land at their offsets.
      const flags = constants.O_WRONLY | constants.O_CREAT;
      let fd: number;
      try {
        fd = openSync(path, flags, 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        fd = openSync(path, flags, 0o600);
      }
      try {
        for (const c of chunks) {
          let done = 0;
          while (done < c.bytes.length)
            done += writeSync(fd, c.bytes, done, c.bytes.length - done, c.offset + done);
        }
        if (o.sync) fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
    async read(taskId, attempt, offset, length) {
      const { path } = pathOf(taskId, attempt);
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        throw new BatonError(
          'unavailable',
          `the log file of task ${taskId} attempt ${attempt} is missing from ${root}: servers sharing one database must share one blob directory (--blob-dir)`,
        );
      }
      try {
        const buf = Buffer.allocUnsafe(length);
        let done = 0;
        while (done < length) {
          const n = readSync(fd, buf, done, length - done, offset + done);
          if (n === 0)
            throw new BatonError(
              'unavailable',
              `the log file of task ${taskId} attempt ${attempt} ends at byte ${offset + done}, before the ${offset + length} bytes its index names`,
            );
          done += n;
        }
        return buf;
      } finally {
        closeSync(fd);
      }
    },
  };
}
