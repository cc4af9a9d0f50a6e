// GitHub's log markers in a task log (the runner writes them for ::group::, ::error:: and the like:
// engine/workflow-commands.ts): which lines a folded view shows, and how a marker line reads.

export type MarkerKind = 'group' | 'endgroup' | 'error' | 'warning' | 'notice' | 'debug';

const MARKER = /^##\[(group|endgroup|error|warning|notice|debug)\](.*)$/;

/** The marker a line starts with, and the rest of the line; undefined for an ordinary line. */
export function markerOf(line: string): { kind: MarkerKind; text: string } | undefined {
  const m = MARKER.exec(line);
  return m ? { kind: m[1] as MarkerKind, text: m[2] ?? '' } : undefined;
}

export const MARKER_LABELS: Record<Exclude<MarkerKind, 'group' | 'endgroup'>, string> = {
  error: 'Error',
  warning: 'Warning',
  notice: 'Notice',
  debug: 'Debug',
};

export interface FoldedLines {
  /** Indices of the lines shown, in order. */
  visible: number[];
  /** Group header line → whether the group is folded now. */
  folded: Map<number, boolean>;
  /** Line → the header of the group it is in (innermost), for lines inside a group. */
  groupOf: Map<number, number>;
}

/**
 * Lines to show when groups are folded. A group that has ended is folded unless `expanded` holds its header (as
 * GitHub folds them); one still open (a live step) is shown whole. `##[endgroup]` lines are never shown. Groups
 * do not nest on GitHub: a `##[group]` inside one ends the first.
 */
export function foldLines(
  lines: readonly string[],
  count: number,
  expanded: ReadonlySet<number>,
): FoldedLines {
  const visible: number[] = [];
  const folded = new Map<number, boolean>();
  const groupOf = new Map<number, number>();
  const ends = new Map<number, number>();
  let open: number | undefined;
  for (let i = 0; i < count; i++) {
    const kind = lines[i]!.startsWith('##[') ? markerOf(lines[i]!)?.kind : undefined;
    if (kind === 'group') {
      if (open !== undefined) ends.set(open, i);
      open = i;
    } else if (kind === 'endgroup' && open !== undefined) {
      ends.set(open, i);
      open = undefined;
    }
  }
  let hiding = false;
  let current: number | undefined;
  for (let i = 0; i < count; i++) {
    const line = lines[i]!;
    const kind = line.startsWith('##[') ? markerOf(line)?.kind : undefined;
    if (kind === 'group') {
      current = i;
      const isFolded = ends.has(i) && !expanded.has(i);
      folded.set(i, isFolded);
      hiding = isFolded;
      visible.push(i);
      continue;
    }
    if (kind === 'endgroup') {
      if (current !== undefined && ends.get(current) === i) {
        current = undefined;
        hiding = false;
      }
      continue;
    }
    if (current !== undefined) groupOf.set(i, current);
    if (!hiding) visible.push(i);
  }
  return { visible, folded, groupOf };
}
