// decideTask: whether a task whose dependencies are final runs or is skipped.

import { describe, expect, it } from 'vitest';
import { emptyTask } from './drafts.ts';
import { decideTask, ExpressionError, type DependencyState, type ExpressionContext } from './index.ts';

const ctx: ExpressionContext = {
  inputs: { deploy: 'yes' },
  env: {},
  tasks: { build: { outputs: { version: '1.0' }, result: 'failed' } },
};
const dep = (status: string, continueOnError = false): DependencyState => ({
  name: 'build',
  status,
  continueOnError,
});
const task = (condition?: string) => ({
  ...emptyTask('t'),
  ...(condition === undefined ? {} : { if: condition }),
});

type Row = [
  title: string,
  condition: string | undefined,
  deps: DependencyState[],
  cancelled: boolean,
  expected: 'run' | 'skip',
];

const TABLE: Row[] = [
  ['no dependencies', undefined, [], false, 'run'],
  ['all dependencies succeeded', undefined, [dep('succeeded'), dep('succeeded')], false, 'run'],
  ['a dependency failed', undefined, [dep('succeeded'), dep('failed')], false, 'skip'],
  ['a dependency timed out', undefined, [dep('timed_out')], false, 'skip'],
  ['a dependency lost its runner', undefined, [dep('runner_lost')], false, 'skip'],
  ['a dependency was skipped', undefined, [dep('skipped')], false, 'skip'],
  ['a dependency was cancelled', undefined, [dep('cancelled')], false, 'skip'],
  ['a failed dependency with continue_on_error', undefined, [dep('failed', true)], false, 'run'],
  ['the run is cancelled', undefined, [dep('succeeded')], true, 'skip'],
  ['always() after a failure', 'always()', [dep('failed')], false, 'run'],
  ['always() in a cancelled run', '${{ always() }}', [dep('cancelled')], true, 'run'],
  ['failure() after a failure', 'failure()', [dep('failed')], false, 'run'],
  ['failure() after a timeout', 'failure()', [dep('timed_out')], false, 'run'],
  ['failure() when all succeeded', 'failure()', [dep('succeeded')], false, 'skip'],
  ['failure() after a forgiven failure', 'failure()', [dep('failed', true)], false, 'skip'],
  ['cancelled() in a cancelled run', 'cancelled()', [dep('succeeded')], true, 'run'],
  ['cancelled() in a running run', 'cancelled()', [dep('succeeded')], false, 'skip'],
  ['a plain condition that is true', "inputs.deploy == 'yes'", [dep('succeeded')], false, 'run'],
  ['a plain condition that is false', "inputs.deploy == 'no'", [dep('succeeded')], false, 'skip'],
  [
    'a plain true condition after a failure (implicit success())',
    "inputs.deploy == 'yes'",
    [dep('failed')],
    false,
    'skip',
  ],
  ['success() || failure() after a failure', 'success() || failure()', [dep('failed')], false, 'run'],
  [
    'a condition reading a dependency result',
    "always() && needs.build.result == 'failed'",
    [dep('failed')],
    false,
    'run',
  ],
  ['if: false', 'false', [], false, 'skip'],
];

describe('decideTask', () => {
  it.each(TABLE)('%s', (_title, condition, deps, cancelled, expected) => {
    expect(decideTask(task(condition), deps, ctx, cancelled)).toBe(expected);
  });

  it('throws ExpressionError for a condition that cannot be evaluated, instead of skipping', () => {
    expect(() => decideTask(task("fromJSON('{')"), [], ctx, false)).toThrow(ExpressionError);
    expect(() => decideTask(task("hashFiles('x')"), [], ctx, false)).toThrow(
      'hashFiles() is only available on the runner',
    );
  });
});
