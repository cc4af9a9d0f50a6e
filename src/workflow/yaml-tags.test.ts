import { describe, expect, it } from 'vitest';
import { compileWorkflow, type WorkflowIssue } from './index.ts';

function issues(text: string): WorkflowIssue[] {
  const result = compileWorkflow(text);
  return result.ok ? [] : result.issues;
}

describe('YAML tags outside the core schema', () => {
  it.each([
    ['!!js/function', '!!js/function "function () { return 1 }"'],
    ['!custom', '!custom hello'],
    ['!!binary', '!!binary aGVsbG8='],
    ['!!set', '!!set { a, b }'],
    ['!!timestamp', '!!timestamp 2001-12-14'],
  ])('refuses %s with its location', (tag, value) => {
    const found = issues(`tasks:\n  a:\n    steps:\n      - run: ${value}\n`);
    expect(found).toContainEqual(
      expect.objectContaining({
        code: 'invalid_value',
        line: 4,
        message: expect.stringContaining(`YAML tag '${tag}' is not allowed`),
      }),
    );
  });

  it('refuses a foreign tag on a key and inside a flow collection', () => {
    const found = issues('tasks:\n  a: { steps: [ { run: echo, env: { !k X: !custom v } } ] }\n');
    expect(found.filter((issue) => issue.message.includes('YAML tag'))).toHaveLength(2);
    expect(found.every((issue) => issue.line === 2)).toBe(true);
  });

  it('accepts the core schema tags and the non-specific !', () => {
    const result = compileWorkflow(
      'tasks:\n  a:\n    env: !!map { A: !!str 5, B: ! 7, C: !!int 3 }\n    steps: !!seq\n      - run: !!str echo hi\n',
    );
    expect(result.ok ? [] : result.issues).toEqual([]);
  });
});
