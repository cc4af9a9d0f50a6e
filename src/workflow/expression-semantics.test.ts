// The expression language against GitHub Actions' documented semantics: literals, operators,
// loose equality, truthiness, the `*` filter, functions, contexts and `if` conditions.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate, type ExprValue } from './expression-eval.ts';
import { parseExpression } from './expression-parser.ts';
import {
  conditionUsesStatus,
  evaluateCondition,
  evaluateTemplate,
  ExpressionError,
  type ExpressionContext,
  type StatusContext,
} from './index.ts';

const ctx: ExpressionContext = {
  inputs: { version: '1.2', empty: '', count: '3' },
  env: { GREETING: 'hello', EMPTY: '' },
  tasks: {
    build: { outputs: { artifact: 'out.tgz', count: '3' }, result: 'success' },
    lint: { outputs: {}, result: 'failure' },
  },
  matrix: { os: 'linux', node: 18, experimental: false },
  run: { id: 'r1', name: 'nightly' },
  runner: { name: 'r-1', os: 'Linux', arch: 'X64', temp: '/tmp/baton' },
  steps: { compile: { outputs: { version: '2.0' }, outcome: 'failure', conclusion: 'success' } },
  secrets: { TOKEN: 's3cret' },
  imports: { PASSWORD: 'hunter2' },
};
const passing: StatusContext = { success: true, failure: false, cancelled: false };
const failing: StatusContext = { success: false, failure: true, cancelled: false };
const cancelled: StatusContext = { success: false, failure: false, cancelled: true };
const hashFiles = (patterns: string[]) => `hash(${patterns.join('|')})`;

function value(source: string): ExprValue {
  return evaluate(parseExpression(source), ctx, source, { status: passing, functions: { hashFiles } });
}

