import { describe, expect, it } from 'vitest';
import { compileWorkflow } from './compile.ts';
import { selectJobs } from './select-jobs.ts';

const WORKFLOW = `jobs:
  setup:
    steps: [{ run: echo setup }]
  test:
    needs: setup
    strategy:
      matrix:
        os: [a, b]
    steps: [{ run: echo test }]
  docs:
    steps: [{ run: echo docs }]
`;

function plan() {
  const compiled = compileWorkflow(WORKFLOW);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.issues));
  return compiled.plan;
}

describe('selectJobs', () => {
  it('a job id selects every combination and what they need', () => {
    const picked = selectJobs(plan(), ['test']);
    expect(picked.ok && picked.plan.tasks.map((t) => t.name).sort()).toEqual([
      'setup',
      'test (a)',
      'test (b)',
    ]);
  });

  it("one combination's task name selects only it, with its needs", () => {
    const picked = selectJobs(plan(), ['test (b)']);
    expect(picked.ok && picked.plan.tasks.map((t) => t.name).sort()).toEqual(['setup', 'test (b)']);
  });

  it('an unknown name is refused naming the jobs', () => {
    expect(selectJobs(plan(), ['deploy'])).toEqual({
      ok: false,
      message: "the workflow has no job 'deploy'; its jobs are setup, test, docs",
    });
  });
});
