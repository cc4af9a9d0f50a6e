// The BATON_OUTPUT / BATON_ENV / BATON_PATH files (mirrored as GITHUB_*): their format, exactly
// GitHub's, and reading what each step appended.
//
// BATON_OUTPUT and BATON_ENV hold `name=value` lines and heredocs (`name<<DELIM`, value lines, `DELIM`);
// blank lines are ignored; the last value of a name wins. BATON_PATH holds one directory per line.

import { closeSync, fstatSync, lstatSync, openSync, readSync, statSync } from 'node:fs';
import { constants } from 'node:fs';
import { open, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';

export interface ParsedAssignments {
  values: Array<[string, string]>;
  /** The first problem, with its 1-based line number in the file. Lines after it are not read. */
  error?: { line: number; message: string };
}

/** Parses `text`, whose first line is line `firstLine` of its file. */
export function parseAssignments(text: string, firstLine = 1): ParsedAssignments {
  const lines = splitLines(text);
  const values: Array<[string, string]> = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const lineNo = firstLine + i;
    if (line === '') continue;
    const eq = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (eq >= 0 && (heredoc < 0 || eq < heredoc)) {
      const name = line.slice(0, eq);
      if (name === '')
        return { values, error: { line: lineNo, message: `'${line}' has no name before '='` } };
      values.push([name, line.slice(eq + 1)]);
      continue;
    }
    if (heredoc < 0) {
      return {
        values,
        error: {
          line: lineNo,
          message: `Invalid format '${line}': it is neither 'name=value' nor 'name<<DELIMITER'`,
        },
      };
    }
    const name = line.slice(0, heredoc);
    const delim = line.slice(heredoc + 2);
    if (name === '') return { values, error: { line: lineNo, message: `'${line}' has no name before '<<'` } };
    if (delim === '')
      return { values, error: { line: lineNo, message: `'${line}' has no delimiter after '<<'` } };
    const end = lines.indexOf(delim, i + 1);
    if (end < 0) {
      // GitHub's own words first ("Matching delimiter not found"), so a search for its error finds this one.
      return {
        values,
        error: {
          line: lineNo,
          message: `Matching delimiter not found '${delim}': the value of '${name}' is never closed: no line '${delim}' follows`,
        },
      };
    }
    values.push([name, lines.slice(i + 1, end).join('\n')]);
    i = end;
  }
  return { values };
}

/** BATON_PATH: one directory per line, surrounding blanks trimmed, empty lines ignored. */
export function parsePathLines(text: string): string[] {
  return splitLines(text)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop(); // the final newline ends the last line; it does not start one
  return lines;
}

/** Files larger than this are refused: they are meant for values, not logs. */
export const MAX_COMMAND_FILE_BYTES = 16 * 1024 * 1024;

/**
 * The whole of a command file one step wrote (each step starts with it empty: resetCommandFiles), or an error
 * past `limit` — the size is checked before anything is read. The path is the step's to change: a symlink (to a
 * file the step cannot see, but the runner can), a FIFO (that would block the runner) or a hard link is refused,
 * never followed.
 */
