// `isolation`, `network` and `limits` on tasks and at the workflow's top level: plans and line/column issues.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Plan, TaskSpec } from '../protocol/plan.ts';
import { compileWorkflow } from './index.ts';
import type { WorkflowIssue } from './issues.ts';

function plan(text: string): Plan {
  const result = compileWorkflow(text);
  if (!result.ok) throw new Error(`expected a plan, got ${JSON.stringify(result.issues, null, 2)}`);
  return result.plan;
}

function issues(text: string): WorkflowIssue[] {
  const result = compileWorkflow(text);
  if (result.ok) throw new Error('expected issues, got a plan');
  return result.issues;
}

function task(p: Plan, name: string): TaskSpec {
  const found = p.tasks.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no task '${name}'`);
  return found;
}

describe('task requirements', () => {
  it('compiles isolation, network and limits on a task; a task without them requires nothing', () => {
    const p = plan(`
tasks:
  untrusted:
    isolation: sandbox
    network: false
    limits: { memory: 512M, pids: 256, cpu: 1.5 }
    run: make test
  plain:
    run: echo hi
`);
    expect(task(p, 'untrusted')).toMatchObject({
      isolation: 'sandbox',
      network: false,
      limits: { memoryBytes: 512 * 1024 ** 2, pids: 256, cpu: 1.5 },
    });
    const plain = task(p, 'plain');
    expect(plain.isolation).toBeUndefined();
    expect(plain.network).toBeUndefined();
    expect(plain.limits).toBeUndefined();
  });

  it('applies the workflow level to every task; a task overrides it, host meaning any runner', () => {
    const p = plan(`
isolation: sandbox
network: false
limits: { memory: 1G, pids: 100 }
tasks:
  inherits:
    run: make
  own:
    isolation: host
    network: true
    limits: { pids: 50, cpu: 2 }
    run: make
`);
    expect(task(p, 'inherits')).toMatchObject({
      isolation: 'sandbox',
      network: false,
      limits: { memoryBytes: 1024 ** 3, pids: 100 },
    });
    const own = task(p, 'own');
    expect(own.isolation).toBeUndefined();
    expect(own.network).toBeUndefined();
    // Limits merge key by key: the task's pids and cpu over the workflow's memory.
    expect(own.limits).toEqual({ memoryBytes: 1024 ** 3, pids: 50, cpu: 2 });
  });

  it('carries the requirements into every matrix expansion and into the list form', () => {
    const p = plan(`
tasks:
  - name: test
    isolation: sandbox
    limits: { memory: 256m }
    strategy: { matrix: { node: [20, 22] } }
    run: echo \${{ matrix.node }}
`);
    expect(p.tasks).toHaveLength(2);
    for (const t of p.tasks)
      expect(t).toMatchObject({ isolation: 'sandbox', limits: { memoryBytes: 256 * 1024 ** 2 } });
  });
});

describe('task requirement issues', () => {
  it('names the value, the place and the allowed range of every bad limit, all at once', () => {
    const found = issues(`
tasks:
  build:
    limits:
      memory: 512X
      pids: 0
      cpu: 2000
    run: make
`);
    expect(found).toEqual([
      expect.objectContaining({
        code: 'invalid_value',
        line: 5,
        column: 15,
        path: 'tasks.build.limits.memory',
        message: expect.stringMatching(
          /'memory' of 'limits' of task 'build' is 512X; .*K, M or G.*from 1M to 4096G/,
        ),
      }),
      expect.objectContaining({
        line: 6,
        column: 13,
        path: 'tasks.build.limits.pids',
        message: expect.stringMatching(/'pids' .* is 0; pids must be a whole number from 1 to 4194304/),
      }),
      expect.objectContaining({
        line: 7,
        column: 12,
        path: 'tasks.build.limits.cpu',
        message: expect.stringMatching(/'cpu' .* is 2000; cpu must be a number of CPUs from 0.01 to 1024/),
      }),
    ]);
  });

  it('refuses fractional pids, too little memory, a negative cpu and an unknown limit', () => {
    const found = issues(`
limits: { memory: 100K, cpu: -1 }
tasks:
  build:
    limits: { pids: 1.5, disk: 1G }
    run: make
`);
    expect(found.map((i) => [i.line, i.column, i.code])).toEqual([
      [2, 19, 'invalid_value'],
      [2, 30, 'invalid_value'],
      [5, 21, 'invalid_value'],
      [5, 26, 'unknown_key'],
    ]);
    expect(found[0]!.message).toContain("'memory' of 'limits' of the workflow is 100K");
    expect(found[3]!.message).toContain("unknown key 'disk' in 'limits' of task 'build'");
  });

  it('names a bad isolation and a network that is not a boolean, with their positions', () => {
    const found = issues(`
tasks:
  build:
    isolation: vm
    network: none
    run: make
`);
    expect(found).toEqual([
      expect.objectContaining({
        code: 'invalid_value',
        line: 4,
        column: 16,
        message:
          "'isolation' of task 'build' is 'vm'; use sandbox (only sandboxed runners take the task) or host (any runner)",
      }),
      expect.objectContaining({
        code: 'invalid_type',
        line: 5,
        column: 14,
        message: expect.stringContaining("'network' of task 'build' must be true or false"),
      }),
    ]);
  });

  it('reports limits that are not a map', () => {
    const found = issues('tasks:\n  build:\n    limits: 512M\n    run: make\n');
    expect(found).toEqual([
      expect.objectContaining({ code: 'invalid_type', line: 3, column: 13, path: 'tasks.build.limits' }),
    ]);
  });
});

describe('other dialects', () => {
  it('a GitHub Actions job that says isolation is pointed to the native format, at its line and column', () => {
    const found = issues(
      'on: push\njobs:\n  test:\n    runs-on: linux\n    isolation: sandbox\n    steps:\n      - run: make\n',
    );
    expect(found).toEqual([
      expect.objectContaining({
        code: 'unknown_key',
        line: 5,
        column: 5,
        message: expect.stringContaining(
          "GitHub Actions has no 'isolation': write the workflow in Baton's native format",
        ),
      }),
    ]);
  });
});

describe('limits, property', () => {
  it('any memory, pids or cpu value either compiles within its range or is one issue at its own line that shows it', () => {
    const value = fc.oneof(
      fc.integer({ min: -10, max: 2 ** 53 }),
      fc.double({ noNaN: true, min: -5, max: 5000 }),
      fc
        .tuple(
          fc.double({ noNaN: true, min: 0, max: 10_000 }),
          fc.constantFrom('K', 'M', 'G', 'k', 'T', '', 'Mi'),
        )
        .map(([n, unit]) => `${n}${unit}`),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.constantFrom('memory', 'pids', 'cpu'), value, (key, raw) => {
        const text = `tasks:\n  t:\n    run: x\n    limits:\n      ${key}: ${JSON.stringify(raw)}\n`;
        const result = compileWorkflow(text);
        if (result.ok) {
          const limits = result.plan.tasks[0]!.limits!;
          if (key === 'memory') expect(limits.memoryBytes).toBeGreaterThanOrEqual(1024 ** 2);
          if (key === 'memory') expect(limits.memoryBytes).toBeLessThanOrEqual(4 * 1024 ** 4);
          if (key === 'pids') expect(Number.isInteger(limits.pids)).toBe(true);
          if (key === 'cpu') expect(limits.cpu).toBeGreaterThanOrEqual(0.01);
          if (key === 'cpu') expect(limits.cpu).toBeLessThanOrEqual(1024);
        } else {
          expect(result.issues).toHaveLength(1);
          expect(result.issues[0]).toMatchObject({ line: 5, path: `tasks.t.limits.${key}` });
          expect(result.issues[0]!.message).toContain(`'${key}' of 'limits' of task 't' is `);
        }
      }),
      { numRuns: 300 },
    );
  });
});
