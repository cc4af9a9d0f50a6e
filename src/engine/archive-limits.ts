// Limits on zip archives the engine reads (artifacts in) and writes (uploads out).

export interface ArchiveLimits {
  /** Most entries (files and directories) in one task's archives. */
  maxEntries: number;
  /** Most uncompressed bytes in one task's archives. */
  maxBytes: number;
  /** Highest uncompressed:compressed ratio of one entry, checked on entries over `ratioMinBytes`. */
  maxRatio: number;
  /** Entries at most this large are never refused for their ratio (small files compress well legitimately). */
  ratioMinBytes: number;
}

/** 10,000 entries and 1 GiB: far above a build's artifacts, far below what fills a runner's disk. */
export const ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxEntries: 10_000,
  maxBytes: 1024 * 1024 * 1024,
  maxRatio: 100,
  ratioMinBytes: 1024 * 1024,
});

export function archiveLimits(given: Partial<ArchiveLimits> | undefined): ArchiveLimits {
  return { ...ARCHIVE_LIMITS, ...given };
}
