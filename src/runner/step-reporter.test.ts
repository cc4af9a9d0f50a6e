import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StepRecord } from '../protocol/api.ts';
import { createStepReporter } from './step-reporter.ts';

describe('live step reports', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const recorder = () => {
    const sent: StepRecord[][] = [];
    let release: () => void = () => undefined;
    const send = vi.fn((steps: StepRecord[]) => {
      sent.push(steps);
      return new Promise<void>((resolve) => (release = resolve));
    });
    return { sent, send, release: () => release() };
  };

  it('a task that ends before the delay sends nothing', () => {
    const r = recorder();
    const rep = createStepReporter(r.send, { afterMs: 500 });
    rep.event({ index: 0, name: 'a', state: 'started' }, 0);
    rep.event({ index: 0, name: 'a', state: 'finished', exitCode: 0, status: 'succeeded', durationMs: 3 }, 0);
    rep.stop();
    vi.advanceTimersByTime(10_000);
    expect(r.send).not.toHaveBeenCalled();
  });

  it('a quiet step is reported once the delay passed; its end follows', async () => {
    const r = recorder();
    const rep = createStepReporter(r.send, { afterMs: 500 });
    rep.event({ index: 0, name: 'quick', state: 'started' }, 0);
    rep.event({ index: 0, name: 'quick', state: 'finished', exitCode: 0, status: 'succeeded' }, 10);
    rep.event({ index: 2, name: 'slow', state: 'started' }, 10);
    vi.advanceTimersByTime(499);
    expect(r.send).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(r.sent[0]?.map((s) => [s.name, s.status, s.logStart, s.logEnd])).toEqual([
      ['quick', 'succeeded', 0, 10],
      ['slow', 'running', 10, undefined],
    ]);
    rep.event({ index: 2, name: 'slow', state: 'finished', exitCode: 3, status: 'failed' }, 42);
    vi.advanceTimersByTime(1_000);
    expect(r.send).toHaveBeenCalledTimes(1); // one report in flight at a time
    r.release();
    await vi.advanceTimersByTimeAsync(500);
    expect(r.sent[1]?.[1]).toMatchObject({ name: 'slow', status: 'failed', exitCode: 3, logEnd: 42 });
    rep.stop();
  });

  it("a step's first output sends its start at once, ahead of the log", () => {
    const r = recorder();
    const rep = createStepReporter(r.send, { afterMs: 500 });
    rep.output(); // output outside any step (set-up messages): nothing to announce
    expect(r.send).not.toHaveBeenCalled();
    rep.event({ index: 0, name: 'build', state: 'started' }, 5);
    rep.output();
    expect(r.sent).toEqual([[expect.objectContaining({ name: 'build', status: 'running', logStart: 5 })]]);
    rep.output(); // already announced
    vi.advanceTimersByTime(5_000);
    expect(r.send).toHaveBeenCalledTimes(1);
    rep.stop();
  });

  it('a failing report is dropped: the completion carries the steps anyway', async () => {
    const send = vi.fn(() => Promise.reject(new Error('down')));
    const rep = createStepReporter(send, { afterMs: 100 });
    rep.event({ index: 0, name: 'a', state: 'started' }, 0);
    await vi.advanceTimersByTimeAsync(100);
    expect(send).toHaveBeenCalledTimes(1);
    rep.stop();
  });
});
