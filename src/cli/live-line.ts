// A status line at the bottom of a terminal — a spinner, how long each running task and its running step have run — redrawn in
// place while a run is followed. Everything printed goes above it: the line is cleared, the text written, the
// line drawn again. Only on a terminal (Out.live): piped output gets plain lines and no control codes.
import { formatDuration, paint, type Out } from './output.ts';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const REDRAW_MS = 250;
const CLEAR = '\r\u001b[2K';

export interface LiveLine {
  /** The Out to print through: its writes keep the status line below them. */
  out: Out;
  running(task: string, since: number): void;
  /** The task's step running now (`undefined`: none), timed from `since`. */
  step(task: string, name: string | undefined, since: number): void;
  ended(task: string): void;
  stop(): void;
}

export function liveLine(base: Out): LiveLine {
  const running = new Map<string, number>();
  const steps = new Map<string, { name: string; since: number }>();
  if (base.live !== true)
    return {
      out: base,
      running: () => undefined,
      step: () => undefined,
      ended: () => undefined,
      stop: () => undefined,
    };
  let frame = 0;
  let shown = false;
  const columns = () => (process.stdout.columns ?? 80) - 1;
  const render = () => {
    if (running.size === 0) {
      if (shown) base.write(CLEAR);
      shown = false;
      return;
    }
    const now = Date.now();
    const parts = [...running].map(([task, since]) => {
      const step = steps.get(task);
      const inStep = step === undefined ? '' : ` › ${step.name} ${formatDuration(now - step.since)}`;
      return `${task} ${formatDuration(now - since)}${inStep}`;
    });
    let text = `${FRAMES[frame % FRAMES.length]} running: ${parts.join(' · ')}`;
    if (text.length > columns()) text = text.slice(0, Math.max(0, columns() - 1)) + '…';
    base.write(CLEAR + paint(base, 'gray', text));
    shown = true;
  };
  const timer = setInterval(() => {
    frame++;
    render();
  }, REDRAW_MS);
  timer.unref();
  const above = (print: (s: string) => void) => (s: string) => {
    if (shown) base.write(CLEAR);
    shown = false;
    print(s);
    if (s.endsWith('\n')) render();
  };
  return {
    out: { ...base, write: above(base.write), err: above(base.err) },
    running(task, since) {
      running.set(task, since);
      render();
    },
    step(task, name, since) {
      if (name === undefined) steps.delete(task);
      else steps.set(task, { name, since });
      render();
    },
    ended(task) {
      running.delete(task);
      steps.delete(task);
      render();
    },
    stop() {
      clearInterval(timer);
      running.clear();
      steps.clear();
      render();
    },
  };
}
