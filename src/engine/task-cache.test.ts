// The runner side of cached task results: the derived key (what changes it and what does not), an explicit key,
// and runTask on a hit (nothing runs, the cached outputs stand) and a miss (the key travels with the outcome).
// The lookup is an in-memory map standing for the server's answer: the engine's side of the contract only.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stepVisibleDir, tempDir } from '../../test/helpers/temp.ts';
import type { CacheLookupResponse } from '../protocol/cache.ts';
import type { AssignedTask } from '../protocol/plan.ts';
import { runnerContext } from './expressions.ts';
import { cacheKey, type TaskCacheAccess } from './task-cache.ts';
import { makeTask, runCollected } from './test-support.ts';

function keyOf(task: AssignedTask, version = 'baton/1', temp = '/w/1/tmp', env: Record<string, string> = {}) {
  const scope = { task, runner: runnerContext('r1', temp), secrets: {}, functions: {} };
  const k = cacheKey(task, scope, { ...env, ...task.context.imports }, version);
  if ('error' in k) throw new Error(k.error);
  return k.key;
}

function cachedTask(run: string, o: { imports?: Record<string, string>; key?: string } = {}) {
  return makeTask([{ run }], {
    cache: { ttlMs: 60_000, ...(o.key === undefined ? {} : { key: o.key }) },
    context: { imports: o.imports ?? { VAL: '1' } },
  });
}

function memoryCache(entries: Map<string, Record<string, string>>, asked: string[]): TaskCacheAccess {
  return {
    lookup: async (key): Promise<CacheLookupResponse> => {
      asked.push(key);
      const outputs = entries.get(key);
      return outputs === undefined
        ? { hit: false }
        : { hit: true, outputs, createdAt: new Date(0).toISOString(), ageMs: 65_000 };
    },
    driverVersion: () => 'baton/test',
  };
}

describe('cache key', () => {
  it('is stable for the same resolved task, whatever the work dir, and changes with imports, script or driver', () => {
    const base = keyOf(cachedTask('echo ${{ runner.temp }} $VAL'));
    expect(base).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(keyOf(cachedTask('echo ${{ runner.temp }} $VAL'), 'baton/1', '/w/2/tmp')).toBe(base);
    expect(keyOf(cachedTask('echo ${{ runner.temp }} $VAL', { imports: { VAL: '2' } }))).not.toBe(base);
    expect(keyOf(cachedTask('echo ${{ runner.temp }}  $VAL'))).not.toBe(base);
    expect(keyOf(cachedTask('echo ${{ runner.temp }} $VAL'), 'baton/2')).not.toBe(base);
  });

  it('never hashes a secret or confidential value: the key is published, and a hash of a weak secret could be guessed', () => {
    const withSecret = (value: string, imported: string) => {
      const task = makeTask([{ run: 'deploy --token ${{ secrets.TOKEN }} --db "$PW"' }], {
        cache: { ttlMs: 1 },
        context: { imports: { PW: imported }, mask: [imported] },
      });
      const scope = { task, runner: runnerContext('r1', '/t'), secrets: { TOKEN: value }, functions: {} };
      const k = cacheKey(task, scope, task.context.imports, 'baton/1');
      if ('error' in k) throw new Error(k.error);
      return k.key;
    };
    expect(withSecret('secret-aaaaaaaa', 'pw-111111111')).toBe(withSecret('secret-bbbbbbbb', 'pw-222222222'));
  });

  it('an explicit key is evaluated with the task contexts and replaces the derived one', () => {
    const task = makeTask([{ run: 'x' }], {
      cache: { ttlMs: 1, key: 'k-${{ inputs.v }}' },
      context: { inputs: { v: '7' } },
    });
    expect(keyOf(task)).toBe('k-7');
  });
});

describe('runTask with a cache', () => {
  it('an explicit key that holds a secret fails the task without publishing it', async () => {
    const task = makeTask([{ run: 'true' }], { cache: { ttlMs: 1, key: 'k-${{ secrets.TOKEN }}' } });
    const asked: string[] = [];
    const { outcome, system } = await runCollected(task, {
      workRoot: tempDir(),
      secrets: { TOKEN: 'secret-value-123' },
      cache: memoryCache(new Map(), asked),
    });
    expect(asked).toEqual([]);
    expect(outcome).toMatchObject({ status: 'failed', reason: 'setup_failed' });
    expect(system).toContain("'cache.key' holds a secret or confidential value");
    expect(JSON.stringify(outcome) + system).not.toContain('secret-value-123');
  });

  it('a hit runs nothing and succeeds with the cached outputs; the log says hit, key and age', async () => {
    const marker = join(stepVisibleDir(), 'ran');
    const task = cachedTask(`touch ${marker}; echo "out=fresh" >> "$BATON_OUTPUT"`);
    const asked: string[] = [];
    const key = keyOf(task, 'baton/test', '', task.workflowEnv);
    const { outcome, system } = await runCollected(task, {
      workRoot: tempDir(),
      cache: memoryCache(new Map([[key, { out: 'cached' }]]), asked),
    });
    expect(asked).toEqual([key]);
    expect(existsSync(marker)).toBe(false);
    expect(outcome).toMatchObject({
      status: 'succeeded',
      outputs: { out: 'cached' },
      cache: { key, hit: true },
    });
    expect(system).toContain(`cache hit: key ${key}, age 1m 5s`);
  });

  it('a miss runs the task and reports the key; an expression task misses and hits the same way', async () => {
    const task = cachedTask('echo "out=fresh" >> "$BATON_OUTPUT"');
    const entries = new Map<string, Record<string, string>>();
    const { outcome, system } = await runCollected(task, {
      workRoot: tempDir(),
      cache: memoryCache(entries, []),
    });
    expect(outcome).toMatchObject({ status: 'succeeded', outputs: { out: 'fresh' }, cache: { hit: false } });
    expect(system).toContain('cache miss: key sha256:');
    expect(system).toContain('cache: the result is stored under key');

    const expression = makeTask([], {
      type: 'expression',
      driverSpec: { expression: "format('v{0}', inputs.v)" },
      cache: { ttlMs: 60_000 },
      context: { inputs: { v: '3' } },
    });
    const missed = await runCollected(expression, { workRoot: tempDir(), cache: memoryCache(entries, []) });
    expect(missed.outcome).toMatchObject({ outputs: { result: 'v3' }, cache: { hit: false } });
    entries.set(missed.outcome.cache!.key, { result: 'from-cache' });
    const hit = await runCollected(expression, { workRoot: tempDir(), cache: memoryCache(entries, []) });
    expect(hit.outcome).toMatchObject({
      status: 'succeeded',
      outputs: { result: 'from-cache' },
      cache: { hit: true },
    });
  });
});
