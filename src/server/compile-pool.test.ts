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
    // Another text: an identical one would share the running compile rather than wait.
    const waiting = p.compile(`${SLOW}# again\n`, {});
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

  it('answers a workflow compiled before from its cache, without the worker, as a copy of its own', async () => {
    const p = pool({ workers: 1, maxQueued: 0 });
    const text = 'tasks:\n  a:\n    run: echo hi\n';
    const first = await p.compile(text, { fileName: 'w.yml' });
    expect(p.cached.entries).toBe(1);
    if (first.ok) first.plan.tasks.length = 0; // the caller changes what it got
    // The worker is busy and nothing may wait: only the cache can answer.
    const running = p.compile(SLOW, {});
    const again = await p.compile(text, { fileName: 'w.yml' });
    expect(again.ok && again.plan.tasks.map((t) => t.name)).toEqual(['a']);
    const refused = await p.compile(`${text}# another text\n`, {}).catch((error: unknown) => error);
    expect((refused as BatonError).httpStatus).toBe(503);
    // The options are part of the key: another file name is another compile, refused while the worker is busy.
    const other = await p.compile(text, { fileName: 'x.yml' }).catch((error: unknown) => error);
    expect((other as BatonError).httpStatus).toBe(503);
    await running;
  });

  it('gives identical submissions waiting at once one compile, and each caller its own copy', async () => {
    const p = pool({ workers: 1, maxQueued: 1 });
    const running = p.compile(SLOW, {});
    const text = 'tasks:\n  a:\n    run: echo one\n  b:\n    run: echo two\n';
    const waiting = [p.compile(text, {}), p.compile(text, {}), p.compile(text, {})];
    // The queue holds one: the two others follow it rather than being refused.
    const results = await Promise.all(waiting);
    for (const r of results) expect(r.ok && r.plan.tasks.map((t) => t.name)).toEqual(['a', 'b']);
    expect(new Set(results).size).toBe(3);
    expect(p.cached.entries).toBe(2);
    await running;
  });

  it('keeps at most cacheEntries results and none bigger than cacheBytes, dropping the oldest used', async () => {
    const p = pool({ cacheEntries: 2 });
    const w = (n: number) => `tasks:\n  a${n}:\n    run: echo ${n}\n`;
    await p.compile(w(1), {});
    await p.compile(w(2), {});
    await p.compile(w(1), {}); // used again: now w(2) is the oldest used
    await p.compile(w(3), {});
    expect(p.cached.entries).toBe(2);
    // w(1) is still kept: with the worker busy and no room to wait, it is answered; w(2) is not.
    const q = pool({ workers: 1, maxQueued: 0, cacheEntries: 2 });
    await q.compile(w(1), {});
    await q.compile(w(2), {});
    await q.compile(w(1), {});
    await q.compile(w(3), {});
    const running = q.compile(SLOW, {});
    expect((await q.compile(w(1), {})).ok).toBe(true);
    expect(((await q.compile(w(2), {}).catch((e: unknown) => e)) as BatonError).httpStatus).toBe(503);
    await running;

    const small = pool({ cacheBytes: 10 });
    expect((await small.compile(w(1), {})).ok).toBe(true);
    expect(small.cached).toEqual({ entries: 0, bytes: 0 });
  });

  it('keeps a workflow refused by the compiler, never one stopped by the time limit', async () => {
    const p = pool({});
    const bad = await p.compile('tasks:\n  a:\n    bogus: 1\n    run: echo\n', {});
    expect(bad.ok).toBe(false);
    expect(p.cached.entries).toBe(1);
    const q = pool({ timeoutMs: 1 });
    const slow = await q.compile(SLOW, {});
    expect(slow.ok ? [] : slow.issues.map((i) => i.code)).toEqual(['limit_exceeded']);
    expect(q.cached.entries).toBe(0);
  });
});
