// Matrices computed from expressions through `baton run` (issue 18). "Workflow syntax for GitHub Actions",
// jobs.<job_id>.strategy.matrix (include/exclude rules, "A matrix can generate a maximum of 256 jobs per workflow
// run"); "Expressions", fromJSON ("strategy: matrix: ${{ fromJSON(needs.job1.outputs.matrix) }}").
import { describe, expect, it } from 'vitest';
import { batonRun, batonRunJson, gitCheckout } from './run.ts';

describe('GitHub matrices from expressions, through baton run', () => {
  it('expands fromJSON of a needs output once that job is done, and later jobs wait for every combination', async () => {
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  setup:
    outputs:
      matrix: \${{ steps.m.outputs.matrix }}
    steps:
      - id: m
        run: echo 'matrix={"node":[18,20],"include":[{"node":20,"extra":"yes"},{"node":22}]}' >> "$GITHUB_OUTPUT"
  test:
    needs: setup
    strategy:
      matrix: \${{ fromJSON(needs.setup.outputs.matrix) }}
    steps:
      - run: echo "node=\${{ matrix.node }} extra=\${{ matrix.extra }}"
  report:
    needs: test
    steps:
      - run: echo "report after \${{ needs.test.result }}"
`,
    });
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    const results = json.run?.results ?? {};
    // include: {node:20, extra:yes} extends the node=20 combination; {node:22} matches none and is added.
    expect(Object.keys(results).sort()).toEqual([
      'report',
      'setup',
      'test (18)',
      'test (20, yes)',
      'test (22)',
    ]);
    expect(Object.values(results).every((r) => r.status === 'succeeded')).toBe(true);
    const live = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toContain('node=18 extra=');
    expect(live.stdout).toContain('node=20 extra=yes');
    expect(live.stdout).toContain('node=22 extra=');
    expect(live.stdout).toContain('report after success');
  });

  it('evaluates expression values and include/exclude computed from expressions', async () => {
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on:
  workflow_dispatch:
    inputs:
      oses:
        default: '["linux","mac","win"]'
      skip:
        default: '[{"os":"win"}]'
jobs:
  build:
    strategy:
      matrix:
        os: \${{ fromJSON(inputs.oses) }}
        size: [small, "\${{ inputs.oses == '' && 'none' || 'large' }}"]
        exclude: \${{ fromJSON(inputs.skip) }}
    steps:
      - run: echo "\${{ matrix.os }}-\${{ matrix.size }}"
`,
    });
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    expect(Object.keys(json.run?.results ?? {}).sort()).toEqual([
      'build (linux, large)',
      'build (linux, small)',
      'build (mac, large)',
      'build (mac, small)',
    ]);
  });

  it('fails the job with a clear message when the JSON is not a matrix, and skips its dependents', async () => {
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  setup:
    outputs:
      matrix: \${{ steps.m.outputs.matrix }}
    steps:
      - id: m
        run: echo 'matrix=["a","b"]' >> "$GITHUB_OUTPUT"
  test:
    needs: setup
    strategy:
      matrix: \${{ fromJSON(needs.setup.outputs.matrix) }}
    steps:
      - run: echo "never"
  after:
    needs: test
    steps:
      - run: echo "never either"
`,
    });
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.run?.status, json.stderr).toBe('failed');
    expect(json.run?.results.test?.status).toBe('failed');
    expect(json.run?.results.after?.status).toBe('skipped');
    const live = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(live.stdout + live.stderr).toContain(
      "the matrix of job 'test' is a list, not a matrix; a matrix is a map of keys to lists of values, with optional include and exclude lists of maps",
    );
  });

  it('fails the job naming the limit when the matrix would make more than 256 combinations', async () => {
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on:
  workflow_dispatch:
    inputs:
      n:
        default: '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]'
jobs:
  big:
    strategy:
      matrix:
        a: \${{ fromJSON(inputs.n) }}
        b: \${{ fromJSON(inputs.n) }}
    steps:
      - run: echo never
`,
    });
    const live = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(live.code).not.toBe(0);
    expect(live.stdout + live.stderr).toContain(
      "the matrix of job 'big' makes 289 combinations; the limit is 256 per matrix",
    );
  });

  it('evaluates fail-fast and max-parallel written as expressions', async () => {
    // "Workflow syntax", strategy.fail-fast: "GitHub will cancel all in-progress and queued jobs in the matrix if
    // any job in the matrix fails"; strategy.max-parallel: the most jobs of the matrix that run at once. With
    // max-parallel 1 the second combination is still queued when the first fails.
    const workflow = (failFast: string) => `on:
  workflow_dispatch:
    inputs:
      ff:
        default: '${failFast}'
      par:
        default: '1'
jobs:
  test:
    strategy:
      fail-fast: \${{ inputs.ff == 'yes' }}
      max-parallel: \${{ fromJSON(inputs.par) }}
      matrix:
        os: [a, b]
    steps:
      - run: test "\${{ matrix.os }}" != a
`;
    const status = async (failFast: string) => {
      const dir = gitCheckout({ '.github/workflows/ci.yml': workflow(failFast) });
      const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
      return [json.run?.results['test (a)']?.status, json.run?.results['test (b)']?.status];
    };
    expect(await status('yes')).toEqual(['failed', 'cancelled']);
    expect(await status('no')).toEqual(['failed', 'succeeded']);
  });
});
