// What an artifact zip may hold, the one definition both sides apply: the server when a runner uploads an
// archive, the engine when a task unpacks one. Pure rules over an entry's header fields; reading the zip is
// the caller's (yauzl on both sides).
//
// Refused, naming the entry: an empty name, a NUL, a backslash, an absolute path, a drive letter, a `..`
// segment, a name with no file in it; an encrypted entry; a symlink, hardlink or any other non-regular
// entry (Unix type in the external attributes); a duplicate name; the entry that takes the count or the
// uncompressed total over the limits; an entry over `ratioMinBytes` whose uncompressed:compressed ratio is
// above `maxRatio` (a zip bomb).

import { getFileNameLowLevel, type Entry } from 'yauzl';

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

/** The header fields of one zip entry the rules look at (yauzl's `Entry` has them all). */
export interface ArchiveEntryFields {
  /** The name as stored, decoded but not normalised: backslashes and `..` stay visible. */
  rawName: string;
  versionMadeBy: number;
  externalFileAttributes: number;
  encrypted: boolean;
  compressedSize: number;
  uncompressedSize: number;
}

/** The fields the rules read, from an entry yauzl listed (its name decoded but not normalised). */
export function zipEntryFields(entry: Entry): ArchiveEntryFields {
  return {
    rawName: getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true),
    versionMadeBy: entry.versionMadeBy,
    externalFileAttributes: entry.externalFileAttributes,
    encrypted: entry.isEncrypted(),
    compressedSize: entry.compressedSize,
    uncompressedSize: entry.uncompressedSize,
  };
}

/** Running totals over the archives checked together (one task's), and the names of the current one. */
export interface ArchiveTally {
  entries: number;
  bytes: number;
  names: Set<string>;
}

export type EntryVerdict =
  | {
      ok: true;
      /** Normalised relative name, `/`-separated, no trailing slash. */
      name: string;
      directory: boolean;
      executable: boolean;
    }
  | {
      ok: false;
      /** The entry as shown to people (control characters escaped). */
      entry: string;
      why: string;
    };

/** Unix file types in the high 16 bits of the external attributes (made by host 3 = Unix). */
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const UNIX_HOST = 3;

/** Checks one entry and counts it into `tally`; the first reason found is the one given. */
export function checkArchiveEntry(
  fields: ArchiveEntryFields,
  tally: ArchiveTally,
  limits: ArchiveLimits,
): EntryVerdict {
  const raw = fields.rawName;
  const refuse = (why: string): EntryVerdict => ({ ok: false, entry: printableEntryName(raw), why });
  if (raw === '') return refuse('has an empty name');
  if (raw.includes('\0')) return refuse('has a NUL character in its name');
  if (raw.includes('\\')) return refuse('has a backslash in its name');
  if (raw.startsWith('/')) return refuse('has an absolute path');
  if (/^[A-Za-z]:/.test(raw)) return refuse('starts with a drive letter');
  const segments = raw.split('/');
  if (segments.includes('..')) return refuse("has a '..' segment");
  const parts = segments.filter((s) => s !== '' && s !== '.');
  if (parts.length === 0) return refuse('names no file');
  if (fields.encrypted) return refuse('is encrypted');
  const host = fields.versionMadeBy >> 8;
  const mode = host === UNIX_HOST ? (fields.externalFileAttributes >>> 16) & 0o177777 : 0;
  const type = mode & S_IFMT;
  const directory = raw.endsWith('/') || type === S_IFDIR;
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR)
    return refuse(type === S_IFLNK ? 'is a symlink' : 'is not a regular file or directory');
  const name = parts.join('/');
  if (tally.names.has(name)) return refuse('appears twice');
  tally.names.add(name);
  tally.entries++;
  if (tally.entries > limits.maxEntries)
    return refuse(`takes the number of entries over the limit of ${limits.maxEntries}`);
  tally.bytes += fields.uncompressedSize;
  if (tally.bytes > limits.maxBytes)
    return refuse(`takes the uncompressed size over the limit of ${limits.maxBytes} bytes`);
  const ratio = fields.uncompressedSize / Math.max(fields.compressedSize, 1);
  if (fields.uncompressedSize > limits.ratioMinBytes && ratio > limits.maxRatio)
    return refuse(`expands ${Math.round(ratio)}:1, over the limit of ${limits.maxRatio}:1 (a zip bomb?)`);
  return { ok: true, name, directory, executable: (mode & 0o111) !== 0 };
}

/** Names are shown in messages: control characters (NUL included) are escaped. */
export function printableEntryName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
