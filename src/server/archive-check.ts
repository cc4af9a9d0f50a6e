// Checks an uploaded artifact zip before the blob store keeps it: every entry against the archive rules
// (protocol/archive-rules.ts, the very ones the engine applies when a task unpacks it), so an unsafe archive
// is refused from the runner that made it, not from the task that would have unpacked it later.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openPromise, type Entry } from 'yauzl';
import {
  checkArchiveEntry,
  printableEntryName,
  zipEntryFields,
  type ArchiveLimits,
} from '../protocol/archive-rules.ts';
import { BatonError, toError } from '../protocol/errors.ts';

/**
 * Resolves when the zip at `path` is safe; otherwise rejects with `unsafe_archive` (422) naming the artifact
 * and the first bad entry (`entry` in the details). The count, total and ratio limits see the declared sizes
 * of the central directory; then every file is read through once and must hold exactly what it declares.
 */
export async function checkUploadedArchive(
  path: string,
  artifact: string,
  limits: ArchiveLimits,
): Promise<void> {
  const refuse = (why: string, details: Record<string, unknown> = {}): never => {
    throw new BatonError('unsafe_archive', `artifact '${artifact}' ${why}; nothing was stored`, {
      artifact,
      ...details,
    });
  };
  let zip;
  try {
    // Names are decoded and checked here, so the message can name the entry and backslashes stay visible.
    zip = await openPromise(path, { lazyEntries: true, autoClose: false, decodeStrings: false });
  } catch (error) {
    return refuse(`is not a readable zip archive: ${toError(error).message}`);
  }
  try {
    const tally = { entries: 0, bytes: 0, names: new Set<string>() };
    const files: Array<{ entry: Entry; name: string }> = [];
    for await (const entry of zip.eachEntry()) {
      const fields = zipEntryFields(entry);
      const verdict = checkArchiveEntry(fields, tally, limits);
      if (!verdict.ok) refuse(`is unsafe: entry '${verdict.entry}' ${verdict.why}`, { entry: verdict.entry });
      else if (!verdict.directory) files.push({ entry, name: printableEntryName(fields.rawName) });
    }
    // The limits above saw declared sizes: read every file once to hold it to them (yauzl stops a stream one
    // byte past its declared size), so a header that lies about a bomb is refused too. Bounded by the limits.
    for (const { entry, name } of files) {
      try {
        await pipeline(
          await zip.openReadStreamPromise(entry),
          new Writable({ write: (_c, _e, done) => done() }),
        );
      } catch (error) {
        refuse(
          `is unsafe: entry '${name}' does not hold what its header declares: ${toError(error).message}`,
          {
            entry: name,
          },
        );
      }
    }
  } catch (error) {
    if (error instanceof BatonError) throw error;
    refuse(`is not a readable zip archive: ${toError(error).message}`);
  } finally {
    zip.close();
  }
}
