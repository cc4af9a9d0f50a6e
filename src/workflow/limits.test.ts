// Limits and hostile input: each is refused with an issue naming the limit (never a crash or a hang).

import { describe, expect, it } from 'vitest';
import { compileWorkflow, DEFAULT_WORKFLOW_LIMITS, type WorkflowIssue } from './index.ts';
import type { WorkflowLimits } from './limits.ts';

function issues(text: string | Uint8Array, limits?: Partial<WorkflowLimits>): WorkflowIssue[] {
  const result = compileWorkflow(text, limits === undefined ? {} : { limits });
  if (result.ok) throw new Error('expected issues, got a plan');
  return result.issues;
}

function manyTasks(count: number): string {
  return `tasks:\n${Array.from({ length: count }, (_, i) => `  t${i}: { run: x }\n`).join('')}`;
}

describe('workflow limits', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_WORKFLOW_LIMITS).toEqual({
      maxBytes: 1_048_576,
      maxDepth: 64,
      maxAliases: 100,
      maxTasks: 1000,
      maxMatrixSize: 256,
      maxStepsPerTask: 100,
      maxEnvVars: 1000,
      maxEnvValueBytes: 65_536,
      maxEnvTotalBytes: 1_048_576,
      maxInputValueBytes: 65_536,
      maxInputsTotalBytes: 1_048_576,
    });
  });

  it('refuses a workflow over maxBytes before parsing it, at line 1 column 1', () => {
    const text = `tasks: [${'x'.repeat(5 * 1024 * 1024)}`; // also broken YAML: size wins, parsing never starts
    expect(issues(text)).toEqual([
      {
        code: 'limit_exceeded',
        message: 'workflow is 5242888 bytes; the limit is 1048576 bytes (1 MiB) per workflow',
        line: 1,
        column: 1,
        path: '',
      },
    ]);
  });

  it('measures the size in bytes, not characters', () => {
    expect(issues(`# ${'é'.repeat(600)}\ntasks: { a: { run: x } }`, { maxBytes: 1000 })[0]?.message).toBe(
      'workflow is 1227 bytes; the limit is 1000 bytes per workflow',
    );
  });

  it('accepts 1000 tasks and refuses 1001, naming the limit', () => {
    expect(compileWorkflow(manyTasks(1000)).ok).toBe(true);
    expect(issues(manyTasks(1001))).toEqual([
      {
        code: 'limit_exceeded',
        message: 'workflow has 1001 tasks; the limit is 1000 tasks per run',
        line: 2,
        column: 3,
        path: 'tasks',
      },
    ]);
  });

  it('refuses 100,000 tasks even when the size limit allows the file', () => {
    const found = issues(manyTasks(100_000), { maxBytes: 10 * 1024 * 1024 });
    expect(found.map((issue) => issue.message)).toEqual([
      'workflow has 100000 tasks; the limit is 1000 tasks per run',
    ]);
  });

  it('refuses more steps per task than maxStepsPerTask', () => {
    const steps = Array.from({ length: 101 }, () => '      - run: x\n').join('');
    expect(issues(`tasks:\n  a:\n    steps:\n${steps}`)).toEqual([
      {
        code: 'limit_exceeded',
        message: "task 'a' has 101 steps; the limit is 100 steps per task",
        line: 4,
        column: 7,
        path: 'tasks.a.steps',
      },
    ]);
  });

  it('refuses an env value over maxEnvValueBytes', () => {
    const big = 'v'.repeat(65_537);
    expect(issues(`tasks:\n  a:\n    run: x\n    env: { BIG: ${big} }\n`)).toEqual([
      {
        code: 'limit_exceeded',
        message: "env 'BIG' of task 'a' is 65537 bytes; the limit is 65536 bytes (64 KiB) per value",
        line: 4,
        column: 17,
        path: 'tasks.a.env.BIG',
      },
    ]);
  });

  it('counts workflow, task and step env together against maxEnvTotalBytes', () => {
    const text =
      'env: { A: aaaaaaaaaa }\ntasks:\n  t:\n    env: { B: bbbbbbbbbb }\n    steps: [{ run: x, env: { C: cccccccccc } }]\n';
    expect(issues(text, { maxEnvTotalBytes: 30 })).toEqual([
      {
        code: 'limit_exceeded',
        message:
          "env of task 't' is 39 bytes (workflow, task and step env together); the limit is 30 bytes per task",
        line: 3,
        column: 3,
        path: 'tasks.t',
      },
    ]);
  });

  it('refuses a task that sets more variables than maxEnvVars, counting each name once, at the task', () => {
    const many = Array.from({ length: 1001 }, (_, i) => `      V${i}: x\n`).join('');
    expect(issues(`env: { V0: w }\ntasks:\n  t:\n    run: x\n    env:\n${many}`)).toEqual([
      {
        code: 'limit_exceeded',
        message:
          "env of task 't' sets 1001 variables (workflow, task and step env and imports together); the limit is 1000 per task",
        line: 3,
        column: 3,
        path: 'tasks.t',
      },
    ]);
    const text = 'env: { A: a }\ntasks:\n  t:\n    env: { B: b }\n    steps: [{ run: x, env: { A: c } }]\n';
    expect(issues(text, { maxEnvVars: 1 })[0]?.message).toBe(
      "env of task 't' sets 2 variables (workflow, task and step env and imports together); the limit is 1 per task",
    );
    expect(compileWorkflow(text, { limits: { maxEnvVars: 2 } }).ok).toBe(true);
    const imports =
      'tasks:\n  a: { run: x, exports: [v] }\n  t:\n    depends_on: [a]\n    env: { B: b }\n    imports: [{ from: a, variable: v }]\n    run: x\n';
    expect(issues(imports, { maxEnvVars: 1 })[0]?.message).toBe(
      "env of task 't' sets 2 variables (workflow, task and step env and imports together); the limit is 1 per task",
    );
  });

  it('refuses more alias uses than maxAliases', () => {
    const uses = Array.from({ length: 101 }, (_, i) => `  t${i}: *task\n`).join('');
    expect(issues(`x: &task { run: x }\ntasks:\n${uses}`)).toEqual([
      {
        code: 'limit_exceeded',
        message: 'workflow uses more than 100 aliases; the limit is 100 alias uses per workflow',
        line: 103,
        column: 9,
        path: '',
      },
    ]);
  });
});

