// A task log held as lines for a virtualised view: appended chunk by chunk, each line with its arrival time and
// (only where it is not plain) the ANSI style left open by the lines before it. 16 MiB is ~200k lines: arrays
// of strings and numbers, no per-line objects.
import { endStyle, isPlain, stripAnsi, type AnsiStyle } from './ansi.ts';

export class LogBuffer {
  /** The last line is the one still being written (no newline yet); it may be empty. */
  readonly lines: string[] = [''];
  readonly arrivedAt: number[] = [0];
  /** Byte offset in the log where line i starts (a step's log range maps to lines through it). */
  readonly lineStarts: number[] = [0];
  /** Style open at the start of line i, for lines where it is not plain. */
  readonly #startStyles = new Map<number, AnsiStyle>();
  bytes = 0;
  /** A `##[group]` marker arrived (log-groups.ts): the view folds only then. */
  hasGroups = false;

  append(text: string, now = Date.now()): void {
    if (!this.hasGroups && text.includes('##[group]')) this.hasGroups = true;
    const parts = text.split('\n');
    const lastIndex = this.lines.length - 1;
    if (this.lines[lastIndex] === '') this.arrivedAt[lastIndex] = now;
    this.lines[lastIndex] += parts[0]!;
    let at = this.bytes + byteLength(parts[0]!);
    for (let i = 1; i < parts.length; i++) {
      at += 1; // the newline
      this.#finish(this.lines.length - 1);
      this.lines.push(parts[i]!);
      this.arrivedAt.push(now);
      this.lineStarts.push(at);
      at += byteLength(parts[i]!);
    }
    this.bytes = at;
  }

  #finish(i: number): void {
    // A carriage return redraws the line in a terminal (progress bars): keep what was drawn last.
    let line = this.lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const cr = line.lastIndexOf('\r');
    if (cr >= 0) line = line.slice(cr + 1);
    this.lines[i] = line;
    const end = endStyle(line, this.startStyle(i));
    if (!isPlain(end)) this.#startStyles.set(i + 1, end);
  }

  startStyle(i: number): AnsiStyle {
    return this.#startStyles.get(i) ?? {};
  }

  /** Lines shown: a trailing empty line (the log ended with a newline) is not one. */
  get count(): number {
    const n = this.lines.length;
    return this.lines[n - 1] === '' ? n - 1 : n;
  }

  /** Indices of the lines containing `query` (case-insensitive, escape sequences ignored). */
  search(query: string): number[] {
    if (!query) return [];
    const q = query.toLowerCase();
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) if (stripAnsi(this.lines[i]!).toLowerCase().includes(q)) out.push(i);
    return out;
  }
}

const encoder = new TextEncoder();

/** UTF-8 length without allocating for the common all-ASCII line. */
function byteLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(text) ? text.length : encoder.encode(text).length;
}
