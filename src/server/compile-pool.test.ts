import { afterEach, describe, expect, it } from 'vitest';
import { BatonError } from '../protocol/errors.ts';
import { CompilePool } from './compile-pool.ts';

const pools: CompilePool[] = [];
function pool(options: ConstructorParameters<typeof CompilePool>[0]): CompilePool {
  const created = new CompilePool(options);
  pools.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

/** About 1 MiB of unknown keys: slow enough to keep the worker busy for a while. */
const SLOW = `tasks:\n  a:\n    steps:\n      - run: x\n${Array.from({ length: 60_000 }, (_, i) => `    k${i}: 1\n`).join('')}`;

describe('CompilePool', () => {
  it('compiles in a worker: the same plan or issues as compileWorkflow', async () => {
    const p = pool({});
    const ok = await p.compile('tasks:\n  a:\n    run: echo hi\n', { fileName: 'w.yml' });
    expect(ok.ok && ok.plan.tasks.map((t) => t.name)).toEqual(['a']);
    const bad = await p.compile('tasks:\n  a:\n    bogus: 1\n    run: echo\n', {});
    expect(bad.ok ? [] : bad.issues.map((i) => [i.line, i.code])).toEqual([[3, 'unknown_key']]);
  });

  it('refuses a submission past the queue bound with 503 unavailable naming the limit', async () => {
    const p = pool({ workers: 1, maxQueued: 1 });
    const running = p.compile(SLOW, {});
    const waiting = p.compile(SLOW, {});
    const refused = await p.compile('tasks: {a: {run: x}}', {}).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BatonError);
    expect((refused as BatonError).httpStatus).toBe(503);
    expect((refused as BatonError).message).toContain('the limit is 1 waiting submissions');
    await Promise.all([running, waiting]);
  });

  it('refuses a workflow that outlasts the time limit with one limit_exceeded issue', async () => {
    const p = pool({ timeoutMs: 1 });
    const slow = await p.compile(SLOW, {});
    expect(slow.ok ? [] : slow.issues).toEqual([
      expect.objectContaining({
        code: 'limit_exceeded',
        message: expect.stringContaining('took longer than 1 ms'),
      }),
    ]);
  });
});
