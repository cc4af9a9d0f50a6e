// Live progress of a run: each task's transitions and its log lines prefixed by the task name, then a summary.
import type { BatonClient, RunStreamMessage } from '../client/index.ts';
import { formatAge } from '../engine/task-cache.ts';
import type { RunResult } from '../protocol/api.ts';
import { isTerminal } from '../protocol/status.ts';
import { isSilentMarker, printAnnotations, renderLogLine } from './log-markers.ts';
import { durationBetween, paint, statusColour, statusSymbol, type Out } from './output.ts';

export async function followRun(
  client: BatonClient,
  runId: string,
  out: Out,
  o: { signal?: AbortSignal } = {},
): Promise<RunResult> {
  const partial = new Map<string, string>();
  const groups = new Map<string, { depth: number }>();
  const show = (task: string, line: string): void => {
    if (isSilentMarker(line)) return void renderLogLine(out, line, groupsOf(task));
    out.write(prefix(task) + renderLogLine(out, line, groupsOf(task)) + '\n');
  };
  const groupsOf = (task: string): { depth: number } => {
    let g = groups.get(task);
    if (g === undefined) groups.set(task, (g = { depth: 0 }));
    return g;
  };
  const lastStatus = new Map<string, string>();
  let width = 8;
  const prefix = (task: string) => paint(out, 'gray', `${task.padEnd(width)} | `);
  const flushPartial = (task: string) => {
    const rest = partial.get(task);
    if (rest) show(task, rest);
    partial.delete(task);
  };
  const onMessage = (m: RunStreamMessage) => {
    if (m.kind === 'log') {
      const text = (partial.get(m.task) ?? '') + m.data;
      const lines = text.split('\n');
      partial.set(m.task, lines.pop() ?? '');
      for (const line of lines) show(m.task, line.replace(/\r$/, ''));
      return;
    }
    const e = m.event;
    if (e.type !== 'task' || !e.task) return;
    width = Math.max(width, Math.min(e.task.length, 24));
    if (lastStatus.get(e.task) === e.status && !e.message) return;
    lastStatus.set(e.task, e.status);
    if (e.status === 'queued' && e.message) {
      // A retry (or an offer that went unconfirmed): say why the task is queued again.
      out.write(paint(out, 'yellow', `↻ ${e.task} ${e.message}`) + '\n');
      return;
    }
    if (e.status === 'pending' || e.status === 'queued') return;
    if (isTerminal(e.status)) flushPartial(e.task);
    const where = e.status === 'running' && e.runner ? ` on ${e.runner}` : '';
    const why = e.message && e.status !== 'succeeded' ? `: ${e.message}` : '';
    out.write(
      paint(out, statusColour(e.status), `${statusSymbol(e.status)} ${e.task} ${e.status}${where}${why}`) +
        '\n',
    );
  };
  for await (const m of client.runStream(runId, { signal: o.signal })) onMessage(m);
  for (const task of [...partial.keys()]) flushPartial(task);
  return client.getRun(runId);
}

export function printSummary(result: RunResult, out: Out): void {
  const tasks = Object.values(result.results);
  const w = Math.max(4, ...tasks.map((t) => t.name.length));
  out.write(
    '\n' +
      paint(out, 'bold', `run ${result.id} (${result.name}) ${result.status}`) +
      ` in ${durationBetween(result.startedAt ?? result.createdAt, result.finishedAt)}\n`,
  );
  for (const t of tasks) {
    const line = `  ${statusSymbol(t.status)} ${t.name.padEnd(w)}  ${t.status.padEnd(11)} ${durationBetween(t.startedAt, t.finishedAt).padStart(7)}`;
    const extra =
      t.status !== 'succeeded' && t.message
        ? `  ${t.message}`
        : t.cached
          ? `  cached (key ${t.cacheKey ?? '?'}, age ${formatAge(t.cacheAgeMs ?? 0)})`
          : '';
    out.write(paint(out, statusColour(t.status), line) + extra + '\n');
  }
  const outputs = Object.entries(result.outputs);
  if (outputs.length > 0) {
    out.write('outputs:\n');
    for (const [k, v] of outputs) out.write(`  ${k}=${v}\n`);
  }
  printAnnotations(result, out);
}

/** Exit code for a finished run: 0 when it succeeded, 1 otherwise. */
export function exitCodeFor(result: RunResult): number {
  return result.status === 'succeeded' ? 0 : 1;
}
