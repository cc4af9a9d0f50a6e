// Variables that outgrow the limits at run time (imports, expressions, BATON_ENV, outputs) stop the task before
// the step starts, with reason env_too_large, exit code null and a message naming the variable and the limit.

import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { envLimitProblem } from './env-limits.ts';
import { makeTask, runCollected } from './test-support.ts';

const none = new Map<string, string>();

describe('envLimitProblem', () => {
  it('names the variable, where it came from, its size and the limit', () => {
    const layers = {
      taskEnv: { IMP: 'x'.repeat(65_537) },
      imports: { IMP: '' },
      exported: none,
      stepEnv: {},
    };
    expect(envLimitProblem(layers)).toBe(
      "env 'IMP' (imported) is 65537 bytes; the limit is 65536 bytes (64 KiB) per value",
    );
    expect(
      envLimitProblem(
        { taskEnv: {}, imports: {}, exported: new Map([['E', 'xxx']]), stepEnv: {} },
        {
          maxEnvVars: 10,
          maxEnvValueBytes: 2,
          maxEnvTotalBytes: 100,
        },
      ),
    ).toBe("env 'E' (from BATON_ENV of an earlier step) is 3 bytes; the limit is 2 bytes per value");
  });

  it('counts the variables and their bytes once per name, the last layer winning', () => {
    const limits = { maxEnvVars: 2, maxEnvValueBytes: 100, maxEnvTotalBytes: 12 };
    const same = { taskEnv: { A: 'a' }, imports: {}, exported: new Map([['A', 'b']]), stepEnv: { B: 'c' } };
    expect(envLimitProblem(same, limits)).toBeUndefined();
    expect(envLimitProblem({ ...same, stepEnv: { B: 'c', C: 'd' } }, limits)).toBe(
      'the task sets 3 environment variables; the limit is 2 per task',
    );
    expect(envLimitProblem({ ...same, stepEnv: { B: 'cccccc' } }, limits)).toBe(
      "the task's environment variables are 13 bytes together; the limit is 12 bytes per task",
    );
  });
});

describe('runTask: environment limits at run time', () => {
  it('fails a step whose format() value outgrows the limit as it is evaluated, before it starts: env_too_large, exit code null', async () => {
    const task = makeTask(
      [
        { name: 'first', run: 'echo first-ran' },
        { name: 'big', run: 'echo never', env: { BIG: "${{ format('{0}{0}{0}{0}', env.SEED) }}" } },
        { name: 'after', run: 'echo never-after' },
      ],
      { env: { SEED: 'x'.repeat(20_000) } },
    );
    const { outcome, output } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'env_too_large', exitCode: null });
    expect(outcome.message).toBe(
      "step 'big' env 'BIG' is 80000 bytes; the limit is 65536 bytes (64 KiB) per value",
    );
    expect(outcome.steps.map((s) => s.status)).toEqual(['succeeded', 'failed', 'skipped']);
    expect(output).toContain('first-ran');
    expect(output).not.toContain('never');
  });

  it('fails an importing task whose imported value passes the limit', async () => {
    const task = makeTask([{ name: 'use', run: 'echo never' }], {
      context: { imports: { FROM_A: 'y'.repeat(70_000) } },
    });
    const { outcome } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'env_too_large', exitCode: null });
    expect(outcome.message).toContain("env 'FROM_A' (imported) is 70000 bytes");
  });

  it('refuses an output or BATON_ENV value over the per-value limit when it is collected', async () => {
    for (const file of ['BATON_OUTPUT', 'BATON_ENV']) {
      const task = makeTask([
        {
          name: 'write',
          run: `printf 'ok=1\\nbig=%s\\n' "$(head -c 70000 /dev/zero | tr '\\0' x)" >> "$${file}"`,
        },
        { name: 'after', run: 'echo never' },
      ]);
      const { outcome } = await runCollected(task, { workRoot: tempDir() });
      expect(outcome).toMatchObject({ status: 'failed', reason: 'invalid_output_file' });
      expect(outcome.message).toBe(
        `step 'write' wrote 'big' of 70000 bytes to ${file}; the limit is 65536 bytes (64 KiB) per value (values become environment variables)`,
      );
      if (file === 'BATON_OUTPUT') expect(outcome.outputs).toEqual({ ok: '1' });
    }
  });
});
