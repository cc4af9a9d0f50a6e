import { describe, expect, it } from 'vitest';
import type { StepRecord } from '../protocol/api.ts';
import { createTaskStepView } from './step-view.ts';

function printed() {
  const out: string[] = [];
  const view = createTaskStepView({
    line: (text, inStep) => out.push(`${inStep ? '  ' : ''}${text}`),
    started: (step) => out.push(`▸ ${step.name}`),
    finished: (step) => out.push(`${step.status} ${step.name}`),
  });
  return { out, view };
}

const step = (name: string, status: string, logStart: number, logEnd?: number): StepRecord => ({
  name,
  status,
  exitCode: status === 'running' ? null : 0,
  logStart,
  ...(logEnd === undefined ? {} : { logEnd }),
});

describe('a task log with its steps', () => {
  it('places step marks at their byte offsets when the steps arrive before the log', () => {
    const { out, view } = printed();
    view.steps(1, [step('prepare', 'running', 0)]);
    view.log(1, 0, 'preparing\n');
    view.steps(1, [step('prepare', 'succeeded', 0, 10), step('build', 'running', 10)]);
    view.log(1, 10, 'bui');
    view.log(1, 13, 'lding\n');
    view.end();
    expect(out).toEqual(['▸ prepare', '  preparing', 'succeeded prepare', '▸ build', '  building']);
  });

  it('a step reported after its lines arrived (a late follower) splits one chunk at the offsets', () => {
    const { out, view } = printed();
    view.steps(1, [step('prepare', 'succeeded', 0, 10), step('wait', 'running', 10)]);
    view.log(1, 0, 'preparing\nwaiting\n');
    expect(out).toEqual(['▸ prepare', '  preparing', 'succeeded prepare', '▸ wait', '  waiting']);
  });

  it('a mark the log already passed is printed at once; multi-byte text is cut on bytes', () => {
    const { out, view } = printed();
    view.log(1, 0, 'héllo\nnext\n');
    view.steps(1, [step('a', 'succeeded', 0, 7)]);
    expect(out).toEqual(['héllo', 'next', '▸ a', 'succeeded a']);
    const second = printed();
    second.view.steps(1, [step('a', 'succeeded', 0, 7), step('b', 'running', 7)]);
    second.view.log(1, 0, 'héllo\nnext\n');
    expect(second.out).toEqual(['▸ a', '  héllo', 'succeeded a', '▸ b', '  next']);
  });

  it('a retry starts over; an older attempt is ignored; a resumed chunk is not printed twice', () => {
    const { out, view } = printed();
    view.steps(1, [step('a', 'running', 0)]);
    view.log(1, 0, 'one\n');
    view.log(2, 0, 'two\n');
    view.steps(1, [step('a', 'succeeded', 0, 4)]);
    view.log(2, 0, 'two\nthree\n');
    view.end();
    expect(out).toEqual(['▸ a', '  one', 'two', 'three']);
  });

  it('the end of the task prints an unfinished line and the marks still waiting', () => {
    const { out, view } = printed();
    view.steps(1, [step('a', 'running', 0)]);
    view.log(1, 0, 'no newline');
    view.steps(1, [step('a', 'failed', 0, 500)]);
    view.end();
    expect(out).toEqual(['▸ a', '  no newline', 'failed a']);
  });
});