function errorOf(action: () => unknown): ExpressionError {
  try {
    action();
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
  throw new Error('expected an ExpressionError');
}

const CASES: Array<[source: string, expected: ExprValue]> = [
  // literals
  ['null', null],
  ['true', true],
  ['711', 711],
  ['-9.2', -9.2],
  ['0xff', 255],
  ['-2.99e-2', -0.0299],
  ["'Mona the Octocat'", 'Mona the Octocat'],
  ["'It''s open source!'", "It's open source!"],
  // loose equality: same types directly, strings ignoring case, mixed types as numbers
  ['1 == 1.0', true],
  ["'abc' == 'ABC'", true],
  ['null == 0', true],
  ['false == 0', true],
  ['true == 1', true],
  ["'' == 0", true],
  ["' 1 ' == 1", true],
  ["'0x10' == 16", true],
  ["'abc' == 0", false],
  ["'abc' != 0", true],
  ["'true' == true", false],
  ['null == null', true],
  ["null == ''", true],
  ["fromJSON('{}') == fromJSON('{}')", false],
  ['env == env', true],
  ["fromJSON('[1]') == 1", false],
  // ordering
  ['1 < 2', true],
  ["'a' < 'B'", true],
  ["'2' < '10'", false],
  ["2 > '10'", false],
  ['true > false', true],
  ['null < 1', true],
  ["'abc' < 1", false],
  ["'abc' >= 1", false],
  ['2 >= 2', true],
  ['2 <= 1', false],
  // logical operators return operands; ! returns a boolean
  ["'a' && 'b'", 'b'],
  ["'' && 'b'", ''],
  ["0 || 'x'", 'x'],
  ["'a' || 'b'", 'a'],
  ['null || null', null],
  ['!0', true],
  ["!'0'", false],
  ["!!'false'", true],
  ["!fromJSON('[]')", false],
  ["!fromJSON('{}')", false],
  ['true || false && false', true],
  ['!true == false', true],
  ['(1 == 1) == true', true],
  ["inputs.empty || 'default'", 'default'],
  // functions
  ["contains('Hello world', 'llo')", true],
  ["contains('Hello', 'LLO')", true],
  ['contains(fromJSON(\'["bug", "help wanted"]\'), \'BUG\')', true],
  ["contains(fromJSON('[1, 2]'), '2')", true],
  ["contains(fromJSON('[1, 2]'), 3)", false],
  ['contains(123, 2)', true],
  ["startsWith('Hello world', 'he')", true],
  ["endsWith('Hello world', 'LD')", true],
  ["startsWith('Hello', 'world')", false],
  ["format('Hello {0} {1} {2}', 'Mona', 'the', 'Octocat')", 'Hello Mona the Octocat'],
  ["format('{{Hello {0} {1} {2}!}}', 'Mona', 'the', 'Octocat')", '{Hello Mona the Octocat!}'],
  ["format('{0}-{0}', true)", 'true-true'],
  ['join(fromJSON(\'["a", "b"]\'), \', \')', 'a, b'],
  ['join(fromJSON(\'["a", "b"]\'))', 'a,b'],
  ["join('abc')", 'abc'],
  ["join(fromJSON('[1, true, null]'), '-')", '1-true-'],
  ['toJSON(fromJSON(\'{"a": 1}\'))', '{\n  "a": 1\n}'],
  ["toJSON('x')", '"x"'],
  ['toJSON(null)', 'null'],
  ["fromJSON('true')", true],
  ['fromJSON(\'{"a": {"b": 2}}\').a.b', 2],
  ["fromJSON('[10, 20]')[1]", 20],
  ["fromJSON('[10, 20]')['1']", 20],
  ["fromJSON('[10, 20]')[5]", null],
  ["hashFiles('**/package-lock.json', 'x')", 'hash(**/package-lock.json|x)'],
  ['toJson(inputs.version)', '"1.2"'],
  ['success()', true],
  ['always()', true],
  ['failure()', false],
  ['cancelled()', false],
  // the object filter
  ['tasks.*.result', ['success', 'failure']],
  ["contains(needs.*.result, 'failure')", true],
  ['fromJSON(\'[{"name": "a"}, {"name": "b"}, {"x": 1}]\').*.name', ['a', 'b']],
  ['fromJSON(\'{"a": {"n": 1}, "b": {"n": 2}}\').*.n', [1, 2]],
  ["fromJSON('[[1, 2], [3]]').*.*", [1, 2, 3]],
  ["fromJSON('[1, 2]')[*]", [1, 2]],
  ["('abc').*", []],
  ["join(tasks.*.outputs.count, '+')", '3'],
  // contexts and property access
  ['inputs.version', '1.2'],
  ["inputs['version']", '1.2'],
  ['Inputs.version', '1.2'],
  ['env.greeting', 'hello'],
  ['env.MISSING', null],
  ['inputs.constructor', null],
  ['inputs.version.length', null],
  ['needs.build.outputs.artifact', 'out.tgz'],
  ['tasks.build.outputs.count == 3', true],
  ['matrix.node', 18],
  ['matrix.node == 18', true],
  ["matrix.os == 'LINUX'", true],
  ['matrix.experimental', false],
  ['run.name', 'nightly'],
  ["runner.os == 'linux'", true],
  ['steps.compile.outputs.version', '2.0'],
  ["steps.compile.outcome == 'failure' && steps.compile.conclusion == 'success'", true],
  ['secrets.TOKEN', 's3cret'],
  ['imports.PASSWORD', 'hunter2'],
  ['secrets.MISSING', null],
];

describe('expression semantics (GitHub Actions)', () => {
  it.each(CASES)('%s is %j', (source, expected) => {
    expect(value(source)).toEqual(expected);
  });

  it.each([
    ["format('{1}', 'a')", 'format() string uses {1} but only 1 value was given at position 1'],
    ["format('{x}')", 'format() string has an invalid placeholder at character 1 at position 1'],
    ["format('a } b')", "format() string has an unmatched '}' at character 3 at position 1"],
    [
      "1 == fromJSON('{oops')",
      'fromJSON() got a value that is not valid JSON (5 characters, invalid at character 2',
    ],
    ['octocat.sha', "unknown context 'octocat'"],
  ])('%s fails: %s', (source, message) => {
    expect(errorOf(() => value(source)).message).toContain(message);
  });

  it('never quotes the text fromJSON() or format() got: it may hold a secret', () => {
    const secret = 'QZ{x}&<>"é/W';
    for (const source of ['fromJSON(secrets.TOKEN)', 'format(secrets.TOKEN)']) {
      const withSecret = { ...ctx, secrets: { TOKEN: secret } };
      const message = errorOf(() => evaluate(parseExpression(source), withSecret, source)).message;
      const shown = message.slice(0, message.lastIndexOf(' at position '));
      expect(shown).toMatch(/^(fromJSON|format)\(\)/);
      for (const ch of secret.replace(/[a-z ]/g, '')) expect(shown, source).not.toContain(ch);
    }
  });

  it('names the expression and the position of a failing call', () => {
    const error = errorOf(() => evaluateTemplate("echo ${{ inputs.version && fromJSON('x') }}", ctx));
    expect(error.message).toMatch(
      /^fromJSON\(\) got a value that is not valid JSON \(1 characters.*\) at position 19 in 'inputs.version && fromJSON\('x'\)'$/,
    );
    expect(error.expression).toBe(" inputs.version && fromJSON('x') ");
    expect(error.position).toBe(19);
  });

  it('refuses hashFiles without the runner hook and status functions outside conditions', () => {
    expect(errorOf(() => evaluateTemplate("${{ hashFiles('*.lock') }}", ctx)).message).toBe(
      "hashFiles() is only available on the runner at position 1 in 'hashFiles('*.lock')'",
    );
    expect(errorOf(() => evaluateTemplate('${{ success() }}', ctx)).message).toBe(
      "success() is only available in 'if' conditions at position 1 in 'success()'",
    );
    expect(evaluateTemplate("${{ hashFiles('a') }}", ctx, { functions: { hashFiles } })).toBe('hash(a)');
  });
});

describe('evaluateCondition', () => {
  const condition = (text: string, status: StatusContext) => evaluateCondition(text, ctx, { status });

  it('treats an empty condition as success()', () => {
    expect(condition('', passing)).toBe(true);
    expect(condition('  ', failing)).toBe(false);
  });

  it('adds an implicit success() to a condition without a status function', () => {
    expect(condition("env.GREETING == 'hello'", passing)).toBe(true);
    expect(condition("env.GREETING == 'hello'", failing)).toBe(false);
    expect(condition("env.GREETING == 'hello'", cancelled)).toBe(false);
  });

  it('does not evaluate the rest when the implicit success() is false', () => {
    expect(condition("fromJSON('not json')", failing)).toBe(false);
    expect(() => condition("fromJSON('not json')", passing)).toThrow(ExpressionError);
  });

  it('lets status functions decide when the condition calls one', () => {
    expect(condition('always()', failing)).toBe(true);
    expect(condition('always()', cancelled)).toBe(true);
    expect(condition('failure()', failing)).toBe(true);
    expect(condition('failure()', passing)).toBe(false);
    expect(condition('cancelled()', cancelled)).toBe(true);
    expect(condition("failure() && env.GREETING == 'hello'", failing)).toBe(true);
    expect(condition("!cancelled() && env.EMPTY == ''", failing)).toBe(true);
  });

  it('accepts a condition wrapped in ${{ }} and refuses one that mixes text and ${{ }}', () => {
    expect(condition('${{ failure() }}', failing)).toBe(true);
    expect(condition("${{ env.GREETING == 'hello' }}", passing)).toBe(true);
    expect(errorOf(() => condition("${{ env.A }} == 'b'", passing)).message).toBe(
      "a condition is one expression: write it bare, or wrap all of it in ${{ }} at position 1 in '${{ env.A }} == 'b''",
    );
  });

  it('tells whether a condition uses a status function, in any letter case', () => {
    expect(conditionUsesStatus('Always()')).toBe(true);
    expect(conditionUsesStatus("${{ contains(needs.*.result, 'failure') || failure() }}")).toBe(true);
    expect(conditionUsesStatus("env.A == 'success()'")).toBe(false);
    expect(conditionUsesStatus('')).toBe(false);
    expect(() => conditionUsesStatus('a ==')).toThrow(ExpressionError);
  });
});

describe('expression properties', () => {
  const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
  const scalar = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -1000, max: 1000 }),
    // -0 is excluded: JSON (how the literal is written) cannot carry it.
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).filter((n) => !Object.is(n, -0)),
    fc.string({ maxLength: 8 }),
    fc.constantFrom('', '0', '1', ' 2 ', '0x1f', 'abc', 'ABC', 'true'),
  );
  const literal = (v: ExprValue) =>
    typeof v === 'string' ? quote(v) : `fromJSON(${quote(JSON.stringify(v))})`;

  it('a string literal evaluates to its text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (text) => {
        expect(value(quote(text))).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  // toJSON writes numbers as GitHub does (15 significant digits), so they come back rounded to 15.
  const rounded = (v: ExprValue): ExprValue =>
    typeof v === 'number'
      ? Number(v.toPrecision(15))
      : Array.isArray(v)
        ? v.map(rounded)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, item]) => [k, rounded(item)]))
          : v;

  it('fromJSON(toJSON(x)) is x, numbers rounded to 15 significant digits, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (json) => {
        const input = JSON.parse(JSON.stringify(json)) as ExprValue;
        expect(value(`fromJSON(toJSON(${literal(input)}))`)).toEqual(rounded(input));
      }),
      { numRuns: 200 },
    );
  });

  it('== is symmetric and != is its negation', () => {
    fc.assert(
      fc.property(scalar, scalar, (a, b) => {
        const forward = value(`${literal(a)} == ${literal(b)}`);
        expect(value(`${literal(b)} == ${literal(a)}`)).toBe(forward);
        expect(value(`${literal(a)} != ${literal(b)}`)).toBe(!forward);
      }),
      { numRuns: 300 },
    );
  });

  it('|| returns the first truthy operand and && the first falsy one', () => {
    fc.assert(
      fc.property(scalar, scalar, (a, b) => {
        const truthy = value(`!!${literal(a)}`) === true;
        expect(value(`${literal(a)} || ${literal(b)}`)).toEqual(truthy ? a : b);
        expect(value(`${literal(a)} && ${literal(b)}`)).toEqual(truthy ? b : a);
      }),
      { numRuns: 300 },
    );
  });

  it("format('{0}', s) is s and contains(s, s) is true", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        expect(value(`format('{0}', ${quote(text)})`)).toBe(text);
        expect(value(`contains(${quote(text)}, ${quote(text)})`)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
