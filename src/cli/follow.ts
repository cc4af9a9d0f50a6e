// Live progress of a run: each task's transitions and its log lines prefixed by the task name, then a summary.
import type { BatonClient, RunStreamMessage } from '../client/index.ts';
import { formatAge } from '../engine/task-cache.ts';
import type { RunResult, StepRecord, TaskResult } from '../protocol/api.ts';
import { isTerminal } from '../protocol/status.ts';
import { liveLine, type LiveLine } from './live-line.ts';
import { createTaskStepView, HIDDEN_STEPS, type TaskStepView } from './step-view.ts';
import { isSilentMarker, printAnnotations, renderLogLine } from './log-markers.ts';
import { watchPending, type PendingHintOptions, type PendingHints } from './pending-hints.ts';
import { durationBetween, formatDuration, paint, statusColour, statusSymbol, type Out } from './output.ts';

export async function followRun(
  client: BatonClient,
  runId: string,
  out: Out,
  o: { signal?: AbortSignal; pending?: PendingHintOptions } = {},
): Promise<RunResult> {
  const live = liveLine(out);
  const hints = watchPending(client, runId, live.out, o.pending);
  try {
    return await followEvents(client, runId, live, o.signal, hints);
  } finally {
    hints.stop();
    live.stop();
  }
}

async function followEvents(
  client: BatonClient,
  runId: string,
  live: LiveLine,
  signal: AbortSignal | undefined,
  hints: PendingHints,
): Promise<RunResult> {
  const out = live.out;
  for (const t of Object.values((await client.getRun(runId)).results)) {
    hints.seen(t.name, t.status);
    if (t.status === 'running')
      live.running(t.name, t.startedAt === null ? Date.now() : Date.parse(t.startedAt));
  }
  const groups = new Map<string, { depth: number }>();
  const groupsOf = (task: string): { depth: number } => {
    let g = groups.get(task);
    if (g === undefined) groups.set(task, (g = { depth: 0 }));
    return g;
  };
  const views = new Map<string, TaskStepView>();
  const viewOf = (task: string): TaskStepView => {
    let v = views.get(task);
    if (v === undefined)
      views.set(
        task,
        (v = createTaskStepView({
          line: (line, inStep) => {
            if (isSilentMarker(line)) return void renderLogLine(out, line, groupsOf(task));
            out.write(prefix(task) + (inStep ? '  ' : '') + renderLogLine(out, line, groupsOf(task)) + '\n');
          },
          started: (step) => {
            out.write(prefix(task) + paint(out, 'bold', `● ${step.name}`) + '\n');
            if (step.status === 'running')
              live.step(
                task,
                step.name,
                step.startedAt === undefined ? Date.now() : Date.parse(step.startedAt),
              );
          },
          finished: (step) => {
            live.step(task, undefined, 0);
            out.write(prefix(task) + stepLine(step, out, 0) + '\n');
          },
        })),
      );
    return v;
  };
  const lastStatus = new Map<string, string>();
  let width = 8;
  const prefix = (task: string) => paint(out, 'gray', `${task.padEnd(width)} | `);
  const onMessage = async (m: RunStreamMessage) => {
    if (m.kind === 'steps') {
      const status = lastStatus.get(m.task);
      // A `run:` task's one step, named after the task, is the task itself: no marks, lines as they are.
      const implicit = m.steps.length === 1 && m.steps[0]!.name === m.task;
      if (!implicit && (status === undefined || !isTerminal(status)))
        viewOf(m.task).steps(m.attempt, m.steps);
      return;
    }
    if (m.kind === 'log') return viewOf(m.task).log(m.attempt, m.offset, m.data);
    const e = m.event;
    if (e.type !== 'task' || !e.task) return;
    hints.seen(e.task, e.status);
    if (e.status === 'running') live.running(e.task, Date.now());
    else live.ended(e.task);
    width = Math.max(width, Math.min(e.task.length, 24));
    if (lastStatus.get(e.task) === e.status && !e.message) return;
    lastStatus.set(e.task, e.status);
    if (e.status === 'queued' && e.message) {
      // A retry (or an offer that went unconfirmed): say why the task is queued again.
      out.write(paint(out, 'yellow', `↻ ${e.task} ${e.message}`) + '\n');
      return;
    }
    if (e.status === 'pending' || e.status === 'queued') return;
    if (isTerminal(e.status)) viewOf(e.task).end();
    const where = e.status === 'running' && e.runner ? ` on ${e.runner}` : '';
    const why = e.message && e.status !== 'succeeded' ? `: ${e.message}` : '';
    out.write(
      paint(out, statusColour(e.status), `${statusSymbol(e.status)} ${e.task} ${e.status}${where}${why}`) +
        '\n',
    );
    if (isTerminal(e.status)) {
      const ended = await client.getTask(runId, e.task).catch(() => undefined);
      if (ended !== undefined) printSteps(ended, out);
    }
  };
  for await (const m of client.runStream(runId, { signal })) await onMessage(m);
  for (const view of views.values()) view.end();
  return client.getRun(runId);
}

/** A task's steps under it: status, name, duration, and an exit code that is not 0. */
export function printSteps(task: TaskResult, out: Out, indent = '    '): void {
  const steps = (task.steps ?? []).filter((step) => !HIDDEN_STEPS.has(step.name));
  const w = Math.min(40, Math.max(0, ...steps.map((step) => step.name.length)));
  for (const step of steps) out.write(indent + stepLine(step, out, w) + '\n');
}

/** One step: status symbol, name padded to `width`, duration (or `skipped`), and how it ended when not with 0. */
function stepLine(step: StepRecord, out: Out, width: number): string {
  const ran = step.status !== 'skipped';
  const time = ran && step.durationMs !== undefined ? formatDuration(step.durationMs) : '';
  const exit =
    step.status === 'timed_out' || step.status === 'cancelled'
      ? `  ${step.status.replace('_', ' ')}`
      : step.exitCode !== null && step.exitCode !== 0
        ? `  exit ${step.exitCode}`
        : '';
  const line = `${statusSymbol(step.status)} ${step.name.padEnd(width)}  ${ran ? time.padStart(7) : 'skipped'}${exit}`;
  return paint(out, ran ? statusColour(step.status) : 'gray', line);
}

export function printSummary(result: RunResult, out: Out, o: { steps?: boolean } = {}): void {
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
    if (o.steps === true) printSteps(t, out, '      ');
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
