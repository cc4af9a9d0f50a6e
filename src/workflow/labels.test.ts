import { describe, expect, it } from 'vitest';
import { compileWorkflow, type WorkflowIssue } from './index.ts';

function issues(text: string): WorkflowIssue[] {
  const result = compileWorkflow(text);
  return result.ok ? [] : result.issues;
}

describe('runs_on labels follow the runner label grammar', () => {
  it('refuses a 100,000-character label naming its length, the limit and its place', () => {
    const found = issues(
      `tasks:\n  a:\n    runs_on: [linux, ${'x'.repeat(100_000)}]\n    steps:\n      - run: echo\n`,
    );
    expect(found).toEqual([
      expect.objectContaining({
        code: 'invalid_value',
        line: 3,
        column: 22,
        path: 'tasks.a.runs_on[1]',
        message: expect.stringMatching(/is 100000 characters long; the limit is 100 characters per label/),
      }),
    ]);
    expect(found[0]!.message.length).toBeLessThan(300);
  });

  it('refuses a label with shell syntax', () => {
    const found = issues(`tasks:\n  a:\n    runs_on: '$(reboot)'\n    steps:\n      - run: echo\n`);
    expect(found).toEqual([
      expect.objectContaining({
        line: 3,
        message: expect.stringContaining("runs_on label '$(reboot)' of task 'a' is not a valid runner label"),
      }),
    ]);
  });

  it('checks runs-on of GitHub Actions jobs and labels made by a matrix', () => {
    expect(issues('jobs:\n  a:\n    runs-on: "bad label"\n    steps:\n      - run: echo\n')).toEqual([
      expect.objectContaining({ line: 3, message: expect.stringContaining("'bad label'") }),
    ]);
    const matrix = issues(
      'tasks:\n  a:\n    strategy: { matrix: { os: [linux, "b a d"] } }\n    runs_on: ["${{ matrix.os }}"]\n    steps:\n      - run: echo\n',
    );
    expect(matrix).toEqual([
      expect.objectContaining({
        line: 4,
        message: expect.stringContaining("runs_on label 'b a d' of task 'a (b a d)'"),
      }),
    ]);
  });

  it('refuses more labels than one runner may carry', () => {
    const labels = Array.from({ length: 51 }, (_, i) => `l${i}`).join(', ');
    expect(issues(`tasks:\n  a:\n    runs_on: [${labels}]\n    steps:\n      - run: echo\n`)).toEqual([
      expect.objectContaining({ code: 'limit_exceeded', message: expect.stringContaining('at most 50') }),
    ]);
  });

  it('accepts labels a runner can register with', () => {
    const result = compileWorkflow(
      'tasks:\n  a:\n    runs_on: [linux, gpu:a100, region/eu-1, x_86.64]\n    steps:\n      - run: echo\n',
    );
    expect(result.ok ? result.plan.tasks[0]!.runsOn : result.issues).toEqual([
      'linux',
      'gpu:a100',
      'region/eu-1',
      'x_86.64',
    ]);
  });
});

describe('runs_on as a map: all or any', () => {
  const compile = (runsOn: string) =>
    compileWorkflow(`tasks:\n  a:\n    runs_on: ${runsOn}\n    run: echo\n`);

  it('any: goes to runsOnAny; all: to runsOn, like a plain list', () => {
    const any = compile('{any: [arm, x86]}');
    expect(any.ok && any.plan.tasks[0]).toMatchObject({ runsOn: [], runsOnAny: ['arm', 'x86'] });
    const all = compile('{all: [linux, gpu]}');
    expect(all.ok && all.plan.tasks[0]).toMatchObject({ runsOn: ['linux', 'gpu'] });
    expect(all.ok && all.plan.tasks[0]!.runsOnAny).toBeUndefined();
  });

  it('a matrix fills the any labels per combination', () => {
    const result = compileWorkflow(
      'tasks:\n  a:\n    strategy: { matrix: { os: [linux, mac] } }\n    runs_on: { any: ["${{ matrix.os }}", fallback] }\n    run: echo\n',
    );
    expect(result.ok && result.plan.tasks.map((t) => t.runsOnAny)).toEqual([
      ['linux', 'fallback'],
      ['mac', 'fallback'],
    ]);
  });

  it('refuses more than 50 labels in any, naming the limit', () => {
    const labels = Array.from({ length: 51 }, (_, i) => `l${i}`).join(', ');
    const r = compile(`{any: [${labels}]}`);
    expect(r.ok ? [] : r.issues).toEqual([
      expect.objectContaining({
        code: 'limit_exceeded',
        message: "task 'a' lists 51 labels in runs_on.any; the limit is 50",
      }),
    ]);
  });

  it('refuses both keys, no key, an unknown key, an empty list and a bad label, each at its place', () => {
    const at = (runsOn: string) => {
      const r = compile(runsOn);
      return r.ok ? [] : r.issues.map((i) => ({ line: i.line, column: i.column, message: i.message }));
    };
    expect(at('{any: [a], all: [b]}')).toEqual([
      expect.objectContaining({ line: 3, column: 14, message: expect.stringContaining('it has both') }),
    ]);
    expect(at('{}')).toEqual([
      expect.objectContaining({ line: 3, message: expect.stringContaining("exactly one of 'all'") }),
    ]);
    expect(at('{one: [a]}')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          line: 3,
          column: 15,
          message: expect.stringContaining("unknown key 'one'"),
        }),
      ]),
    );
    expect(at('{any: []}')).toEqual([
      expect.objectContaining({
        line: 3,
        message: "'runs_on.any' of task 'a' must name at least one label",
      }),
    ]);
    expect(at('{any: [ok, "b a d"]}')).toEqual([
      expect.objectContaining({
        line: 3,
        column: 25,
        message: expect.stringContaining("runs_on label 'b a d' of task 'a'"),
      }),
    ]);
  });
});
