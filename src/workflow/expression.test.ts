// The `${{ }}` language: tokens, parse trees, evaluation with GitHub semantics, and templates.

import { describe, expect, it } from 'vitest';
import { tokenize } from './expression-lexer.ts';
import { ExpressionError, evaluateTemplate, parseExpression, type ExpressionContext } from './index.ts';

const ctx: ExpressionContext = {
  inputs: { version: '1.2', empty: '' },
  env: { GREETING: 'hello', 'my-var': 'dash' },
  tasks: { build: { outputs: { artifact: 'out.tgz', count: '3' }, result: 'success' } },
  run: { id: 'r1', name: 'nightly' },
};
const value = (expr: string) => evaluateTemplate(`\${{ ${expr} }}`, ctx);

function errorOf(action: () => unknown): ExpressionError {
  try {
    action();
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
  throw new Error('expected an ExpressionError');
}

describe('expression lexer', () => {
  it('reads literals, names and operators with their positions', () => {
    expect(
      tokenize("a.b['c'] == 'it''s' && !false || -1.5 != null").map((t) => [
        t.kind,
        t.value ?? t.text,
        t.position,
      ]),
    ).toEqual([
      ['identifier', 'a', 0],
      ['dot', '.', 1],
      ['identifier', 'b', 2],
      ['lbracket', '[', 3],
      ['string', 'c', 4],
      ['rbracket', ']', 7],
      ['eq', '==', 9],
      ['string', "it's", 12],
      ['and', '&&', 20],
      ['not', '!', 23],
      ['false', 'false', 24],
      ['or', '||', 30],
      ['number', -1.5, 33],
      ['ne', '!=', 38],
      ['null', 'null', 41],
      ['eof', '', 45],
    ]);
  });

  it('reads hexadecimal and exponent numbers', () => {
    expect(tokenize('0xff 1e3').map((t) => t.value)).toEqual([255, 1000, undefined]);
  });

  it('refuses an unterminated string and an unknown character with their position', () => {
    expect(errorOf(() => tokenize("a == 'oops")).position).toBe(5);
    expect(errorOf(() => tokenize('a # b')).message).toBe(
      "unexpected character '#' at position 3 in 'a # b'",
    );
  });
});

describe('expression parser', () => {
  it('binds && tighter than || and comparisons tighter than &&', () => {
    const tree = parseExpression('a || b && c == d');
    expect(tree).toMatchObject({
      kind: 'logical',
      operator: '||',
      operands: [
        { kind: 'context', name: 'a' },
        { kind: 'logical', operator: '&&', operands: [{ name: 'b' }, { kind: 'compare', operator: '==' }] },
      ],
    });
  });

  it('builds property and index access chains', () => {
    expect(parseExpression("tasks.build['outputs'].x")).toMatchObject({
      kind: 'property',
      name: 'x',
      object: {
        kind: 'index',
        index: { value: 'outputs' },
        object: { kind: 'property', name: 'build', object: { kind: 'context', name: 'tasks' } },
      },
    });
  });

  it.each([
    ['', 'empty expression at position 1'],
    ['a ==', 'unexpected end of expression at position 5'],
    ['(a', "expected ')' before the end of the expression at position 3"],
    ['a.', "expected a property name after '.' at position 3"],
    ['a b', "unexpected 'b' at position 3"],
    [
      'contain(a, b)',
      "unknown function 'contain()'; functions are contains, startsWith, endsWith, format, join, toJSON, fromJSON, case, hashFiles, success, failure, always, cancelled at position 1",
    ],
    ['contains(a)', 'contains() takes 2 arguments, not 1 at position 1'],
    ['a.*.', "expected a property name after '.' at position 5"],
    ["a['x'", "expected ']' before the end of the expression at position 6"],
  ])('refuses %j: %s', (source, reason) => {
    expect(errorOf(() => parseExpression(source)).message).toBe(`${reason} in '${source}'`);
  });

  it('refuses nesting deeper than 64 levels instead of overflowing the stack', () => {
    expect(errorOf(() => parseExpression(`${'!'.repeat(100_000)}a`)).message).toContain(
      'nests deeper than 64 levels',
    );
    expect(parseExpression(`${'('.repeat(60)}1${')'.repeat(60)}`)).toEqual({
      kind: 'literal',
      value: 1,
      position: 60,
    });
  });
});

describe('expression evaluation', () => {
  it('reads every context; needs is tasks by its GitHub name', () => {
    expect(value('inputs.version')).toBe('1.2');
    expect(value('env.GREETING')).toBe('hello');
    expect(value("env['my-var']")).toBe('dash');
    expect(value('tasks.build.outputs.artifact')).toBe('out.tgz');
    expect(value('needs.build.result')).toBe('success');
    expect(value('run.id')).toBe('r1');
  });

  it('gives an empty string for anything missing, prototype names included', () => {
    expect(value('inputs.nope')).toBe('');
    expect(value('tasks.nope.outputs.x')).toBe('');
    expect(value('inputs.constructor')).toBe('');
    expect(value("env['__proto__']")).toBe('');
    expect(value('inputs.version.length')).toBe('');
  });

  it('stringifies like GitHub: null as empty, booleans and numbers as text, objects as Object', () => {
    expect(value('null')).toBe('');
    expect(value('true')).toBe('true');
    expect(value('1.50')).toBe('1.5');
    expect(value('tasks.build.outputs')).toBe('Object');
    expect(value('tasks.*.result')).toBe('Array');
  });

  it('compares loosely: strings ignore case, mixed types compare as numbers', () => {
    expect(value("env.GREETING == 'HELLO'")).toBe('true');
    expect(value('tasks.build.outputs.count == 3')).toBe('true');
    expect(value("'' == 0")).toBe('true');
    expect(value("null == ''")).toBe('true');
    expect(value("'abc' == 0")).toBe('false');
    expect(value("'abc' != 0")).toBe('true');
    expect(value('true == 1')).toBe('true');
    expect(value('2 > 10')).toBe('false');
    expect(value("'2' < '10'")).toBe('false');
  });

  it('returns operands from && and ||, and booleans from !', () => {
    expect(value("inputs.empty || 'fallback'")).toBe('fallback');
    expect(value("inputs.version && 'yes'")).toBe('yes');
    expect(value("inputs.empty && 'yes'")).toBe('');
    expect(value('!inputs.empty')).toBe('true');
    expect(value("!(tasks.build.result == 'success')")).toBe('false');
  });
});

describe('evaluateTemplate', () => {
  it('replaces every placeholder and keeps the text around them', () => {
    expect(evaluateTemplate('v${{ inputs.version }}-${{ run.name }}!', ctx)).toBe('v1.2-nightly!');
    expect(evaluateTemplate('no placeholders ${ { }}', ctx)).toBe('no placeholders ${ { }}');
  });

  it("does not end an expression at '}}' inside a quoted string", () => {
    expect(evaluateTemplate("${{ '}}' }}", ctx)).toBe('}}');
  });

  it('throws ExpressionError for bad syntax and unknown contexts at run time', () => {
    expect(errorOf(() => evaluateTemplate('${{ inputs. }}', ctx)).expression).toBe(' inputs. ');
    expect(errorOf(() => evaluateTemplate('${{ secret.TOKEN }}', ctx)).message).toBe(
      "unknown context 'secret'; use one of inputs, env, tasks, needs, matrix, run, runner, steps, secrets, imports at position 1 in 'secret.TOKEN'",
    );
    expect(errorOf(() => evaluateTemplate('echo ${{ env.A', ctx)).message).toContain(
      "unterminated expression: missing '}}'",
    );
  });
});
