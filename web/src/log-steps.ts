// A task's log split into its steps, as GitHub shows a job: each step a header (status, name, duration) over the
// lines it wrote (the byte range its runner reported, mapped to lines), the running and failing ones open and
// the others folded once done. While the task runs, the steps are the ones its runner reported so far. Lines outside every step (set-up messages) stay where they are.

export interface StepRange {
  name: string;
  /** `running` while the step runs (the task's steps so far). */
  status: string;
  startedAt?: string;
  durationMs?: number;
  logStart?: number;
  logEnd?: number;
}

/** A row of the log view: a line index, or the header of step `step` (index in the steps list). */
export type Row = number | { step: number };

/** Steps Baton adds to a job itself (its outputs), shown as ordinary lines rather than a step. */
const HIDDEN = new Set(['__outputs']);

/** The first line starting at or after byte `offset` (lineStarts ascending). */
export function lineAt(lineStarts: readonly number[], count: number, offset: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lineStarts[mid]! < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Open unless the reader chose otherwise: a step that did not succeed is open, as GitHub opens the failing one,
 * and so is the only step of a task (folding it would hide the whole log).
 */
export function stepOpen(
  step: StepRange,
  index: number,
  chosen: ReadonlyMap<number, boolean>,
  steps: readonly StepRange[],
): boolean {
  const only = steps.filter((s) => !HIDDEN.has(s.name)).length === 1;
  return chosen.get(index) ?? (only || (step.status !== 'succeeded' && step.status !== 'skipped'));
}

/**
 * The rows to show: `shows(line)` says whether a line is visible otherwise (group folding); lines of a closed
 * step are hidden under its header.
 */
export function stepRows(
  steps: readonly StepRange[],
  lineStarts: readonly number[],
  count: number,
  chosen: ReadonlyMap<number, boolean>,
  shows: (line: number) => boolean,
): { rows: Row[]; stepOf: Map<number, number> } {
  const rows: Row[] = [];
  const stepOf = new Map<number, number>();
  let pos = 0;
  const lines = (from: number, to: number, visible: boolean, step?: number) => {
    for (let i = from; i < to; i++) {
      if (step !== undefined) stepOf.set(i, step);
      if (visible && shows(i)) rows.push(i);
    }
  };
  steps.forEach((step, k) => {
    if (HIDDEN.has(step.name)) return;
    if (step.logStart === undefined) {
      rows.push({ step: k });
      return;
    }
    const first = Math.max(pos, lineAt(lineStarts, count, step.logStart));
    const end = Math.max(first, lineAt(lineStarts, count, step.logEnd ?? Number.MAX_SAFE_INTEGER));
    lines(pos, first, true);
    rows.push({ step: k });
    lines(first, end, stepOpen(step, k, chosen, steps), k);
    pos = end;
  });
  lines(pos, count, true);
  return { rows, stepOf };
}
