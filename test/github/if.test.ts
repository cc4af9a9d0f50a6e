// `if:` of GitHub jobs and steps through `baton run` (issue 18). Rules from "Workflow syntax for GitHub Actions"
// (jobs.<job_id>.if, jobs.<job_id>.steps[*].if) and "Expressions" (status check functions).
import { describe, expect, it } from 'vitest';
import { batonRun, batonRunJson, gitCheckout } from './run.ts';
import { batonValidate } from './validate.ts';

describe('GitHub if conditions, through baton run', () => {
  it('reads a bare condition as an expression and one wrapped in ${{ }} as its inner expression', async () => {
    // "Workflow syntax", steps[*].if: "you can omit the ${{ }} expression syntax" in an if conditional.
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
env:
  KIND: fast
jobs:
  check:
    steps:
      - if: env.KIND == 'fast'
        run: echo "bare-true"
      - if: \${{ env.KIND == 'fast' }}
        run: echo "wrapped-true"
      - if: env.KIND == 'slow'
        run: echo "bare-false"
      - if: \${{ env.KIND != 'fast' }}
        run: echo "wrapped-false"
`,
    });
    const res = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('bare-true');
    expect(res.stdout).toContain('wrapped-true');
    expect(res.stdout).not.toMatch(/^.*bare-false\s*$/m);
    expect(res.stdout).not.toMatch(/^.*wrapped-false\s*$/m);
  });

  it('evaluates a condition that mixes text and ${{ }} as a non-empty string (true), with a lint warning', async () => {
    // "Expressions": a value mixing text and ${{ }} is a string; a non-empty string is truthy. actions/runner
    // reads it as format('{0} == ''slow''', env.KIND), so the step runs although KIND is 'fast'.
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
env:
  KIND: fast
jobs:
  check:
    steps:
      - if: \${{ env.KIND }} == 'slow'
        run: echo "mixed-ran"
`,
    });
    const res = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('mixed-ran');
    // baton run prints the same lint warning and runs on.
    expect(res.stderr).toContain(
      ".github/workflows/ci.yml:7:13: warning: 'if' of step 1 of job 'check' mixes text",
    );
    const lint = await batonValidate(['.github/workflows/ci.yml'], { cwd: dir });
    expect(lint.code).toBe(0); // a warning does not fail validation
    expect(lint.stderr).toContain(
      ".github/workflows/ci.yml:7:13: warning: 'if' of step 1 of job 'check' mixes text and ${{ }}, so it is a string (format('{0} == ''slow''', (env.KIND))) and true whenever that is not empty",
    );
    expect(lint.stdout).toContain('ok');
    const json = await batonValidate(['.github/workflows/ci.yml', '--json'], { cwd: dir });
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; warnings?: Array<Record<string, unknown>> };
    expect(parsed.ok).toBe(true);
    expect(parsed.warnings).toEqual([
      expect.objectContaining({
        line: 7,
        column: 13,
        code: 'suspicious_condition',
        path: 'jobs.check.steps[0].if',
      }),
    ]);
  });

  it('implies success() in a step condition without a status function', async () => {
    // "Expressions", status check functions: "A default status check of success() is applied unless you
    // include one of these functions."
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  check:
    steps:
      - run: exit 1
      - if: env.NOT_SET == ''
        run: echo "implied-success-ran"
      - if: failure()
        run: echo "failure-ran"
      - if: always() && env.NOT_SET == ''
        run: echo "always-ran"
`,
    });
    const res = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(res.code).not.toBe(0);
    expect(res.stdout).not.toMatch(/^.*implied-success-ran\s*$/m);
    expect(res.stdout).toContain('failure-ran');
    expect(res.stdout).toContain('always-ran');
  });

  it('job status functions look at every ancestor job, not only the jobs in needs', async () => {
    // "Expressions", failure(): "If you have a chain of dependent jobs, failure() returns true if any ancestor
    // job fails." A job without if has success() implied, which is false below a failed ancestor even when its
    // direct needs succeeded (the behaviour of actions/runner issue 491).
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  a:
    steps:
      - run: exit 1
  b:
    needs: a
    if: always()
    steps:
      - run: echo "b-ran"
  c:
    needs: b
    steps:
      - run: echo "c-ran"
  d:
    needs: b
    if: failure()
    steps:
      - run: echo "d-ran"
  e:
    needs: b
    if: \${{ !cancelled() }}
    steps:
      - run: echo "e-ran"
`,
    });
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.run?.status, json.stderr).toBe('failed');
    const status = (job: string) => json.run?.results[job]?.status;
    expect([status('a'), status('b'), status('c'), status('d'), status('e')]).toEqual([
      'failed',
      'succeeded',
      'skipped',
      'succeeded',
      'succeeded',
    ]);
  });
});
