// hashFiles(patterns) for expressions, as actions/runner computes it (its hashFiles script over
// @actions/glob): the files matching the patterns are visited depth-first from the workspace, the
// sha256 of each is fed in that order into one sha256, and the result is '' when nothing matches.
// Synchronous because expressions are: it runs between steps, when no step output is waiting to be read.

import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inside } from './work-dir.ts';

const READ_CHUNK_BYTES = 64 * 1024;
const FOLLOW_OPTION = '--follow-symbolic-links';

export class HashFilesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HashFilesError';
  }
}

interface Pattern {
  negate: boolean;
  /** Matches directories only (the pattern ended with '/'). */
  directoryOnly: boolean;
  segments: RegExp[];
  /** Index of each `**` segment; it matches any number of path segments. */
  globstar: boolean[];
}

/**
 * Patterns are globs relative to the workspace, as GitHub reads them: each argument may hold several
 * lines; blank lines and lines starting with `#` are skipped; a leading `!` excludes; later patterns
 * override earlier ones (`['**', '!a/**', 'a/keep']` keeps a/keep); a pattern matching a directory
 * matches every file below it; `*`, `?`, `[...]` and `**` match names starting with a dot too; no
 * braces or extglobs. A first argument `--follow-symbolic-links` makes the walk enter symlinked
 * directories. Directories are walked depth-first with their entries in name order.
 *
 * Unlike GitHub, the hash never reads outside the work dir: a pattern that is absolute or climbs out
 * with `..` matches nothing, and a file or directory whose real path is outside is ignored.
 */
export function hashFiles(workspace: string, patterns: readonly string[]): string {
  let follow = false;
  const args = [...patterns];
  if (args[0]?.startsWith('--') === true) {
    if (args[0].toLowerCase() !== FOLLOW_OPTION)
      throw new HashFilesError(
        `hashFiles: invalid glob option '${args[0]}'; the option is '${FOLLOW_OPTION}'`,
      );
    follow = true;
    args.shift();
  }
  const compiled = compilePatterns(args);
  const root = realpathSync(workspace);
  const combined = createHash('sha256');
  let count = 0;
  // Depth-first, entries in name order: a stack of workspace-relative paths, next one on top.
  const stack: Array<{ name: string; real: string }> = childrenOf(root, '', root).reverse();
  const visited = new Set<string>([root]);
  while (stack.length > 0) {
    const item = stack.pop()!;
    const segments = item.name.split('/');
    const kind = matchKind(compiled, segments);
    const partial = compiled.some((p) => !p.negate && partialMatch(p, segments));
    if (kind === 0 && !partial) continue;
    const stats = safeLstat(item.name === '' ? root : join(root, item.name));
    if (stats === undefined) continue;
    let isDirectory = stats.isDirectory();
    let isFile = stats.isFile();
    let real = item.real;
    if (stats.isSymbolicLink()) {
      const resolved = realOrUndefined(join(root, item.name));
      if (resolved === undefined || !inside(root, resolved)) continue; // dangling, or leads outside
      real = resolved;
      const target = statSync(resolved);
      isFile = target.isFile();
      if (target.isDirectory()) {
        if (!follow || visited.has(resolved)) continue; // GitHub skips it as a directory; a cycle ends here
        isDirectory = true;
      }
    }
    if (isDirectory) {
      visited.add(real);
      stack.push(...childrenOf(join(root, item.name), item.name, real).reverse());
    } else if ((kind & FILE) !== 0 && isFile) {
      combined.update(hashFile(join(root, item.name), item.name));
      count++;
    }
  }
  return count === 0 ? '' : combined.digest('hex');
}

const FILE = 1;
const DIRECTORY = 2;

function childrenOf(path: string, name: string, real: string): Array<{ name: string; real: string }> {
  let entries: string[];
  try {
    entries = readdirSync(path);
  } catch {
    return [];
  }
  return entries
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((entry) => ({ name: name === '' ? entry : `${name}/${entry}`, real: join(real, entry) }));
}

function compilePatterns(args: readonly string[]): Pattern[] {
  const compiled: Pattern[] = [];
  for (const line of args.flatMap((arg) => arg.split(/\r?\n|\r/))) {
    let text = line.trim();
    if (text === '' || text.startsWith('#')) continue;
    let negate = false;
    while (text.startsWith('!')) {
      negate = !negate;
      text = text.slice(1).trim();
    }
    if (text.startsWith('/') || /^[A-Za-z]:/.test(text) || text.startsWith('~')) continue; // never outside
    const directoryOnly = text.endsWith('/');
    const parts = text.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.length === 0 || parts.includes('..')) continue;
    compiled.push(pattern(negate, directoryOnly, parts));
    // Implicit descendants, as @actions/glob adds them: a match of `dir` covers everything below it.
    if (directoryOnly || parts[parts.length - 1] !== '**')
      compiled.push(pattern(negate, false, [...parts, '**']));
  }
  return compiled;
}

function pattern(negate: boolean, directoryOnly: boolean, parts: string[]): Pattern {
  return {
    negate,
    directoryOnly,
    segments: parts.map(segmentRegExp),
    globstar: parts.map((part) => part === '**'),
  };
}

/** One path segment's glob as a RegExp: `*`, `?`, `[...]` (with `!` or `^` negation), literals. */
function segmentRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else if (ch === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else if (ch === '\\' && i + 1 < glob.length) {
      source += escape(glob[++i]!);
    } else source += escape(ch);
  }
  return new RegExp(`^${source}$`, 's');
}

function escape(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch;
}

/** Whether the pattern's segments match the path's segments exactly (dynamic programming: no backtracking). */
function matches(p: Pattern, path: readonly string[]): boolean {
  // reachable[j]: the pattern's first i segments can match the path's first j segments.
  let reachable = path.map(() => false).concat(false);
  reachable[0] = true;
  for (let i = 0; i < p.segments.length; i++) {
    const next = reachable.map(() => false);
    for (let j = 0; j <= path.length; j++) {
      if (p.globstar[i]) next[j] = reachable[j]! || (j > 0 && next[j - 1]!);
      else next[j] = j > 0 && reachable[j - 1]! && p.segments[i]!.test(path[j - 1]!);
    }
    reachable = next;
  }
  return reachable[path.length]!;
}

/** Whether something below the directory `path` might match the pattern. */
function partialMatch(p: Pattern, path: readonly string[]): boolean {
  for (let i = 0; i < path.length; i++) {
    if (i >= p.segments.length) return false;
    if (p.globstar[i]) return true;
    if (!p.segments[i]!.test(path[i]!)) return false;
  }
  return true;
}

/** FILE | DIRECTORY bits for the path, the patterns applied in order (a `!` one clears bits). */
function matchKind(patterns: readonly Pattern[], path: readonly string[]): number {
  let kind = 0;
  for (const p of patterns) {
    const bits = matches(p, path) ? (p.directoryOnly ? DIRECTORY : FILE | DIRECTORY) : 0;
    kind = p.negate ? kind & ~bits : kind | bits;
  }
  return kind;
}

function safeLstat(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
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
