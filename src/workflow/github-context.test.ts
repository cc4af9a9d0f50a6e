import { describe, expect, it } from 'vitest';
import { jobContext, strategyContext, typedInputs } from './github-context.ts';

describe('GitHub contexts built from the plan', () => {
  it('gives a job without a matrix the strategy of one job of one, as actions/runner does', () => {
    expect(strategyContext({})).toEqual({
      'fail-fast': true,
      'job-index': 0,
      'job-total': 1,
      'max-parallel': 1,
    });
    expect(strategyContext({ strategy: { group: 'm', failFast: false, index: 2, total: 4 } })).toEqual({
      'fail-fast': false,
      'job-index': 2,
      'job-total': 4,
      'max-parallel': 4,
    });
  });

  it('types boolean and number inputs and leaves the others strings ("Contexts" > inputs context)', () => {
    const specs = {
      b: { required: false, type: 'boolean' as const },
      n: { required: false, type: 'number' as const },
      e: { required: false, type: 'number' as const },
      c: { required: false, type: 'choice' as const, options: ['x'] },
      s: { required: false },
    };
    expect(typedInputs(specs, { b: 'false', n: '0x10', e: '', c: 'x', s: 'true' })).toEqual({
      b: false,
      n: 16,
      e: '',
      c: 'x',
      s: 'true',
    });
  });

  it('names the job status as GitHub does: cancelled over failure over success', () => {
    expect(jobContext(undefined).status).toBe('success');
    expect(jobContext({ success: false, failure: true, cancelled: false }).status).toBe('failure');
    expect(jobContext({ success: false, failure: true, cancelled: true }).status).toBe('cancelled');
  });
});
