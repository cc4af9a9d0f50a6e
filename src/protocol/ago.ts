// "How long ago" as the CLI and the web UI both write it, so a run reads the same in both.

/** `ms` milliseconds ago in its largest whole unit: "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function agoText(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (!Number.isFinite(s)) return '—';
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}
