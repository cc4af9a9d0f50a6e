// Matrices computed from expressions (issue 18), expanded as the server does once the job's dependencies are
// final. Rules: "Workflow syntax for GitHub Actions", jobs.<job_id>.strategy.matrix, .include, .exclude (256 jobs
// per matrix at most); "Expressions", fromJSON.
import { describe, expect, it } from 'vitest';
import type { TaskSpec } from '../protocol/plan.ts';
import { compileWorkflow } from './compile.ts';
import { expandDeferredMatrix, MAX_MATRIX_VALUE_CHARS } from './matrix-deferred.ts';

function placeholder(text: string, job = 'test'): TaskSpec {
  const res = compileWorkflow(text, { fileName: 'ci.yml' });
  if (!res.ok) throw new Error(JSON.stringify(res.issues));
  const spec = res.plan.tasks.find((task) => task.name === job);
  if (spec === undefined) throw new Error(`no job ${job}`);
  return structuredClone(spec);
}

const fromNeeds = `on: push
jobs:
  setup:
    outputs: { m: '\${{ steps.s.outputs.m }}' }
    steps: [{ id: s, run: echo }]
  test:
    needs: setup
    runs-on: \${{ matrix.os }}
    continue-on-error: \${{ matrix.experimental == true }}
    strategy:
      fail-fast: false
      max-parallel: 2
      matrix: \${{ fromJSON(needs.setup.outputs.m) }}
    steps: [{ run: 'echo \${{ matrix.os }}' }]
`;
const ctx = (m: string) => ({ inputs: {}, env: {}, tasks: { setup: { outputs: { m }, result: 'success' } } });

