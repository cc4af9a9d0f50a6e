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
import { openPromise, type Entry, type ZipFile } from 'yauzl';
import type { ArtifactRef } from '../protocol/plan.ts';
import { checkArchiveEntry, zipEntryFields } from '../protocol/archive-rules.ts';
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
  // Names must be unique within one archive; counts and sizes add up over all of the task's archives.
  const tally = { entries: totals.entries, bytes: totals.bytes, names: new Set<string>() };
  const checked: Checked[] = [];
  for await (const entry of zip.eachEntry()) {
    const verdict = checkArchiveEntry(zipEntryFields(entry), tally, limits);
    if (!verdict.ok) throw new UnsafeArchive(`is unsafe: entry '${verdict.entry}' ${verdict.why}`);
    checked.push({ entry, name: verdict.name, directory: verdict.directory, executable: verdict.executable });
  }
  totals.entries = tally.entries;
  totals.bytes = tally.bytes;
  return checked;
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
