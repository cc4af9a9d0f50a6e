// The native format's control keys, matrix expansion and variables between tasks, as plans.

import { describe, expect, it } from 'vitest';
import type { Plan, TaskSpec } from '../protocol/plan.ts';
import { expandCombinations } from './matrix.ts';
import { compileWorkflow } from './index.ts';

function plan(text: string): Plan {
  const result = compileWorkflow(text);
  if (!result.ok) throw new Error(`expected a plan, got ${JSON.stringify(result.issues, null, 2)}`);
  return result.plan;
}

function task(p: Plan, name: string): TaskSpec {
  const found = p.tasks.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no task '${name}' in ${p.tasks.map((t) => t.name).join(', ')}`);
  return found;
}

describe('control keys', () => {
  it('compiles if, retries, continue_on_error, cancel_grace, uploads, artifacts and forward', () => {
    const p = plan(`
tasks:
  build:
    run: make
    retries: 2
    uploads: [dist/app.tgz, 'reports/**/*.xml']
  deploy:
    depends_on: [build]
    if: \${{ success() && inputs.env == 'prod' }}
    retries: { max: 3, backoff: 30s, on: [runner_lost] }
    continue_on_error: true
    cancel_grace: 1m
    artifacts: { from: build }
    forward: { to: vault-runner }
    run: ./deploy
inputs:
  env: prod
`);
    expect(task(p, 'build')).toMatchObject({
      retries: { max: 2, backoffMs: 10_000, on: ['failed', 'timed_out', 'runner_lost'] },
      uploads: ['dist/app.tgz', 'reports/**/*.xml'],
    });
    expect(task(p, 'deploy')).toMatchObject({
      if: "success() && inputs.env == 'prod'",
      retries: { max: 3, backoffMs: 30_000, on: ['runner_lost'] },
      continueOnError: true,
      cancelGraceMs: 60_000,
      artifactsFrom: ['build'],
      forwardTo: 'vault-runner',
    });
    expect(task(p, 'build').if).toBeUndefined();
  });

  it('compiles step ids, conditions and continue_on_error; an id is the step name', () => {
    const p = plan(`
tasks:
  build:
    steps:
      - id: version
        name: Compute the version
        run: echo "v=1" >> "$BATON_OUTPUT"
      - name: flaky
        run: ./flaky.sh
        continue_on_error: true
      - if: steps.version.outputs.v == '1' && steps.flaky.outcome == 'failure'
        run: echo retry later
      - if: \${{ always() }}
        run: echo cleanup
`);
    expect(task(p, 'build').steps.map((step) => [step.name, step.if, step.continueOnError])).toEqual([
      ['version', undefined, undefined],
      ['flaky', undefined, true],
      ['step-3', "steps.version.outputs.v == '1' && steps.flaky.outcome == 'failure'", undefined],
      ['step-4', 'always()', undefined],
    ]);
  });

  it('fills every new plan field with its empty value when absent', () => {
    expect(plan('tasks: { a: { run: x } }').tasks[0]).toEqual({
      name: 'a',
      type: 'exec',
      steps: [{ name: 'a', run: 'x', shell: 'bash', env: {} }],
      env: {},
      dependsOn: [],
      runsOn: [],
      exports: [],
      imports: [],
      uploads: [],
      artifactsFrom: [],
      matrix: {},
    });
  });
});

describe('matrix', () => {
  const matrixWorkflow = `
tasks:
  build:
    runs_on: ['\${{ matrix.os }}', x64]
    strategy:
      max_parallel: 2
      fail_fast: false
      matrix:
        os: [linux, macos, windows]
        node: [18, 20]
        exclude:
          - { os: windows, node: 18 }
        include:
          - { os: linux, node: 20, experimental: true }
    run: echo node \${{ matrix.node }} on \${{ matrix.os }}
  package:
    depends_on: build
    artifacts: { from: build }
    run: ls
`;

  it('expands 3x2 with one exclude and one include into exactly the expected tasks', () => {
    const p = plan(matrixWorkflow);
    expect(p.tasks.map((t) => [t.name, t.matrix, t.runsOn])).toEqual([
      ['build (linux, 18)', { os: 'linux', node: 18 }, ['linux', 'x64']],
      ['build (linux, 20, true)', { os: 'linux', node: 20, experimental: true }, ['linux', 'x64']],
      ['build (macos, 18)', { os: 'macos', node: 18 }, ['macos', 'x64']],
      ['build (macos, 20)', { os: 'macos', node: 20 }, ['macos', 'x64']],
      ['build (windows, 20)', { os: 'windows', node: 20 }, ['windows', 'x64']],
      ['package', {}, []],
    ]);
    expect(task(p, 'build (macos, 20)').strategy).toEqual({
      group: 'build',
      maxParallel: 2,
      failFast: false,
      index: 3,
      total: 5,
    });
    expect(task(p, 'build (macos, 20)').steps[0]?.run).toBe(
      'echo node ${{ matrix.node }} on ${{ matrix.os }}',
    );
    expect(task(p, 'package').strategy).toBeUndefined();
  });

  it('makes a dependency on a matrix task a dependency on all its expansions', () => {
    const p = plan(matrixWorkflow);
    const expansions = p.tasks.filter((t) => t.strategy?.group === 'build').map((t) => t.name);
    expect(task(p, 'package').dependsOn).toEqual(expansions);
    expect(task(p, 'package').artifactsFrom).toEqual(expansions);
  });

  it("follows GitHub's documented include example exactly", () => {
    const combinations = expandCombinations(
      [
        { key: 'fruit', values: ['apple', 'pear'] },
        { key: 'animal', values: ['cat', 'dog'] },
      ],
      [],
      [
        { color: 'green' },
        { color: 'pink', animal: 'cat' },
        { fruit: 'apple', shape: 'circle' },
        { fruit: 'banana' },
        { fruit: 'banana', animal: 'cat' },
      ],
    );
    expect(combinations).toEqual([
      { fruit: 'apple', animal: 'cat', color: 'pink', shape: 'circle' },
      { fruit: 'apple', animal: 'dog', color: 'green', shape: 'circle' },
      { fruit: 'pear', animal: 'cat', color: 'pink' },
      { fruit: 'pear', animal: 'dog', color: 'green' },
      { fruit: 'banana' },
      { fruit: 'banana', animal: 'cat' },
    ]);
  });

  it('uses the include entries as the combinations when the matrix has no other keys', () => {
    const p = plan(`
tasks:
  t:
    strategy: { matrix: { include: [{ site: a, port: 1 }, { site: b }] } }
    run: echo \${{ matrix.site }}
`);
    expect(p.tasks.map((t) => t.name)).toEqual(['t (a, 1)', 't (b)']);
  });
});

describe('variables between tasks', () => {
  it('compiles exports (string and map forms) and imports with as defaulting to variable', () => {
    const p = plan(`
tasks:
  vault:
    run: echo "token=abc" >> "$BATON_OUTPUT"
    exports:
      - version
      - { name: token, confidential: true, scope: global }
  deploy:
    depends_on: [vault]
    imports:
      - { from: vault, variable: token }
      - { from: vault, variable: version, as: APP_VERSION }
    run: echo "$APP_VERSION \${{ imports.token }}"
`);
    expect(task(p, 'vault').exports).toEqual([
      { name: 'version', confidential: false, scope: 'local' },
      { name: 'token', confidential: true, scope: 'global' },
    ]);
    expect(task(p, 'deploy').imports).toEqual([
      { from: 'vault', variable: 'token', as: 'token' },
      { from: 'vault', variable: 'version', as: 'APP_VERSION' },
    ]);
  });
});
