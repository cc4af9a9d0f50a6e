// GitHub's log markers in a task's log, as the CLI shows them: `##[group]Title` … `##[endgroup]` (workflow
// commands ::group::/::endgroup::, engine/workflow-commands.ts) become a `▸ Title` line with the group's lines
// indented under it; `##[error]`, `##[warning]`, `##[notice]` and `##[debug]` become `Error: …` and so on, as
// GitHub's log viewer labels them. A terminal cannot fold what it already printed: the web UI folds.
import type { RunResult } from '../protocol/api.ts';
import { paint, type Colour, type Out } from './output.ts';

const LABELS: Record<string, { label: string; colour: Colour }> = {
  error: { label: 'Error', colour: 'red' },
  warning: { label: 'Warning', colour: 'yellow' },
  notice: { label: 'Notice', colour: 'blue' },
  debug: { label: 'Debug', colour: 'gray' },
};

/** One log line (without its newline) as the CLI prints it; `groups` is per task, open groups' depth. */
export function renderLogLine(out: Out, line: string, groups: { depth: number }): string {
  const marker = /^##\[(group|endgroup|error|warning|notice|debug)\](.*)$/.exec(line);
  const indent = '  '.repeat(groups.depth);
  if (marker === null) return indent + line;
  const [, kind = '', text = ''] = marker;
  if (kind === 'group') {
    groups.depth = Math.min(groups.depth + 1, 8); // nested groups: GitHub shows one level; deeper ones indent on
    return indent + paint(out, 'bold', `▸ ${text}`);
  }
  if (kind === 'endgroup') {
    groups.depth = Math.max(0, groups.depth - 1);
    return '';
  }
  const { label, colour } = LABELS[kind] ?? { label: kind, colour: 'gray' };
  return indent + paint(out, colour, `${label}: ${text}`);
}

/** The lines that `##[endgroup]` leaves empty are not printed at all. */
export function isSilentMarker(line: string): boolean {
  return line === '##[endgroup]';
}

/** Annotations and step summaries of the run's tasks, after the summary table. */
export function printAnnotations(result: RunResult, out: Out): void {
  const tasks = Object.values(result.results);
  const annotations = tasks.flatMap((t) => (t.annotations ?? []).map((a) => ({ task: t.name, ...a })));
  if (annotations.length > 0) {
    out.write('annotations:\n');
    for (const a of annotations) {
      const { label, colour } = LABELS[a.level] ?? { label: a.level, colour: 'gray' as const };
      const where =
        a.file === undefined
          ? ''
          : ` ${a.file}${a.line === undefined ? '' : `:${a.line}`}${a.col === undefined ? '' : `:${a.col}`}`;
      const title = a.title === undefined ? '' : `${a.title}: `;
      out.write(`  ${paint(out, colour, label)} ${a.task} (${a.step})${where}: ${title}${a.message}\n`);
    }
  }
  for (const t of tasks) {
    for (const s of t.summaries ?? []) {
      const lines = s.markdown.replace(/\n$/, '').split('\n');
      out.write(`summary of ${t.name} (${s.step}):\n`);
      for (const line of lines.slice(0, SUMMARY_LINES)) out.write(`  ${line}\n`);
      if (lines.length > SUMMARY_LINES)
        out.write(`  … ${lines.length - SUMMARY_LINES} more lines (the run page and --json show all)\n`);
    }
  }
}

/** Lines of each step summary printed in the terminal: enough for a table of results. */
const SUMMARY_LINES = 40;
