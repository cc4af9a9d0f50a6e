// hashFiles(patterns) for expressions, with GitHub Actions' result: the sha256 of each matching file,
// fed in order into one sha256; '' when nothing matches. Synchronous because expressions are: it runs
// between steps, when no step output is waiting to be read.

import { createHash } from 'node:crypto';
import { closeSync, globSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, matchesGlob, resolve, sep } from 'node:path';
import { inside } from './work-dir.ts';

const READ_CHUNK_BYTES = 64 * 1024;

export class HashFilesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HashFilesError';
  }
}

/**
 * Patterns are globs relative to the workspace; `!pattern` excludes. Files are taken in sorted order of
 * their workspace-relative names. A pattern that is absolute or climbs out with `..` matches nothing, and
 * a match whose real path is outside the workspace (through a symlink) is ignored: the hash never reads
 * outside the work dir. As with Node's glob, `*` and `**` do not match names starting with a dot.
 */
export function hashFiles(workspace: string, patterns: readonly string[]): string {
  const root = realpathSync(workspace);
  const excludes = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  const names = new Set<string>();
  for (const pattern of patterns) {
    if (pattern.startsWith('!') || !staysInside(pattern)) continue;
    for (const match of globSync(pattern, { cwd: workspace })) {
      const name = match.split(sep).join('/');
      if (excludes.some((e) => matchesGlob(name, e))) continue;
      const real = realOrUndefined(resolve(workspace, match));
      if (real === undefined || !inside(root, real) || !statSync(real).isFile()) continue;
      names.add(name);
    }
  }
  if (names.size === 0) return '';
  const combined = createHash('sha256');
  for (const name of [...names].sort()) combined.update(hashFile(resolve(workspace, name), name));
  return combined.digest('hex');
}

function staysInside(pattern: string): boolean {
  return pattern !== '' && !isAbsolute(pattern) && !pattern.split(/[\\/]/).includes('..');
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined; // a dangling symlink: nothing to hash
  }
}

function hashFile(path: string, name: string): Buffer {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(READ_CHUNK_BYTES);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
  } catch (error) {
    throw new HashFilesError(
      `hashFiles could not read '${name}': ${error instanceof Error ? error.message : String(error)}`,
    );
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return hash.digest();
}
