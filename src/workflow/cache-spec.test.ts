// `cache: {key?, ttl}` read from the native and Harness dialects, and its mistakes reported with line:column.
import { describe, expect, it } from 'vitest';
import { compileWorkflow } from './index.ts';

function issues(text: string): string[] {
  const result = compileWorkflow(text);
  if (result.ok) throw new Error('expected issues, got a plan');
  return result.issues.map((i) => `${i.line}:${i.column} ${i.message}`);
}

describe('cache: on a task', () => {
  it('compiles a ttl and a key with expressions in the native dialect', () => {
    const result = compileWorkflow(`
inputs:
  version: '1'
tasks:
  build:
    run: make
    cache: { key: 'build-\${{ inputs.version }}', ttl: 1h30m }
  test:
    run: make test
    cache: { ttl: 90 }
`);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.plan.tasks[0]!.cache).toEqual({ key: 'build-${{ inputs.version }}', ttlMs: 5_400_000 });
    expect(result.plan.tasks[1]!.cache).toEqual({ ttlMs: 90_000 });
  });

  it('compiles cache on a Harness task', () => {
    const result = compileWorkflow(`
taskGroup:
  - name: foo
    type: os_exec
    spec: { command: echo hi }
    cache: { ttl: 10m }
`);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.plan.tasks[0]!.cache).toEqual({ ttlMs: 600_000 });
  });

  it('refuses a missing ttl, a ttl over the limit, an unknown key and a bad expression, with line:column', () => {
    const found = issues(`
tasks:
  a:
    run: x
    cache: { key: k }
  b:
    run: x
    cache: { ttl: 8d }
  c:
    run: x
    cache: { ttl: 1h, size: 3 }
  d:
    run: x
    cache: { ttl: 1h, key: '\${{ inputs.nope }}' }
`);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^5:12 'cache' of task 'a' needs 'ttl'/),
        expect.stringMatching(/^8:19 'cache.ttl' of task 'b' is 691200000 ms; the limit is 604800000 ms/),
        "11:23 unknown key 'size' in 'cache' of task 'c'; allowed keys: key, ttl",
        "14:28 'cache.key' of task 'd' reads inputs.nope but the workflow declares no input 'nope'",
      ]),
    );
  });

  it('refuses cache on a task with a confidential export', () => {
    const found = issues(`
tasks:
  a:
    run: x
    exports: [{ name: token, confidential: true }]
    cache: { ttl: 1h }
`);
    expect(found).toEqual([
      expect.stringMatching(/^6:12 'cache' of task 'a'.*confidential outputs are never cached/),
    ]);
  });
});
