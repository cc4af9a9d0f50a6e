// Terminal output helpers: colour only on a TTY without NO_COLOR, durations, status symbols.
import { agoText } from '../protocol/ago.ts';
import type { RunStatus } from '../protocol/status.ts';

export interface Out {
  write(s: string): void;
  err(s: string): void;
  color: boolean;
  /** stdout is a terminal that can redraw a line (a live timer); false when piped, so output stays plain lines. */
  live?: boolean;
}

export function createOut(
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
): Out {
  const color = stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  // Braces, not `=> stdout.write(s)`: commands `return out.write(…)`, and stream.write's `true` would become
  // the exit code (process.exitCode refuses a boolean and the command crashed after printing "no runs").
  return {
    write: (s) => {
      stdout.write(s);
    },
    err: (s) => {
      stderr.write(s);
    },
    color,
    live: stdout.isTTY === true && process.env.TERM !== 'dumb',
  };
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export function paint(out: Out, colour: Colour, s: string): string {
  return out.color ? `\u001b[${CODES[colour]}m${s}\u001b[0m` : s;
}

export function statusSymbol(status: RunStatus | string): string {
  switch (status) {
    case 'succeeded':
      return '✓';
    case 'failed':
    case 'timed_out':
    case 'runner_lost':
      return '✗';
    case 'cancelled':
      return '⊘';
    case 'skipped':
      return '-';
    case 'running':
      return '▶';
    default:
      return '·';
  }
}

export function statusColour(status: string): Colour {
  if (status === 'succeeded') return 'green';
  if (status === 'failed' || status === 'timed_out' || status === 'runner_lost') return 'red';
  if (status === 'running') return 'cyan';
  if (status === 'cancelled' || status === 'skipped') return 'yellow';
  return 'gray';
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m${s.toString().padStart(2, '0')}s`;
}

export function durationBetween(start: string | null, end: string | null): string {
  if (!start) return '';
  const ms = (end ? Date.parse(end) : Date.now()) - Date.parse(start);
  return formatDuration(ms);
}

export function printJson(out: Out, value: unknown): void {
  out.write(JSON.stringify(value, null, 2) + '\n');
}

/** How long ago `at` (ms since the epoch) was, in its largest whole unit (protocol/ago.ts). */
export function formatAgo(at: number, now = Date.now()): string {
  return agoText(now - at);
}
