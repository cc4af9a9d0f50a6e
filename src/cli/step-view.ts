// One task's log as `baton run` and `--follow` print it: its lines, and its steps placed where they are in the
// log — a `●` header where a step's output starts, its ✓/✗ line where it ends, the lines in between indented under
// it. Steps and log chunks travel separately (a step is reported when it writes its first output or has run for
// a moment; runner/step-reporter.ts), so each step mark waits until the log has reached its byte offset and is
// printed at once when the log is already past it (a follower joining late). A step too short to be reported
// live shows only in the task's summary.
import type { StepRecord } from '../protocol/api.ts';

/** Steps Baton adds to a task itself (a GitHub job's outputs), left out of what people read. */
export const HIDDEN_STEPS = new Set(['__outputs']);

export interface StepViewPrinter {
  /** A complete log line (without its newline); `inStep`: it belongs to a step shown as running. */
  line(text: string, inStep: boolean): void;
  started(step: StepRecord): void;
  finished(step: StepRecord): void;
}

export interface TaskStepView {
  log(attempt: number, offset: number, data: string): void;
  steps(attempt: number, steps: readonly StepRecord[]): void;
  /** The task ended: the unfinished line and every step mark still waiting are printed. */
  end(): void;
}

interface Mark {
  at: number;
  /** Order among marks at one offset: a step's start, then its end, then the next step's start. */
  order: number;
  kind: 'start' | 'end';
  key: string;
  step: StepRecord;
}

export function createTaskStepView(p: StepViewPrinter): TaskStepView {
  let attempt = 0;
  let received = 0;
  let partial = '';
  let current: string | undefined;
  const marks: Mark[] = [];
  let started = new Set<string>();
  let ended = new Set<string>();

  const feed = (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) p.line(line.replace(/\r$/, ''), current !== undefined);
  };
  const flushPartial = () => {
    if (partial !== '') p.line(partial, current !== undefined);
    partial = '';
  };
  const fire = (m: Mark) => {
    flushPartial();
    if (m.kind === 'start') {
      current = m.key;
      p.started(m.step);
    } else {
      if (current === m.key) current = undefined;
      p.finished(m.step);
    }
  };
  const fireReached = () => {
    while (marks[0] !== undefined && marks[0].at <= received) fire(marks.shift()!);
  };
  const reset = (to: number) => {
    flushPartial();
    for (const m of marks.splice(0)) fire(m);
    attempt = to;
    received = 0;
    current = undefined;
    started = new Set();
    ended = new Set();
  };
  const add = (m: Mark) => {
    marks.push(m);
    marks.sort((a, b) => a.at - b.at || a.order - b.order);
  };

  return {
    log(at, offset, data) {
      if (at < attempt) return;
      if (at > attempt) reset(at);
      let bytes = Buffer.from(data, 'utf8');
      // A chunk already seen in part (a stream that resumed): only what is new.
      if (offset < received) {
        bytes = bytes.subarray(Math.min(bytes.length, received - offset));
        offset = received;
      }
      let pos = offset;
      while (marks[0] !== undefined && marks[0].at <= pos + bytes.length) {
        const cut = Math.max(0, marks[0].at - pos);
        feed(bytes.subarray(0, cut).toString('utf8'));
        bytes = bytes.subarray(cut);
        pos += cut;
        received = pos;
        fire(marks.shift()!);
      }
      feed(bytes.toString('utf8'));
      received = pos + bytes.length;
    },
    steps(at, steps) {
      if (at < attempt) return;
      if (at > attempt) reset(at);
      steps.forEach((step, k) => {
        if (HIDDEN_STEPS.has(step.name)) return;
        const key = `${k}\0${step.name}`;
        if (!started.has(key)) {
          started.add(key);
          add({ at: step.logStart ?? received, order: 2 * k, kind: 'start', key, step });
        }
        if (step.status !== 'running' && !ended.has(key)) {
          ended.add(key);
          add({ at: step.logEnd ?? received, order: 2 * k + 1, kind: 'end', key, step });
        }
      });
      fireReached();
    },
    end() {
      flushPartial();
      for (const m of marks.splice(0)) fire(m);
    },
  };
}