describe('hostile input', () => {
  it('refuses an alias bomb (a billion laughs) without expanding it', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const name = String.fromCharCode(97 + i);
      levels.push(
        `${name}: &${name} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    }
    expect(compileWorkflow(`${levels.join('\n')}\ntasks: *j\n`).ok).toBe(false);
    expect(compileWorkflow(`${levels.join('\n')}\ntasks:\n  t:\n    run: x\n    env: *j\n`).ok).toBe(false);
  });

  it('refuses aliases that multiply one large value across many tasks', () => {
    const steps = Array(100).fill('*s').join(', ');
    const tasks = Array.from({ length: 1000 }, (_, i) => `  t${i}: *t\n`).join('');
    const text = `x: &s { run: "${'y'.repeat(100_000)}" }\ny: &t { steps: [${steps}] }\ntasks:\n${tasks}`;
    expect(issues(text)).toEqual([
      {
        code: 'limit_exceeded',
        message: 'workflow uses more than 100 aliases; the limit is 100 alias uses per workflow',
        line: 104,
        column: 9,
        path: '',
      },
    ]);
  });

  it('refuses flow nesting 10,000 deep', () => {
    expect(issues(`tasks: ${'['.repeat(10_000)}${']'.repeat(10_000)}`)).toEqual([
      {
        code: 'limit_exceeded',
        message: 'workflow nests collections at least 65 levels deep; the limit is 64 levels',
        line: 1,
        column: 72,
        path: '',
      },
    ]);
  });

  it('refuses a whole megabyte of open brackets', () => {
    expect(issues('['.repeat(1024 * 1024))[0]?.code).toBe('limit_exceeded');
  });

  it('refuses block nesting 10,000 deep on one line', () => {
    expect(issues(`tasks:\n  a:\n    run: x\n    env: ${'- '.repeat(10_000)}x\n`)[0]?.message).toBe(
      'workflow nests collections at least 65 levels deep; the limit is 64 levels',
    );
  });

  it('refuses deep nesting by indentation with the exact depth', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
    expect(issues(`${lines} x\n`)).toEqual([
      {
        code: 'limit_exceeded',
        message: 'workflow nests collections 100 levels deep; the limit is 64 levels',
        line: 65,
        column: 65,
        path: '',
      },
    ]);
  });

  it('refuses an expression nested 10,000 parentheses deep', () => {
    const found = issues(`tasks:\n  a: { run: "\${{ ${'('.repeat(10_000)}1${')'.repeat(10_000)} }}" }\n`);
    expect(found[0]?.code).toBe('invalid_expression');
    expect(found[0]?.message).toContain('expression nests deeper than 64 levels');
  });

  it('refuses an alias that refers to its own enclosing node', () => {
    expect(issues('tasks: &t { a: { run: x, env: *t } }\n').length).toBeGreaterThan(0);
  });
});
