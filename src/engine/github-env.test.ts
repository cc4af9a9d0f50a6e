import { describe, expect, it } from 'vitest';
import { githubActionName } from './github-env.ts';

describe('GITHUB_ACTION of a run step', () => {
  it('is the step id, else __run, __run_2, … counting the steps without an id ("Default environment variables")', () => {
    const steps = [
      { name: 'a', run: '', shell: 'bash', env: {} },
      { name: 'build', id: 'build', run: '', shell: 'bash', env: {} },
      { name: 'b', run: '', shell: 'bash', env: {} },
      { name: 'c', run: '', shell: 'bash', env: {} },
    ];
    expect(steps.map((_, i) => githubActionName(steps, i))).toEqual(['__run', 'build', '__run_2', '__run_3']);
  });
});
