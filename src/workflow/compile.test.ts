// compileWorkflow on valid native workflows (map, list and JSON forms) and the plan they become.

import { describe, expect, it } from 'vitest';
import { compileWorkflow } from './index.ts';
import type { Plan } from '../protocol/plan.ts';

function plan(text: string | Uint8Array, fileName?: string): Plan {
  const result = compileWorkflow(text, fileName === undefined ? {} : { fileName });
  if (!result.ok) throw new Error(`expected a plan, got ${JSON.stringify(result.issues, null, 2)}`);
  return result.plan;
}

describe('compileWorkflow on valid workflows', () => {
  it('compiles the map form with run shorthand, env, inputs and dependencies', () => {
    const result = plan(`
name: build-and-test
env: { GREETING: hello, COUNT: 3, DEBUG: true }
inputs:
  version: { description: "release", required: true, default: "1.0" }
  channel: stable
tasks:
  build:
    run: echo \${{ inputs.version }}
    env: { A: "1" }
    runs_on: [linux, x64]
    timeout: 10m
  test:
    depends_on: build
    run: echo \${{ tasks.build.outputs.artifact }}
`);
    expect(result.name).toBe('build-and-test');
    expect(result.env).toEqual({ GREETING: 'hello', COUNT: '3', DEBUG: 'true' });
    expect(result.inputs).toEqual({
      version: { description: 'release', required: true, default: '1.0' },
      channel: { required: false, default: 'stable' },
    });
    expect(result.tasks.map((task) => task.name)).toEqual(['build', 'test']);
    expect(result.tasks[0]).toEqual({
      name: 'build',
      type: 'exec',
      steps: [{ name: 'build', run: 'echo ${{ inputs.version }}', shell: 'bash', env: {} }],
      env: { A: '1' },
      dependsOn: [],
      runsOn: ['linux', 'x64'],
      timeoutMs: 600_000,
      exports: [],
      imports: [],
      uploads: [],
      artifactsFrom: [],
      matrix: {},
    });
    expect(result.dialect).toBe('native');
    expect(result.tasks[1]?.dependsOn).toEqual(['build']);
  });

  it('compiles the list form, naming unnamed steps step-1, step-2', () => {
    const result = plan(`
tasks:
  - name: build
    steps:
      - run: make
      - name: package
        run: tar czf out.tgz out
        timeout: 90s
  - name: deploy
    needs: [build]
    run: ./deploy.sh
`);
    expect(result.tasks[0]?.steps.map((step) => step.name)).toEqual(['step-1', 'package']);
    expect(result.tasks[0]?.steps[1]?.timeoutMs).toBe(90_000);
    expect(result.tasks[1]?.dependsOn).toEqual(['build']);
  });

  it('compiles JSON, which is valid YAML', () => {
    const json = JSON.stringify({
      name: 'j',
      tasks: { a: { run: 'echo a' }, b: { run: 'echo b', depends_on: ['a'] } },
    });
    expect(plan(json).tasks.map((task) => [task.name, task.dependsOn])).toEqual([
      ['a', []],
      ['b', ['a']],
    ]);
  });

  it('accepts UTF-8 bytes as well as text', () => {
    expect(
      plan(new TextEncoder().encode('tasks:\n  grüß: { run: echo ü }\n'.replace('grüß', 'gruss'))).tasks[0]
        ?.steps[0]?.run,
    ).toBe('echo ü');
  });

  it('names the workflow after its file when it has no name, else "workflow"', () => {
    expect(plan('tasks: { a: { run: x } }', 'ci/release.yml').name).toBe('release');
    expect(plan('tasks: { a: { run: x } }').name).toBe('workflow');
  });

  it('resolves the shell from step, then task, then defaults.run, then bash', () => {
    const result = plan(`
defaults: { run: { shell: sh } }
tasks:
  a:
    shell: python
    steps: [{ run: x }, { run: y, shell: "perl {0}" }]
  b: { run: z }
`);
    expect(result.tasks[0]?.steps.map((step) => step.shell)).toEqual(['python', 'perl {0}']);
    expect(result.tasks[1]?.steps[0]?.shell).toBe('sh');
    expect(plan('tasks: { a: { run: x } }').tasks[0]?.steps[0]?.shell).toBe('bash');
  });

  it('joins step working directories under the task one, and the task one defaults to defaults.run', () => {
    const result = plan(`
defaults: { run: { working_directory: base } }
tasks:
  a:
    working_directory: ./app/
    steps:
      - run: x
      - run: y
        working_directory: src/../lib
  b: { run: z }
`);
    expect(result.tasks[0]?.workingDirectory).toBe('app');
    expect(result.tasks[0]?.steps.map((step) => step.workingDirectory)).toEqual(['app', 'app/lib']);
    expect(result.tasks[1]?.steps[0]?.workingDirectory).toBe('base');
  });

  it('reads durations as seconds or text with units', () => {
    const timeouts = plan(`
tasks:
  a: { run: x, timeout: 30 }
  b: { run: x, timeout: "1h30m" }
  c: { run: x, timeout: 500ms }
  d: { run: x, timeout: 1.5 }
`).tasks.map((task) => task.timeoutMs);
    expect(timeouts).toEqual([30_000, 5_400_000, 500, 1500]);
  });

  it('follows aliases and keeps __proto__ as an ordinary env name', () => {
    const result = plan(`
env: &shared { __proto__: yes, B: two }
tasks:
  a: { run: x, env: *shared }
`);
    expect(result.tasks[0]?.env).toEqual(
      Object.fromEntries([
        ['__proto__', 'yes'],
        ['B', 'two'],
      ]),
    );
    expect(Object.getPrototypeOf(result.env)).toBe(Object.prototype);
  });

  it('returns a frozen plan', () => {
    const result = plan('tasks: { a: { run: x } }');
    expect(Object.isFrozen(result.tasks[0]?.steps[0])).toBe(true);
  });
});
