// Artifacts in: each artifact zip of the task's dependencies is checked whole, then extracted into the
// fresh workspace before the first step, streaming (yauzl), with zip-slip protection.
//
// An archive is refused, naming its first bad entry, before anything of it is written, for: a name that
// is empty, absolute, has a drive letter, a `..` segment, a backslash or NUL; a symlink or any other
// non-regular entry (Unix mode in the external attributes); an encrypted entry; a duplicate name; more
// entries or uncompressed bytes than the limits (counted over all of the task's archives); an entry over
// `ratioMinBytes` whose uncompressed:compressed ratio is above `maxRatio` (a zip bomb). Sizes are checked
// again while extracting (yauzl validates each entry's real size against the declared one).

import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { getFileNameLowLevel, openPromise, type Entry, type ZipFile } from 'yauzl';
import type { ArtifactRef } from '../protocol/plan.ts';
import type { ArchiveLimits } from './archive-limits.ts';
import { errorText, inside } from './work-dir.ts';

export interface ExtractOptions {
  fetch: ((ref: ArtifactRef) => Promise<string>) | undefined;
  workspace: string;
  limits: ArchiveLimits;
}

interface Checked {
  entry: Entry;
  /** Normalised relative name, `/`-separated, no trailing slash. */
  name: string;
  directory: boolean;
  executable: boolean;
}

/** Unix file types in the high 16 bits of the external attributes (made by host 3 = Unix). */
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const UNIX_HOST = 3;

class UnsafeArchive extends Error {}

/** Resolves with an error sentence when the task must fail (`setup_failed`). */
export async function extractArtifacts(
  refs: readonly ArtifactRef[],
  options: ExtractOptions,
): Promise<{ error?: string }> {
  const totals = { entries: 0, bytes: 0 };
  for (const ref of refs) {
    const label = `artifact '${ref.name}' of task '${ref.task}'`;
    if (options.fetch === undefined)
      return { error: `${label} is needed, but this runner cannot fetch artifacts` };
    let path: string;
    try {
      path = await options.fetch(ref);
    } catch (error) {
      return { error: `${label} could not be fetched: ${errorText(error)}` };
    }
    try {
      await extractOne(path, options, totals);
    } catch (error) {
      const why = error instanceof UnsafeArchive ? error.message : `cannot be read: ${errorText(error)}`;
      return { error: `${label} ${why}` };
    }
  }
  return {};
}

async function extractOne(
  path: string,
  options: ExtractOptions,
  totals: { entries: number; bytes: number },
): Promise<void> {
  const zip = await openPromise(path, {
    lazyEntries: true,
    autoClose: false,
    // Names are decoded and checked here, so the message can name the entry and backslashes stay visible.
    decodeStrings: false,
    validateEntrySizes: true,
  });
  try {
    const checked = await checkAll(zip, options.limits, totals);
    for (const item of checked) await write(zip, item, options.workspace);
  } finally {
    zip.close();
  }
}

async function checkAll(
  zip: ZipFile,
  limits: ArchiveLimits,
  totals: { entries: number; bytes: number },
): Promise<Checked[]> {
  if (totals.entries + zip.entryCount > limits.maxEntries) {
    throw new UnsafeArchive(
      `has ${zip.entryCount} entries; with earlier artifacts that is over the limit of ${limits.maxEntries}`,
    );
  }
  const seen = new Set<string>();
  const checked: Checked[] = [];
  for await (const entry of zip.eachEntry()) {
    const raw = getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
    const item = checkEntry(entry, raw);
    const refuse = (why: string): never => {
      throw new UnsafeArchive(`is unsafe: entry '${printable(raw)}' ${why}`);
    };
    if (seen.has(item.name)) refuse('appears twice');
    seen.add(item.name);
    totals.entries++;
    totals.bytes += entry.uncompressedSize;
    if (totals.bytes > limits.maxBytes)
      refuse(`takes the uncompressed size over the limit of ${limits.maxBytes} bytes`);
    const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1);
    if (entry.uncompressedSize > limits.ratioMinBytes && ratio > limits.maxRatio) {
      refuse(`expands ${Math.round(ratio)}:1, over the limit of ${limits.maxRatio}:1 (a zip bomb?)`);
    }
    checked.push(item);
  }
  return checked;
}

function checkEntry(entry: Entry, raw: string): Checked {
  const refuse = (why: string): never => {
    throw new UnsafeArchive(`is unsafe: entry '${printable(raw)}' ${why}`);
  };
  if (raw === '') refuse('has an empty name');
  if (raw.includes('\0')) refuse('has a NUL character in its name');
  if (raw.includes('\\')) refuse('has a backslash in its name');
  if (raw.startsWith('/')) refuse('has an absolute path');
  if (/^[A-Za-z]:/.test(raw)) refuse('starts with a drive letter');
  const segments = raw.split('/');
  if (segments.includes('..')) refuse("has a '..' segment");
  const parts = segments.filter((s) => s !== '' && s !== '.');
  if (parts.length === 0) refuse('names no file');
  if (entry.isEncrypted()) refuse('is encrypted');
  const host = entry.versionMadeBy >> 8;
  const mode = host === UNIX_HOST ? (entry.externalFileAttributes >>> 16) & 0o177777 : 0;
  const type = mode & S_IFMT;
  const directory = raw.endsWith('/') || type === S_IFDIR;
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
    refuse(type === 0o120000 ? 'is a symlink' : 'is not a regular file or directory');
  }
  return { entry, name: parts.join('/'), directory, executable: (mode & 0o111) !== 0 };
}

async function write(zip: ZipFile, item: Checked, workspace: string): Promise<void> {
  const target = resolve(workspace, item.name);
  // Already ensured by the name checks; kept as the last line of defence.
  if (!inside(workspace, target) || target === workspace)
    throw new UnsafeArchive(`is unsafe: entry '${item.name}' resolves outside the work dir`);
  if (item.directory) {
    await mkdir(target, { recursive: true });
    return;
  }
  await mkdir(dirname(target), { recursive: true });
  const data = await zip.openReadStreamPromise(item.entry);
  // A later artifact may replace a file of an earlier one, as download-artifact's merge does; the
  // workspace holds no symlinks yet (no step has run, and none are extracted), so `w` cannot be redirected.
  await pipeline(data, createWriteStream(target, { flags: 'w', mode: item.executable ? 0o755 : 0o644 }));
}

/** Names are shown in messages: control characters (NUL included) are escaped. */
function printable(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
