// Live steps: tells the server which steps of a running attempt have started and ended, so `baton run`, `--follow`
// and the web UI can show them while the task runs. The completion carries the final list anyway, so this is a
// view, never a record: a report that fails is dropped. To cost nothing on short quiet tasks, a change waits
// STEP_REPORT_AFTER_MS before it is sent — except a step's start when the step writes its first output: that goes
// at once, ahead of the log chunk, so followers print the step's header above its lines. At most one report is in
// flight; changes made meanwhile go in the next.
import type { StepRecord } from '../protocol/api.ts';
import type { StepEvent } from '../engine/index.ts';

/** How long a change waits before it is sent (a task that ends sooner sends no report at all). */
export const STEP_REPORT_AFTER_MS = 500;

export interface StepReporter {
  /** A step started or finished; `logOffset` is how many bytes of the task log were written before it. */
  event(e: StepEvent, logOffset: number): void;
  /** The task wrote output: a running step not reported yet is reported now, before the output is shipped. */
  output(): void;
  /** The attempt ended: nothing more is sent. */
  stop(): void;
}

export function createStepReporter(
  send: (steps: StepRecord[]) => Promise<unknown>,
  o: { afterMs?: number; now?: () => number } = {},
): StepReporter {
  const afterMs = o.afterMs ?? STEP_REPORT_AFTER_MS;
  const now = o.now ?? Date.now;
  const steps = new Map<number, StepRecord & { startMs: number }>();
  let timer: NodeJS.Timeout | undefined;
  let inFlight = false;
  let dirty = false;
  let urgent = false;
  let stopped = false;
  /** Steps whose start has been sent. */
  const announced = new Set<number>();

  const snapshot = (): StepRecord[] =>
    [...steps.entries()].sort(([a], [b]) => a - b).map(([, { startMs: _startMs, ...step }]) => step);

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (stopped || !dirty) return;
    dirty = false;
    urgent = false;
    inFlight = true;
    for (const index of steps.keys()) announced.add(index);
    void send(snapshot())
      .catch(() => undefined)
      .finally(() => {
        inFlight = false;
        if (urgent) flush();
        else if (dirty) schedule();
      });
  };
  const schedule = () => {
    if (stopped || timer !== undefined || inFlight) return;
    timer = setTimeout(flush, afterMs);
    timer.unref();
  };

  return {
    event(e, logOffset) {
      if (stopped) return;
      const at = now();
      if (e.state === 'started') {
        steps.set(e.index, {
          name: e.name,
          status: 'running',
          exitCode: null,
          startedAt: new Date(at).toISOString(),
          logStart: logOffset,
          startMs: at,
        });
      } else {
        const step = steps.get(e.index);
        if (step === undefined) return;
        steps.set(e.index, {
          ...step,
          status: e.status ?? (e.exitCode === 0 ? 'succeeded' : 'failed'),
          exitCode: e.exitCode ?? null,
          finishedAt: new Date(at).toISOString(),
          durationMs: e.durationMs ?? at - step.startMs,
          logEnd: logOffset,
        });
      }
      dirty = true;
      schedule();
    },
    output() {
      if (stopped || !dirty) return;
      const unannounced = [...steps].some(
        ([index, step]) => step.status === 'running' && !announced.has(index),
      );
      if (!unannounced) return;
      if (inFlight) urgent = true;
      else flush();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
