// A task's uploads: its declared paths and globs, resolved in the work dir and zipped (streaming) into
// one file for the runner to send.
//
// Rules: a path or glob that is absolute or climbs out with `..`, or whose real path is outside the work
// dir (through a symlink), fails the task naming it; a literal path that does not exist, or a glob that
// matches nothing, fails the task too (BountyHub). Directories are added recursively; a symlink found
// inside one is skipped with a warning, never followed; so are FIFOs, sockets and devices (reading a FIFO
// would block). Entry names are relative to the work dir, with `/`.

import { createReadStream, createWriteStream } from 'node:fs';
import { glob, lstat, readdir, realpath, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import type { ArchiveLimits } from './archive-limits.ts';
import type { Evaluated } from './expressions.ts';
import { errorText, inside } from './work-dir.ts';

export interface UploadOptions {
  workspace: string;
  /** The zip to write; must not exist. */
  target: string;
  limits: ArchiveLimits;
  /** One line per skipped symlink or special file. */
  warn: (text: string) => void;
}

export interface UploadResult {
  path: string;
  entries: number;
  /** Size of the zip file. */
  bytes: number;
}

interface Entry {
  /** Real path of a file; undefined for an (empty) directory. */
  source?: string;
  mode: number;
  mtime: Date;
  size: number;
}

class UploadError extends Error {}

/** `diskFull`: the zip could not be written for lack of space (ENOSPC), which the task reports as `disk_full`. */
export async function writeUploads(
  patterns: readonly string[],
  options: UploadOptions,
): Promise<Evaluated<UploadResult> & { diskFull?: boolean }> {
  let entries: Map<string, Entry>;
  try {
    entries = await collectEntries(patterns, options);
  } catch (error) {
    if (error instanceof UploadError) return { error: error.message };
    return { error: `could not collect the uploads: ${errorText(error)}` };
  }
  try {
    return { value: await writeZip(entries, options) };
  } catch (error) {
    if (isNoSpace(error)) {
      await rm(options.target, { force: true }).catch(() => undefined);
      return {
        error: `no space left on device while zipping the uploads into ${options.target} (the runner's work dir); free space there or upload less`,
        diskFull: true,
      };
    }
    return { error: `could not zip the uploads: ${errorText(error)}` };
  }
}

async function collectEntries(
  patterns: readonly string[],
  options: UploadOptions,
): Promise<Map<string, Entry>> {
  const { workspace, limits } = options;
  const root = await realpath(workspace);
  const entries = new Map<string, Entry>();
  let bytes = 0;
  const add = (name: string, entry: Entry): void => {
    if (entries.has(name)) return;
    entries.set(name, entry);
    bytes += entry.size;
    if (entries.size > limits.maxEntries)
      throw new UploadError(`uploads hold more than ${limits.maxEntries} entries, the limit`);
    if (bytes > limits.maxBytes)
      throw new UploadError(`uploads hold more than ${limits.maxBytes} bytes, the limit`);
  };
  const walk = async (real: string, name: string): Promise<void> => {
    const children = await readdir(real, { withFileTypes: true });
    const info = await stat(real);
    if (children.length === 0 && name !== '')
      add(`${name}/`, { mode: info.mode, mtime: info.mtime, size: 0 });
    for (const child of children.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const childName = name === '' ? child.name : `${name}/${child.name}`;
      const childReal = join(real, child.name);
      if (child.isSymbolicLink())
        options.warn(`upload: skipped symlink '${childName}' (symlinks inside an upload are not followed)`);
      else if (child.isDirectory()) await walk(childReal, childName);
      else if (child.isFile()) addFile(childReal, childName, await lstat(childReal));
      else options.warn(`upload: skipped '${childName}': not a regular file or directory`);
    }
  };
  const addFile = (real: string, name: string, info: { mode: number; mtime: Date; size: number }): void =>
    add(name, { source: real, mode: info.mode, mtime: info.mtime, size: info.size });

  for (const pattern of patterns) {
    if (pattern === '' || isAbsolute(pattern) || pattern.split(/[\\/]/).includes('..'))
      throw new UploadError(`upload '${pattern}' is outside the work dir: use a path relative to it`);
    const matches = /[*?[\]{}]/.test(pattern) ? await globbed(pattern, workspace) : [pattern];
    if (matches.length === 0) throw new UploadError(`upload '${pattern}' matched nothing in the work dir`);
    for (const match of matches.sort()) {
      const path = resolve(workspace, match);
      const name = relative(workspace, path).split(sep).join('/');
      let real: string;
      try {
        real = await realpath(path);
      } catch (error) {
        if (isNotFound(error)) throw new UploadError(`upload '${match}' not found in the work dir`);
        throw error;
      }
      if (!inside(root, real))
        throw new UploadError(`upload '${match}' leads outside the work dir through a symlink; refused`);
      const info = await stat(real);
      if (info.isDirectory()) await walk(real, name);
      else if (info.isFile()) addFile(real, name, info);
      else options.warn(`upload: skipped '${name}': not a regular file or directory`);
    }
  }
  return entries;
}

async function writeZip(entries: Map<string, Entry>, options: UploadOptions): Promise<UploadResult> {
  const zip = new ZipFile();
  const output = zip.outputStream as Readable;
  // Files are opened here, not by yazl's addFile: when the zip cannot be written (a full disk), yazl leaves
  // its read streams open, and an open descriptor to a deleted upload keeps the disk full until the runner exits.
  const opened = new Set<Readable>();
  // yazl reports a file that vanished or failed to read on the ZipFile, not on its stream.
  zip.on('error', (error: Error) => output.destroy(error));
  for (const [name, entry] of [...entries].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const source = entry.source;
    if (source === undefined) {
      zip.addEmptyDirectory(name, { mtime: entry.mtime, mode: entry.mode });
      continue;
    }
    zip.addReadStreamLazy(name, { mtime: entry.mtime, mode: entry.mode }, (give) => {
      const stream = createReadStream(source);
      opened.add(stream);
      stream.once('close', () => opened.delete(stream));
      stream.on('error', (error: Error) => output.destroy(error));
      give(null, stream);
    });
  }
  zip.end();
  try {
    await pipeline(output, createWriteStream(options.target, { flags: 'wx', mode: 0o600 }));
  } finally {
    for (const stream of opened) stream.destroy();
  }
  return { path: options.target, entries: entries.size, bytes: (await stat(options.target)).size };
}

async function globbed(pattern: string, cwd: string): Promise<string[]> {
  const found: string[] = [];
  for await (const match of glob(pattern, { cwd })) found.push(match);
  return found;
}

function isNoSpace(error: unknown): boolean {
  return error instanceof Error && 'code' in error && (error.code === 'ENOSPC' || error.code === 'EDQUOT');
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
