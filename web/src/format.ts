// Times and sizes as people read them.
import { agoText } from '../../src/protocol/ago.ts';

export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

/** How long ago, in the largest whole unit ("just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago"). */
export function formatAgo(iso: string | null, now = Date.now()): string {
  if (!iso) return '—';
  return agoText(now - Date.parse(iso));
}

export function formatDuration(startIso: string | null, endIso: string | null, now = Date.now()): string {
  if (!startIso) return '—';
  const ms = (endIso ? Date.parse(endIso) : now) - Date.parse(startIso);
  if (ms < 1000) return `${Math.max(0, ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export { isTerminal, RUN_STATUSES } from '../../src/protocol/status.ts';

/** A span in milliseconds as `formatDuration` writes it (a cached result's age). */
export function formatSpan(ms: number): string {
  const start = new Date(0).toISOString();
  return formatDuration(start, new Date(Math.max(0, ms)).toISOString());
}
