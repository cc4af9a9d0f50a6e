// Run-time helpers: inputs checked against the plan, and a task's templates resolved for a runner.

import { describe, expect, it } from 'vitest';
import { compileWorkflow, resolveInputs, resolveTask } from './index.ts';
import type { Plan } from '../protocol/plan.ts';

function plan(text: string): Plan {
  const result = compileWorkflow(text);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.plan;
}

const withInputs = plan(`
inputs:
  version: { required: true }
  channel: stable
  note: { description: optional }
tasks: { a: { run: x } }
`);

describe('resolveInputs', () => {
  it('fills defaults and gives optional inputs without a default an empty value', () => {
    expect(resolveInputs(withInputs, { version: '2.0' })).toEqual({
      ok: true,
      inputs: { version: '2.0', channel: 'stable', note: '' },
    });
  });

  it('reports unknown and missing required inputs together', () => {
    expect(resolveInputs(withInputs, { versoin: '2.0' })).toEqual({
      ok: false,
      issues: [
        {
          code: 'unknown_input',
          message:
            "unknown input 'versoin'; did you mean 'version'?; declared inputs: version, channel, note",
          line: 0,
          column: 0,
          path: 'inputs.versoin',
        },
        {
          code: 'missing_input',
          message: "input 'version' is required and has no default; give it a value",
          line: 0,
          column: 0,
          path: 'inputs.version',
        },
      ],
    });
  });

  it('does not treat prototype names as declared inputs', () => {
    expect(resolveInputs(withInputs, { version: '1', constructor: 'x' }).ok).toBe(false);
  });
});

describe('resolveTask', () => {
  const layered = plan(`
inputs: { channel: stable }
env: { WHO: world, LEVEL: workflow }
tasks:
  build: { run: x }
  deploy:
    depends_on: [build]
    env: { LEVEL: task, GREETING: "hello \${{ env.WHO }}" }
    timeout: 5m
    working_directory: app
    steps:
      - run: echo \${{ env.GREETING }} \${{ tasks.build.outputs.version }} \${{ inputs.channel }} \${{ env.STEP }}
        env: { STEP: "\${{ env.LEVEL }}-step" }
`);

  it('evaluates env layers (task wins over workflow) and every step template', () => {
    const resolved = resolveTask(layered, 'deploy', {
      inputs: { channel: 'beta' },
      env: {},
      tasks: { build: { outputs: { version: '1.4' }, result: 'success' } },
    });
    expect(resolved.env).toEqual({ WHO: 'world', LEVEL: 'task', GREETING: 'hello world' });
    expect(resolved.steps[0]?.env).toEqual({ STEP: 'task-step' });
    expect(resolved.steps[0]?.run).toBe('echo hello world 1.4 beta task-step');
    expect(resolved.timeoutMs).toBe(300_000);
    expect(resolved.workingDirectory).toBe('app');
  });

  it('refuses a task the plan does not have', () => {
    expect(() => resolveTask(layered, 'nope', { inputs: {}, env: {}, tasks: {} })).toThrow(
      "plan 'workflow' has no task 'nope'",
    );
  });
});
