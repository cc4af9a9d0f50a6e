// The Harness dialect's OUTPUT_FILE: a task writes `name=value` lines (or heredocs, as in BATON_OUTPUT) to
// $OUTPUT_FILE and to any file it creates beside it named `${OUTPUT_FILE}_<suffix>` (the Harness sample
// writes `${OUTPUT_FILE}_foo`). The directory is the task's own (work-dir.ts `outputs/`, in Baton's private
// dir of the task), so no other task can read or plant a file there.
//
// Contract: readHarnessOutputs() reads every such file whole, `output` first, then the suffixed ones in name
// order. Files are opened without following links and must be regular files (a task that plants a link to
// a runner file gets an error, never that file's content). One name in two files with different values is
// an error naming both files; within one file the last value wins, as in BATON_OUTPUT. Limits: the same
// 16 MiB a BATON_OUTPUT file may hold, for all the files together, and MAX_HARNESS_OUTPUT_FILES files.

import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MAX_COMMAND_FILE_BYTES, parseAssignments } from './command-files.ts';
import { errorText } from './work-dir.ts';

/** Files named `output` or `output_<suffix>` one task may leave: each is opened and parsed after each step. */
export const MAX_HARNESS_OUTPUT_FILES = 1000;

export interface HarnessOutputs {
  /** Name → value, with the file each came from. */
  values: Map<string, { value: string; file: string }>;
  /** A sentence naming the file, the line or the limit; the values read before it are kept. */
  problem?: string;
}

export function readHarnessOutputs(outputFile: string): HarnessOutputs {
  const values = new Map<string, { value: string; file: string }>();
  const dir = dirname(outputFile);
  const base = basename(outputFile);
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name === base || name.startsWith(`${base}_`));
  } catch (error) {
    return { values, problem: `the task left its OUTPUT_FILE directory unreadable: ${errorText(error)}` };
  }
  if (names.length > MAX_HARNESS_OUTPUT_FILES)
    return {
      values,
      problem: `the task created ${names.length} OUTPUT_FILE files (${base} and ${base}_<suffix>); the limit is ${MAX_HARNESS_OUTPUT_FILES}`,
    };
  names.sort((a, b) => (a === base ? -1 : b === base ? 1 : a < b ? -1 : a > b ? 1 : 0));
  let total = 0;
  for (const name of names) {
    const shown = name === base ? '$OUTPUT_FILE' : `\${OUTPUT_FILE}${name.slice(base.length)}`;
    let text: string;
    try {
      text = readRegularFile(join(dir, name), MAX_COMMAND_FILE_BYTES - total, shown);
    } catch (error) {
      return { values, problem: errorText(error) };
    }
    total += Buffer.byteLength(text, 'utf8');
    const parsed = parseAssignments(text);
    const own = new Map(parsed.values);
    for (const [key, value] of own) {
      const earlier = values.get(key);
      if (earlier !== undefined && earlier.value !== value)
        return {
          values,
          problem: `output '${key}' was written with different values to ${earlier.file} and ${shown}; write each output once`,
        };
      values.set(key, { value, file: shown });
    }
    if (parsed.error !== undefined)
      return {
        values,
        problem: `the task wrote an invalid ${shown} file, line ${parsed.error.line}: ${parsed.error.message}`,
      };
  }
  return { values };
}

/** The file's text; throws a sentence when it is not a regular file or holds more than `room` bytes. */
function readRegularFile(path: string, room: number, shown: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP')
      throw new Error(`${shown} is a symbolic link; OUTPUT_FILE files must be regular files`);
    throw new Error(`${shown} cannot be read: ${errorText(error)}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new Error(`${shown} is not a regular file; OUTPUT_FILE files must be regular files`);
    if (stat.size > room)
      throw new Error(
        `${shown} is ${stat.size} bytes; the OUTPUT_FILE files together may hold ${MAX_COMMAND_FILE_BYTES} bytes (16 MiB), as a BATON_OUTPUT file may`,
      );
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