export async function readCommandFile(path: string, limit = MAX_COMMAND_FILE_BYTES): Promise<string> {
  if (isEmptyOwnFile(path)) return '';
  const handle = await openOwnFile(path, constants.O_RDONLY);
  try {
    const { size } = await handle.stat();
    if (size > limit) throw new Error(`${path} is ${size} bytes, over the limit of ${limit} bytes`);
    return size === 0 ? '' : await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** The size of a command file, with the same refusals as readCommandFile. */
export async function commandFileSize(path: string): Promise<number> {
  if (isEmptyOwnFile(path)) return 0;
  const handle = await openOwnFile(path, constants.O_RDONLY);
  try {
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}

/**
 * The common case in one synchronous lstat (microseconds, where each promise call is a thread-pool round trip):
 * the step left the file as Baton made it, empty.
 */
function isEmptyOwnFile(path: string): boolean {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  return stat !== undefined && stat.isFile() && stat.nlink === 1 && stat.size === 0;
}

async function openOwnFile(path: string, flags: number): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP')
      throw new Error(`${path} was replaced by a symbolic link; it is not read`, { cause: error });
    throw error;
  }
  const stat = await handle.stat();
  if (!stat.isFile() || stat.nlink !== 1) {
    await handle.close();
    throw new Error(`${path} was replaced by something other than a plain file; it is not read`);
  }
  return handle;
}

/**
 * Empties the files before a step, so that each step gets fresh ones, as GitHub gives each step its own: a step
 * that overwrites one with `>` replaces only its own values. Truncated in place where it is still Baton's plain
 * file (a sandboxed step sees each file through a bind mount of that very inode, sandbox.ts); a file an earlier
 * step replaced (a symlink, a hard link, a directory, a FIFO) is removed and made again — never truncated
 * through, which would empty whatever it points at.
 */
export async function resetCommandFiles(paths: readonly string[]): Promise<void> {
  await Promise.all(
    paths.map(async (path) => {
      if (isEmptyOwnFile(path)) return;
      try {
        const handle = await openOwnFile(path, constants.O_WRONLY);
        try {
          await handle.truncate(0);
        } finally {
          await handle.close();
        }
      } catch {
        await rm(path, { recursive: true, force: true });
        await writeFile(path, '', { mode: 0o600, flag: 'wx' });
      }
    }),
  );
}

export interface AppendedText {
  text: string;
  /** Line number, in the whole file, of the first line of `text`. */
  firstLine: number;
}

/**
 * Reads what was appended to a command file since the last call. A file a step truncated or
 * replaced (shorter than before) is read again from its start.
 */
export class AppendedReader {
  readonly path: string;
  #offset = 0;
  #lines = 0;

  constructor(path: string) {
    this.path = path;
  }

  /**
   * The same as next(), synchronously: the masker calls it before each piece of output, so a value written
   * to a file before it is printed is always known by the time the print arrives (program order).
   */
  nextSync(): AppendedText {
    // Usually nothing was appended: one stat answers that without opening the file (this runs before
    // every piece of a step's output).
    if (statSync(this.path).size === this.#offset) return { text: '', firstLine: this.#lines + 1 };
    const fd = openSync(this.path, 'r');
    try {
      const { size } = fstatSync(fd);
      if (size < this.#offset) {
        this.#offset = 0;
        this.#lines = 0;
      }
      if (size > MAX_COMMAND_FILE_BYTES) {
        throw new Error(`${this.path} is ${size} bytes, over the limit of ${MAX_COMMAND_FILE_BYTES} bytes`);
      }
      const length = size - this.#offset;
      if (length === 0) return { text: '', firstLine: this.#lines + 1 };
      const buffer = Buffer.alloc(length);
      const bytesRead = readSync(fd, buffer, 0, length, this.#offset);
      const complete = buffer.subarray(0, bytesRead);
      const firstLine = this.#lines + 1;
      this.#offset += bytesRead;
      this.#lines += countNewlines(complete);
      return { text: complete.toString('utf8'), firstLine };
    } finally {
      closeSync(fd);
    }
  }

  async next(): Promise<AppendedText> {
    if ((await stat(this.path)).size === this.#offset) return { text: '', firstLine: this.#lines + 1 };
    const handle = await open(this.path, 'r');
    try {
      const { size } = await handle.stat();
      if (size < this.#offset) {
        this.#offset = 0;
        this.#lines = 0;
      }
      if (size > MAX_COMMAND_FILE_BYTES) {
        throw new Error(`${this.path} is ${size} bytes, over the limit of ${MAX_COMMAND_FILE_BYTES} bytes`);
      }
      const length = size - this.#offset;
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, this.#offset);
      const complete = buffer.subarray(0, bytesRead);
      const text = complete.toString('utf8');
      const firstLine = this.#lines + 1;
      this.#offset += bytesRead;
      this.#lines += countNewlines(complete);
      return { text, firstLine };
    } finally {
      await handle.close();
    }
  }
}

function countNewlines(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) if (b === 0x0a) n++;
  return n;
}
