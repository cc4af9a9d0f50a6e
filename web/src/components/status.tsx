// A status as a coloured badge that also says it in words (colour is never the only signal).
export function StatusBadge({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status.replace('_', ' ')}</span>;
}
