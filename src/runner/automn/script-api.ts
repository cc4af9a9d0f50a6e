// Reading what a script's Automn helpers appended (helpers.ts) into upstream's result fields, with upstream's
// limits: the first return wins; at most 50 notifications; messages cut at 2,000 characters, audiences at 256.

export const MAX_NOTIFICATIONS = 50;
export const MAX_MESSAGE_CHARS = 2000;
export const MAX_AUDIENCE_CHARS = 256;

export interface ScriptApi {
  returnData: unknown;
  /** The text of a shell AutomnReturn argument that is not JSON. */
  badReturn?: string;
  logs: Array<Record<string, unknown>>;
  notifications: Array<Record<string, unknown>>;
}

const LOG_LEVELS = ['info', 'warn', 'error', 'success', 'debug'];
const NOTIFY_LEVELS = ['info', 'warn', 'error'];

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
}

function logLevel(v: unknown): string {
  const level = text(v).toLowerCase();
  if (level === 'warning') return 'warn';
  return LOG_LEVELS.includes(level) ? level : 'info';
}

function context(v: unknown): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  return { value: v };
}

export interface ApiEntry {
  kind: 'return' | 'log' | 'notify';
  entry: Record<string, unknown>;
}

const MARKERS: Array<[string, ApiEntry['kind']]> = [
  ['__SCRIPTRETURN__', 'return'],
  ['__SCRIPTLOG__', 'log'],
  ['__SCRIPTNOTIFY__', 'notify'],
];

/**
 * Upstream's stdout markers, read only when the compatibility switch is on: a marker counts only at the start
 * of a line, and no marker counts after a `::stop-commands::` line (so a script can print untrusted data safely).
 */
export class StdoutMarkers {
  readonly entries: ApiEntry[] = [];
  #stopped = false;
  #returned = false;
  #notifications = 0;

  /** Whether `line` (without its newline) was a marker that upstream removes from `stdout`. */
  consume(line: string): boolean {
    if (this.#stopped) return false;
    if (line.startsWith('::stop-commands::')) {
      this.#stopped = true;
      return false;
    }
    const marker = MARKERS.find(([prefix]) => line.startsWith(prefix));
    if (marker === undefined) return false;
    const [prefix, kind] = marker;
    const payload = line.slice(prefix.length);
    if (kind === 'return') {
      if (this.#returned) return false;
      this.#returned = true;
      this.entries.push({ kind, entry: { json: payload } });
      return true;
    }
    const parsed = parse(payload);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return false;
    if (kind === 'notify' && this.#notifications++ >= MAX_NOTIFICATIONS) return false;
    this.entries.push({ kind, entry: parsed as Record<string, unknown> });
    return true;
  }
}

/** The helpers' entries: `automn_<kind>_<pid>_<n>` outputs, in the order they were written. */
export function helperEntries(outputs: Record<string, string>): ApiEntry[] {
  const entries: ApiEntry[] = [];
  for (const [name, value] of Object.entries(outputs)) {
    const kind = /^automn_(return|log|notify)_/.exec(name)?.[1] as ApiEntry['kind'] | undefined;
    const entry = parse(value);
    if (kind === undefined || entry === null || typeof entry !== 'object' || Array.isArray(entry)) continue;
    entries.push({ kind, entry: entry as Record<string, unknown> });
  }
  return entries;
}

/** The result fields for the helpers' outputs, then the stdout markers (when read). */
export function collectApi(outputs: Record<string, string>, markers: ApiEntry[] = []): ScriptApi {
  const api: ScriptApi = { returnData: null, logs: [], notifications: [] };
  let returned = false;
  const now = new Date().toISOString();
  for (const { kind, entry: e } of [...helperEntries(outputs), ...markers]) {
    if (kind === 'return') {
      if (returned) continue;
      returned = true;
      if ('json' in e) {
        const parsed = parse(text(e.json));
        if (parsed === undefined) api.badReturn = text(e.json);
        else api.returnData = parsed;
      } else api.returnData = e.value ?? null;
    } else if (kind === 'log') {
      let ctx: unknown = e.context;
      if (typeof e.contextJson === 'string')
        ctx = e.contextJson === '' ? null : (parse(e.contextJson) ?? e.contextJson);
      api.logs.push({
        message: text(e.message).slice(0, MAX_MESSAGE_CHARS),
        level: logLevel(e.level),
        type: (text(e.type ?? e.category) || 'general').toLowerCase(),
        context: context(ctx),
        order: api.logs.length,
        timestamp: now,
      });
    } else if (api.notifications.length < MAX_NOTIFICATIONS) {
      const audience = text(e.audience ?? e.target ?? e.user ?? e.scope).trim();
      const level = text(e.level ?? e.type).toLowerCase();
      api.notifications.push({
        order: api.notifications.length,
        audience: audience === '' ? null : audience.slice(0, MAX_AUDIENCE_CHARS),
        message: text(e.message ?? e.text).slice(0, MAX_MESSAGE_CHARS),
        level: level === 'warning' ? 'warn' : NOTIFY_LEVELS.includes(level) ? level : 'info',
        raw: e,
        timestamp: now,
      });
    }
  }
  return api;
}
