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

/** `outputs` as the engine returns them: `automn_<kind>_<pid>_<n>` names in the order they were written. */
export function collectApi(outputs: Record<string, string>): ScriptApi {
  const api: ScriptApi = { returnData: null, logs: [], notifications: [] };
  let returned = false;
  const now = new Date().toISOString();
  for (const [name, value] of Object.entries(outputs)) {
    const kind = /^automn_(return|log|notify)_/.exec(name)?.[1];
    const entry = parse(value);
    if (kind === undefined || entry === null || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
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
        raw: { audience: e.audience, message: e.message, level: e.level },
        timestamp: now,
      });
    }
  }
  return api;
}