describe('expandDeferredMatrix', () => {
  it('keeps the job as one placeholder at compile time, with its strategy', () => {
    const spec = placeholder(fromNeeds);
    expect(spec.deferredMatrix).toEqual({
      value: '${{ fromJSON(needs.setup.outputs.m) }}',
      flags: [{ text: '${{ matrix.experimental == true }}' }],
    });
    expect(spec.strategy).toEqual({ group: 'test', failFast: false, maxParallel: 2 });
  });

  it("expands by GitHub's rules, fills runs-on and continue-on-error per combination, drops the placeholder's matrix", () => {
    const m = JSON.stringify({
      os: ['linux', 'mac'],
      v: [1, 2],
      exclude: [{ os: 'mac', v: 1 }],
      include: [
        { os: 'linux', experimental: true },
        { os: 'win', v: 3 },
      ],
    });
    const res = expandDeferredMatrix(placeholder(fromNeeds), ctx(m), { maxMatrixSize: 256 });
    if ('error' in res) throw new Error(res.error);
    expect(res.tasks.map((t) => t.name)).toEqual([
      'test (linux, 1, true)',
      'test (linux, 2, true)',
      'test (mac, 2)',
      'test (win, 3)',
    ]);
    expect(res.tasks.map((t) => t.runsOn)).toEqual([['linux'], ['linux'], ['mac'], ['win']]);
    expect(res.tasks.map((t) => t.continueOnError === true)).toEqual([true, true, false, false]);
    expect(res.tasks.every((t) => t.deferredMatrix === undefined && t.strategy?.group === 'test')).toBe(true);
    expect(res.tasks[2]?.matrix).toEqual({ os: 'mac', v: 2 });
  });

  it('refuses what is not a matrix, naming the job and the rule', () => {
    const spec = placeholder(fromNeeds);
    const error = (m: string) => {
      const res = expandDeferredMatrix(spec, ctx(m), { maxMatrixSize: 256 });
      return 'error' in res ? res.error : 'expanded';
    };
    expect(error('["a"]')).toBe(
      "the matrix of job 'test' is a list, not a matrix; a matrix is a map of keys to lists of values, with optional include and exclude lists of maps",
    );
    expect(error('{"os":"linux"}')).toContain(
      "key 'os' of the matrix of job 'test' is the string 'linux', not a list",
    );
    expect(error('{"os":[]}')).toBe(
      "key 'os' of the matrix of job 'test' is an empty list; give at least one value",
    );
    expect(error('{"os":[{"a":1}]}')).toBe(
      "key 'os' of the matrix of job 'test' holds a map; matrix values must be strings, numbers or booleans",
    );
    expect(error('{"os":["a"],"exclude":[{"cpu":"x"}]}')).toBe(
      "'exclude' of the matrix of job 'test' uses 'cpu', which is not a matrix key; keys are os",
    );
    expect(error('{}')).toBe(
      "the matrix of job 'test' is empty; list values under at least one key, or 'include'",
    );
    expect(error('not json')).toMatch(/^the matrix of job 'test' cannot be evaluated: /);
    expect(error('{"os":["bad label!"]}')).toContain(
      "runs-on label 'bad label!' of job 'test (bad label!)' is not a valid runner label",
    );
  });

  it('names the limits: 256 combinations per matrix and the length of a value', () => {
    const spec = placeholder(fromNeeds);
    const many = JSON.stringify({
      a: Array.from({ length: 17 }, (_, i) => i),
      b: Array.from({ length: 16 }, (_, i) => i),
    });
    expect(expandDeferredMatrix(spec, ctx(many), { maxMatrixSize: 256 })).toEqual({
      error: "the matrix of job 'test' makes 272 combinations; the limit is 256 per matrix (GitHub's limit)",
    });
    const long = JSON.stringify({ os: ['x'.repeat(MAX_MATRIX_VALUE_CHARS + 1)] });
    const res = expandDeferredMatrix(spec, ctx(long), { maxMatrixSize: 256 });
    expect('error' in res && res.error).toContain(
      `is ${MAX_MATRIX_VALUE_CHARS + 1} characters ('${'x'.repeat(40)}…'); the limit is ${MAX_MATRIX_VALUE_CHARS} characters per matrix value`,
    );
  });

  it('evaluates keys, values, list items, include and exclude written with expressions', () => {
    const spec = placeholder(
      `on:
  workflow_dispatch:
    inputs:
      oses: { default: '["a","b"]' }
jobs:
  test:
    strategy:
      matrix:
        os: \${{ fromJSON(inputs.oses) }}
        n: [1, "\${{ inputs.oses != '' && 2 || 3 }}", 'x-\${{ 4 }}']
        exclude: \${{ fromJSON('[{"n":1}]') }}
        \${{ inputs.oses != '' && 'extra' || 'none' }}: [yes]
    steps: [{ run: echo }]
`,
    );
    const res = expandDeferredMatrix(
      spec,
      { inputs: { oses: '["a","b"]' }, env: {}, tasks: {} },
      { maxMatrixSize: 256 },
    );
    if ('error' in res) throw new Error(res.error);
    // A whole ${{ }} keeps its type (2 is a number); text with ${{ }} is a string ('x-4').
    // A computed key is its value as text ('extra').
    expect(res.tasks.map((t) => t.matrix)).toEqual([
      { os: 'a', n: 2, extra: 'yes' },
      { os: 'a', n: 'x-4', extra: 'yes' },
      { os: 'b', n: 2, extra: 'yes' },
      { os: 'b', n: 'x-4', extra: 'yes' },
    ]);
  });

  it('evaluates fail-fast and max-parallel written as expressions, with a written matrix', () => {
    // "Workflow syntax", jobs.<job_id>.strategy: inputs and needs are available in strategy ("Contexts").
    const text = `on:
  workflow_dispatch:
    inputs:
      ff: { default: 'false' }
      par: { default: '3' }
jobs:
  test:
    strategy:
      fail-fast: \${{ inputs.ff == 'true' }}
      max-parallel: \${{ inputs.par }}
      matrix:
        os: [a, b]
    steps: [{ run: echo }]
`;
    const spec = placeholder(text);
    expect(spec.deferredMatrix).toMatchObject({
      failFast: "${{ inputs.ff == 'true' }}",
      maxParallel: '${{ inputs.par }}',
    });
    const at = (inputs: Record<string, string>) =>
      expandDeferredMatrix(spec, { inputs, env: {}, tasks: {} }, { maxMatrixSize: 256 });
    const res = at({ ff: 'false', par: '3' });
    if ('error' in res) throw new Error(res.error);
    expect(res.tasks.map((t) => [t.name, t.strategy])).toEqual([
      ['test (a)', { group: 'test', failFast: false, maxParallel: 3, index: 0, total: 2 }],
      ['test (b)', { group: 'test', failFast: false, maxParallel: 3, index: 1, total: 2 }],
    ]);
    expect(at({ ff: 'true', par: 'x' })).toEqual({
      error: "'max-parallel' of job 'test' is the string 'x'; it must be a whole number of at least 1",
    });
  });
});
