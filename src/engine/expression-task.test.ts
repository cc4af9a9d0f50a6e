// The built-in `expression` task type at the engine level: its result, JSON for non-strings, the contexts it
// reads, confidentiality derived from what it read, and a failing expression as a failed task.

import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import type { AssignedTask } from '../protocol/plan.ts';
import { makeTask, runCollected } from './test-support.ts';

function expressionTask(expression: string, context: Partial<AssignedTask['context']> = {}, env = {}) {
  return makeTask([], { type: 'expression', driverSpec: { expression }, env, context });
}

const DEPENDENCY = {
  tasks: { foo: { outputs: { password: 'pw-9f2c1e7d44', user: 'admin' }, result: 'succeeded' } },
  imports: { password: 'pw-9f2c1e7d44' },
  mask: ['pw-9f2c1e7d44'],
};

describe('expression task', () => {
  it('evaluates with the inputs, env, tasks and imports contexts; a non-confidential result is logged', async () => {
    const task = expressionTask(
      "format('{0}@{1}/{2}', tasks.foo.outputs.user, env.HOST, inputs.db)",
      { ...DEPENDENCY, inputs: { db: 'app' } },
      { HOST: 'db.example' },
    );
    const { outcome, system } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome).toMatchObject({
      status: 'succeeded',
      outputs: { result: 'admin@db.example/app' },
      steps: [],
    });
    expect(outcome.confidential).toEqual([]);
    expect(system).toContain('result = admin@db.example/app');
  });

  it('JSON-encodes a value that is not a string, and takes the ${{ }} form too', async () => {
    const cases: Array<[string, string]> = [
      ['1 == 1', 'true'],
      ['${{ fromJSON(\'{"a":[1,2]}\') }}', '{"a":[1,2]}'],
      ["fromJSON('3')", '3'],
      ['null', 'null'],
    ];
    for (const [expression, result] of cases) {
      const { outcome } = await runCollected(expressionTask(expression), { workRoot: tempDir() });
      expect(outcome.outputs, expression).toEqual({ result });
    }
  });

  it('is confidential when it read a confidential output or import, and never prints the value', async () => {
    for (const expression of [
      "format('{0}-x', tasks.foo.outputs.password)",
      'imports.password',
      "toJSON(tasks['foo'])", // the whole subtree holds the confidential value
      "env.password != ''", // imports are in env too
    ]) {
      const { outcome, output, system } = await runCollected(expressionTask(expression, DEPENDENCY), {
        workRoot: tempDir(),
      });
      expect(outcome.status, expression).toBe('succeeded');
      expect(outcome.confidential, expression).toEqual(['result']);
      expect(output + system, expression).not.toContain('pw-9f2c1e7d44');
      expect(system, expression).toContain("'result' is confidential");
    }
    const plain = await runCollected(expressionTask('tasks.foo.outputs.user', DEPENDENCY), {
      workRoot: tempDir(),
    });
    expect(plain.outcome.confidential).toEqual([]);
  });

  it('is confidential when it read a secret, and keeps the whole value as its output', async () => {
    const { outcome, system } = await runCollected(
      expressionTask("format('user:{0}', secrets.DB_PASSWORD)"),
      {
        workRoot: tempDir(),
        secrets: { DB_PASSWORD: 'sekret-value-123' },
      },
    );
    expect(outcome.status).toBe('succeeded');
    expect(outcome.outputs).toEqual({ result: 'user:sekret-value-123' });
    expect(outcome.confidential).toEqual(['result']);
    expect(system).not.toContain('sekret-value-123');
  });

  it('fails the task with the message of an expression that fails at run time', async () => {
    const { outcome, system } = await runCollected(expressionTask("fromJSON('not json')"), {
      workRoot: tempDir(),
    });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'setup_failed', exitCode: null });
    expect(outcome.message).toMatch(/task 'build': cannot evaluate its expression: .*fromJSON/);
    expect(system).toContain(outcome.message);
  });

  it('fails the task naming the limit when the result is over 64 KiB', async () => {
    const { outcome } = await runCollected(
      expressionTask("format('{0}{0}', env.BIG)", {}, { BIG: 'x'.repeat(40_000) }),
      {
        workRoot: tempDir(),
      },
    );
    expect(outcome).toMatchObject({ status: 'failed', reason: 'env_too_large' });
    expect(outcome.message).toMatch(
      /result is 80000 bytes; the limit is 65536 bytes \(64 KiB\) per output value/,
    );
  });
});
