// Logs of the long-running processes (server, runner, pool slots): pino, one JSON object a line on stderr, or
// with `pretty` the same records as a line for people (`time LEVEL [name] message key=value…`). The pretty
// form is a small pino destination of our own rather than pino-pretty: one less dependency, and the records it
// prints are the JSON ones, unchanged. (Here, not in cli/, so a pool slot process uses it too.)
import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** Fields a pretty line shows in its own place, not as key=value. */
const PLACED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/** One JSON log record as a line for people. A line that is not JSON passes through unchanged. */
export function prettyLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString() : '';
  const level = LEVEL_NAMES[Number(rec.level)] ?? String(rec.level);
  const name = typeof rec.name === 'string' ? ` [${rec.name}]` : '';
  const extra = Object.entries(rec)
    .filter(([k]) => !PLACED.has(k))
    .map(([k, v]) => {
      if (k === 'err' && v && typeof v === 'object' && 'message' in v)
        return `err=${JSON.stringify(v.message)}`;
      return `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`;
    })
    .join(' ');
  return `${time} ${level}${name} ${String(rec.msg ?? '')}${extra ? ` ${extra}` : ''}\n`;
}

/** Where log lines go: stderr as they are (json), or reformatted for people (pretty). */
export function logDestination(format: LogFormat): { write(line: string): void } {
  if (format === 'json') return { write: (line) => void process.stderr.write(line) };
  return { write: (line) => void process.stderr.write(prettyLine(line.trimEnd())) };
}

/** A pino logger for a long-running command (`name`: the runner's name, shown on every line). */
export function createLogger(o: { level: string; format: LogFormat; name?: string }): Logger {
  return pino(
    {
      level: o.level,
      ...(o.name === undefined ? {} : { name: o.name }),
      redact: { paths: ['token', 'headers.authorization', 'authorization'], censor: '[redacted]' },
    },
    logDestination(o.format),
  );
}
