import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TASK_STATUSES, TERMINAL_STATUSES } from '../protocol/status.ts';
import { deriveRunStatus, type TaskOutcome } from './run-status.ts';

// The table of docs/api.md ("Run status"), written out as data: the rows a run's tasks are checked against,
// first match wins. Kept apart from the implementation so a change to one without the other fails here.
const TABLE: { row: string; applies: (tasks: TaskOutcome[], cancel: boolean) => boolean; status?: string }[] =
  [
    {
      row: 'a task is not final',
      applies: (ts) => ts.some((t) => !TERMINAL_STATUSES.includes(t.status as never)),
    },
    {
      row: 'cancel requested and a task cancelled',
      applies: (ts, cancel) => cancel && ts.some((t) => t.status === 'cancelled'),
      status: 'cancelled',
    },
    {
      row: 'a failed, timed_out or runner_lost task without continue_on_error',
      applies: (ts) =>
        ts.some((t) => ['failed', 'timed_out', 'runner_lost'].includes(t.status) && !t.continueOnError),
      status: 'failed',
    },
    {
      row: 'a cancelled task',
      applies: (ts) => ts.some((t) => t.status === 'cancelled'),
      status: 'cancelled',
    },
    { row: 'otherwise', applies: () => true, status: 'succeeded' },
  ];

function expected(tasks: TaskOutcome[], cancel: boolean): string | undefined {
  return TABLE.find((r) => r.applies(tasks, cancel))!.status;
}

const outcome = fc.record({
  status: fc.constantFrom(...TASK_STATUSES),
  continueOnError: fc.boolean(),
});

describe('deriveRunStatus', () => {
  it('agrees with the table for every combination of up to three task outcomes', () => {
    const all: TaskOutcome[] = TASK_STATUSES.flatMap((status) =>
      [false, true].map((continueOnError) => ({ status, continueOnError })),
    );
    const combos: TaskOutcome[][] = [[]];
    for (let n = 0; n < 3; n++)
      for (const c of combos.filter((x) => x.length === n)) for (const o of all) combos.push([...c, o]);
    expect(combos.length).toBe(1 + 18 + 18 ** 2 + 18 ** 3);
    for (const tasks of combos)
      for (const cancel of [false, true])
        expect({ tasks, cancel, status: deriveRunStatus(tasks, cancel) }).toEqual({
          tasks,
          cancel,
          status: expected(tasks, cancel),
        });
  });

  it('agrees with the table for any number of tasks, in any order', () => {
    fc.assert(
      fc.property(fc.array(outcome, { maxLength: 12 }), fc.boolean(), (tasks, cancel) => {
        expect(deriveRunStatus(tasks, cancel)).toBe(expected(tasks, cancel));
        expect(deriveRunStatus([...tasks].reverse(), cancel)).toBe(expected(tasks, cancel));
      }),
    );
  });

  it('is succeeded only when every task succeeded, was skipped, or failed with continue_on_error', () => {
    fc.assert(
      fc.property(fc.array(outcome, { minLength: 1, maxLength: 8 }), fc.boolean(), (tasks, cancel) => {
        const ok = tasks.every(
          (t) =>
            t.status === 'succeeded' ||
            t.status === 'skipped' ||
            (t.continueOnError && ['failed', 'timed_out', 'runner_lost'].includes(t.status)),
        );
        expect(deriveRunStatus(tasks, cancel) === 'succeeded').toBe(ok);
      }),
    );
  });

  it('reports a run whose only task was cancelled without a cancel request as cancelled, not succeeded', () => {
    expect(deriveRunStatus([{ status: 'cancelled', continueOnError: false }], false)).toBe('cancelled');
  });
});
