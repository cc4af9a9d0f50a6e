// The expression language checked against GitHub Actions, one row per case: the expression, its
// expected value, and where GitHub's behaviour comes from (a docs.github.com section, or the
// actions/runner source that documents it where the docs are silent). Cases are our own.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFiles } from '../engine/hash-files.ts';
import { evaluate, type ExprValue } from './expression-eval.ts';
import { parseExpression } from './expression-parser.ts';
import { evaluateCondition, evaluateTemplate, type ExpressionContext, type StatusContext } from './index.ts';

// Sources. docs = https://docs.github.com/en/actions/reference (workflows-and-actions/expressions and /contexts).
const LIT = 'docs Expressions › Literals';
const OPS = 'docs Expressions › Operators';
const FN = (name: string) => `docs Expressions › Functions › ${name}`;
const FILTER = 'docs Expressions › Object filters';
const STATUS = 'docs Expressions › Status check functions';
const CTX = (name: string) => `docs Contexts › ${name} context`;
const LEXER = 'actions/runner Expressions2/Tokens/LexicalAnalyzer.cs (number and keyword tokens)';
const PARSE = 'actions/runner Expressions2/Sdk/ExpressionUtility.cs ParseNumber';
const TEXT = 'actions/runner Expressions2/EvaluationResult.cs ConvertToString (numbers as G15)';
const EQUAL = 'actions/runner Expressions2/EvaluationResult.cs AbstractEqual, CoerceTypes';
const ORDER = 'actions/runner Expressions2/EvaluationResult.cs AbstractGreaterThan, AbstractLessThan';
const FALSY = 'actions/runner Expressions2/EvaluationResult.cs IsFalsy';
const LOGIC = 'actions/runner Expressions2/Sdk/Operators And.cs, Or.cs, Not.cs';
const PRECEDENCE = 'actions/runner Expressions2/ExpressionParser.cs (operator precedence)';
const INDEX = 'actions/runner Expressions2/Sdk/Operators/Index.cs';
const RUNNER_FN = (name: string) => `actions/runner Expressions2/Sdk/Functions/${name}.cs`;
const HASH = 'docs Expressions › hashFiles; actions/runner src/Misc/expressionFunc/hashFiles (@actions/glob)';

const FRUITS = '[{"name":"apple","quantity":1},{"name":"orange","quantity":2},{"name":"pear","quantity":1}]';
const VEGETABLES = JSON.stringify({
  scallions: { colors: ['green', 'white', 'red'], ediblePortions: ['roots', 'stems', 'leaves'] },
  beets: { colors: ['purple', 'red', 'gold', 'white', 'pink'], ediblePortions: ['roots', 'stems', 'leaves'] },
  artichokes: { colors: ['green', 'purple', 'red', 'black'], ediblePortions: ['hearts', 'stems', 'leaves'] },
});

const ctx: ExpressionContext = {
  inputs: { name: 'Mona', count: '3', flag: 'true' },
  env: {
    FRUITS,
    VEG: VEGETABLES,
    LABELS: '[{"name":"bug"},{"name":"help wanted"}]',
    EVENTS: '["push", "pull_request"]',
    GREETING: 'Hello',
    EMPTY: '',
  },
  tasks: {
    build: { outputs: { artifact: 'out.tgz' }, result: 'success' },
    test: { outputs: {}, result: 'failure' },
    lint: { outputs: {}, result: 'skipped' },
  },
  matrix: { os: 'ubuntu-latest', node: 20, experimental: true, ratio: 0.5 },
  steps: {
    checkout: { outputs: {}, outcome: 'success', conclusion: 'success' },
    build: { outputs: { version: '2.0' }, outcome: 'failure', conclusion: 'success' },
  },
  runner: { os: 'Linux', arch: 'X64', name: 'r1', temp: '/tmp/r' },
  secrets: { TOKEN: 's3cret' },
};

/** The expected outcome: a value, an error whose message contains the text, or the hash of these file contents. */
type Expected = ExprValue | { error: string } | { hash: string[] };
type Row = [expression: string, expected: Expected, source: string];

const err = (error: string) => ({ error });
const hash = (...contents: string[]) => ({ hash: contents });

const ROWS: Row[] = [
  // Literals
  ['null', null, LIT],
  ['true', true, LIT],
  ['false', false, LIT],
  ['711', 711, LIT],
  ['-9.2', -9.2, LIT],
  ['0xff', 255, LIT],
  ['-2.99e-2', -0.0299, LIT],
  ["'Mona the Octocat'", 'Mona the Octocat', LIT],
  ["'It''s open source!'", "It's open source!", LIT],
  ["''", '', LIT],
  ["''''", "'", LIT],
  ['NaN', Number.NaN, LEXER],
  ['Infinity', Infinity, LEXER],
  ['-Infinity', -Infinity, LEXER],
  ['+Infinity', Infinity, LEXER],
  ['-infinity', -Infinity, `${LEXER}; .NET Double.TryParse reads infinity in any case`],
  ['1e3', 1000, LEXER],
  ['-2.5E-3', -0.0025, LEXER],
  ['1E+2', 100, LEXER],
  ['.5', 0.5, LEXER],
  ['5.', 5, LEXER],
  ['+5', 5, LEXER],
  ['-0', -0, LEXER],
  ['0x0', 0, PARSE],
  ['0xFF', 255, PARSE],
  ['0x7fffffff', 2147483647, PARSE],
  ['0x80000000', -2147483648, `${PARSE} (Int32 hex)`],
  ['0xffffffff', -1, `${PARSE} (Int32 hex)`],
  ['0x00000000ff', 255, PARSE],
  ['0o17', 15, PARSE],
  ['0o777', 511, PARSE],
  ['1e400', Infinity, `${PARSE} (.NET rounds to infinity)`],
  ['-1e400', -Infinity, PARSE],
  ['1e-400', 0, PARSE],
  ['123456789012345678901234567890', 1.2345678901234568e29, PARSE],
  ['(.5)', 0.5, LEXER],
  ['[.5][0]', err("unexpected '['"), LEXER],
  ['1.2.3', err("invalid number '1.2.3'"), LEXER],
  ['0x', err("invalid number '0x'"), PARSE],
  ['0XFF', err("invalid number '0XFF'"), PARSE],
  ['-0x1', err("invalid number '-0x1'"), PARSE],
  ['0x1g', err("invalid number '0x1g'"), PARSE],
  ['0x100000000', err("invalid number '0x100000000'"), `${PARSE} (past Int32)`],
  ['0o8', err("invalid number '0o8'"), PARSE],
  ['0b101', err("invalid number '0b101'"), PARSE],
  ['1e', err("invalid number '1e'"), PARSE],
  ['1abc', err("invalid number '1abc'"), LEXER],
  ['5-3', err("invalid number '5-3'"), LEXER],
  ['-NaN', err("invalid number '-NaN'"), LEXER],
  ['1_000', err("invalid number '1_000'"), PARSE],
  ['--1', err("invalid number '--1'"), PARSE],
  ['.', err("invalid number '.'"), LEXER],
  [
    '1 == 1.2.3',
    err(
      "invalid number '1.2.3' (numbers are decimal like 1, -2.5 or 1e3, 0x hex, 0o octal, or Infinity) at position 6 in '1 == 1.2.3'",
    ),
    LEXER,
  ],
  ['nan', err("unknown context 'nan'"), `${LEXER} (NaN is case-sensitive)`],
  ['infinity', err("unknown context 'infinity'"), `${LEXER} (Infinity is case-sensitive)`],

  // Numbers as text: format('{0}', n) is ConvertToString
  ["format('{0}', 1)", '1', TEXT],
  ["format('{0}', 1.0)", '1', TEXT],
  ["format('{0}', 1.50)", '1.5', TEXT],
  ["format('{0}', 100)", '100', TEXT],
  ["format('{0}', 0.1)", '0.1', TEXT],
  ["format('{0}', -0)", '-0', `${TEXT} (.NET Core 3+ writes -0)`],
  ["format('{0}', 123456789012345)", '123456789012345', TEXT],
  ["format('{0}', 1234567890123456)", '1.23456789012346E+15', TEXT],
  ["format('{0}', 1e14)", '100000000000000', TEXT],
  ["format('{0}', 1e15)", '1E+15', TEXT],
  ["format('{0}', 1e20)", '1E+20', TEXT],
  ["format('{0}', 1.5e300)", '1.5E+300', TEXT],
  ["format('{0}', -1.5e300)", '-1.5E+300', TEXT],
  ["format('{0}', 0.0001)", '0.0001', TEXT],
  ["format('{0}', 0.00001)", '1E-05', TEXT],
  ["format('{0}', 0.000123)", '0.000123', TEXT],
  ["format('{0}', 0.0000123)", '1.23E-05', TEXT],
  ["format('{0}', 1e-7)", '1E-07', TEXT],
  ["format('{0}', 1e-100)", '1E-100', TEXT],
  ["format('{0}', NaN)", 'NaN', TEXT],
  ["format('{0}', Infinity)", 'Infinity', TEXT],
  ["format('{0}', -Infinity)", '-Infinity', TEXT],
  ["format('{0}', 0xff)", '255', TEXT],
  ["format('{0}', -2.99e-2)", '-0.0299', TEXT],
  ["format('{0}', 3.14159265358979323)", '3.14159265358979', TEXT],
  ["format('{0}', 2147483648)", '2147483648', TEXT],
  ["format('{0}', 9007199254740993)", '9.00719925474099E+15', TEXT],
  ["format('{0}', 999999999999999)", '999999999999999', TEXT],
  ["format('{0}', 9999999999999999)", '1E+16', TEXT],
  ["format('{0}', 0.30000000000000004)", '0.3', TEXT],
  ["format('{0}', true)", 'true', TEXT],
  ["format('{0}', false)", 'false', TEXT],
  ["format('{0}', null)", '', TEXT],
  ["format('{0}', fromJSON('[1]'))", 'Array', TEXT],
  ["format('{0}', fromJSON('[]'))", 'Array', TEXT],
  ["format('{0}', fromJSON('{}'))", 'Object', TEXT],
  ["format('{0}', fromJSON(env.FRUITS).*.name)", 'Array', TEXT],
  ["format('{0}', env)", 'Object', TEXT],

  // Strings as numbers: a string compared with a number is parsed
  ["'' == 0", true, `${OPS} (empty string is 0)`],
  ["' ' == 0", true, PARSE],
  ["'  12  ' == 12", true, PARSE],
  ["'\t5\n' == 5", true, PARSE],
  ["'0x1F' == 31", true, PARSE],
  ["'0x1f' == 31", true, PARSE],
  ["'0X1F' == 31", false, PARSE],
  ["'-0x1F' == -31", false, PARSE],
  ["'0o17' == 15", true, PARSE],
  ["'1e3' == 1000", true, PARSE],
  ["'1E3' == 1000", true, PARSE],
  ["'.5' == 0.5", true, PARSE],
  ["'5.' == 5", true, PARSE],
  ["'+5' == 5", true, PARSE],
  ["'-5' == -5", true, PARSE],
  ["'1,000' == 1000", false, PARSE],
  ["'1_000' == 1000", false, PARSE],
  ["'Infinity' == Infinity", true, PARSE],
  ["'-Infinity' == -Infinity", true, PARSE],
  ["'infinity' == Infinity", true, `${PARSE}; .NET Double.TryParse`],
  ["'NaN' == NaN", false, `${OPS} (NaN equals nothing)`],
  ["'abc' == NaN", false, OPS],
  ["'0x80000000' == -2147483648", true, PARSE],
  ["'0x100000000' == 4294967296", false, PARSE],
  ["'12abc' == 12", false, PARSE],
  ["'1 2' == 12", false, PARSE],
  ["'1e400' == Infinity", true, PARSE],
  ["'1e' == 1", false, PARSE],
  ["'0' == false", true, EQUAL],
  ["'1' == true", true, EQUAL],
  ["'true' == true", false, `${OPS} (the string is NaN)`],
  ["'' == false", true, EQUAL],
  ["'' == null", true, EQUAL],
  ["' ' == null", true, EQUAL],
  ["'abc' == null", false, EQUAL],
  ["'0' == null", true, EQUAL],

  // Equality
  ['1 == 1.0', true, OPS],
  ["1 == '1'", true, OPS],
  ["1 == '1.0'", true, OPS],
  ["'a' == 'A'", true, `${OPS} (strings ignore case)`],
  ["'abc' == 'ABC'", true, OPS],
  ["'é' == 'É'", true, `${EQUAL} (OrdinalIgnoreCase)`],
  ["'Straße' == 'STRASSE'", false, `${EQUAL} (ordinal, no case expansion)`],
  ['null == null', true, EQUAL],
  ['null == false', true, OPS],
  ['null == 0', true, OPS],
  ['false == 0', true, OPS],
  ['true == 1', true, OPS],
  ['true == 2', false, OPS],
  ["true == 'true'", false, OPS],
  ["false == 'false'", false, OPS],
  ["false == ''", true, OPS],
  ["true == '1'", true, OPS],
  ['NaN == NaN', false, OPS],
  ['NaN != NaN', true, OPS],
  ['Infinity == Infinity', true, EQUAL],
  ['-0 == 0', true, EQUAL],
  ["fromJSON('[]') == fromJSON('[]')", false, `${OPS} (arrays equal only as the same instance)`],
  ["fromJSON('{}') == fromJSON('{}')", false, OPS],
  ['env == env', true, OPS],
  ['tasks == needs', false, `${EQUAL} (two context objects)`],
  ["fromJSON('[]') == 0", false, EQUAL],
  ["fromJSON('[]') != 0", true, EQUAL],
  ["fromJSON('[]') == ''", false, EQUAL],
  ["fromJSON('{}') == null", false, EQUAL],
  ["null == fromJSON('{}')", false, EQUAL],
  ["'true' == 'TRUE'", true, OPS],
  ["'' == ''", true, EQUAL],
  ['1 != 2', true, OPS],
  ["'1' != 1", false, OPS],
  ["2 == '0x2'", true, PARSE],
  ["'1e2' == '100'", false, `${EQUAL} (two strings compare as text)`],
  ["'01' == '1'", false, EQUAL],
  ["'01' == 1", true, EQUAL],
  ["tasks.build.result == 'SUCCESS'", true, OPS],
  ["matrix.node == '20'", true, OPS],
  ['matrix.experimental == true', true, EQUAL],
  ["matrix.experimental == 'true'", false, EQUAL],

  // Ordering
  ['1 < 2', true, OPS],
  ['2 < 1', false, OPS],
  ['1 <= 1', true, OPS],
  ['1 >= 1', true, OPS],
  ['1 > 0', true, OPS],
  ["'a' < 'b'", true, ORDER],
  ["'a' < 'B'", true, `${ORDER} (ignoring case)`],
  ["'B' < 'a'", false, ORDER],
  ["'abc' < 'abd'", true, ORDER],
  ["'ab' < 'abc'", true, ORDER],
  ["'10' < '9'", true, `${ORDER} (two strings compare as text)`],
  ["10 < '9'", false, ORDER],
  ["'2' < 10", true, ORDER],
  ['true > false', true, ORDER],
  ['false < true', true, ORDER],
  ['true >= 1', true, ORDER],
  ['null < 1', true, ORDER],
  ['null >= 0', true, ORDER],
  ['null > -1', true, ORDER],
  ["'abc' < 1", false, ORDER],
  ["'abc' > 1", false, ORDER],
  ["'abc' <= 'ABC'", true, ORDER],
  ['NaN < 1', false, ORDER],
  ['NaN > 1', false, ORDER],
  ['NaN <= NaN', false, ORDER],
  ['NaN >= NaN', false, ORDER],
  ['Infinity > 1e308', true, ORDER],
  ['-Infinity < -1e308', true, ORDER],
  ["fromJSON('[]') < 1", false, ORDER],
  ["fromJSON('[]') >= fromJSON('[]')", false, ORDER],
  ['env >= env', true, `${ORDER} (>= is equal or greater)`],
  ["'_' > 'a'", true, `${ORDER} (compared upper-cased: '_' > 'A')`],
  ["'' < 'a'", true, ORDER],
  ["1 < ''", false, ORDER],
  ["'0x10' > 15", true, ORDER],

  // Truthiness
  ["!!''", false, `${OPS} (falsy: false, 0, -0, "", null, NaN)`],
  ["!!'a'", true, FALSY],
  ["!!'0'", true, FALSY],
  ["!!'false'", true, FALSY],
  ["!!' '", true, FALSY],
  ['!!0', false, FALSY],
  ['!!-0', false, FALSY],
  ['!!NaN', false, FALSY],
  ['!!1', true, FALSY],
  ['!!-1', true, FALSY],
  ['!!Infinity', true, FALSY],
  ['!!null', false, FALSY],
  ['!!false', false, FALSY],
  ['!!true', true, FALSY],
  ["!!fromJSON('[]')", true, FALSY],
  ["!!fromJSON('{}')", true, FALSY],
  ['!!env.MISSING', false, FALSY],
  ['!!env.EMPTY', false, FALSY],

  // && || ! return operands, short-circuit
  ["'a' && 'b'", 'b', LOGIC],
  ["'' && 'b'", '', LOGIC],
  ["0 && 'b'", 0, LOGIC],
  ["null && 'b'", null, LOGIC],
  ["'a' || 'b'", 'a', LOGIC],
  ["'' || 'b'", 'b', LOGIC],
  ['0 || null', null, LOGIC],
  ['false || 0', 0, LOGIC],
  ['1 && 2 && 3', 3, LOGIC],
  ['1 && 0 && 3', 0, LOGIC],
  ["null || '' || 'x'", 'x', LOGIC],
  ["!''", true, LOGIC],
  ['!1', false, LOGIC],
  ['!null', true, LOGIC],
  ["inputs.name == 'Mona' && 'yes' || 'no'", 'yes', `${OPS} (ternary-like && ||)`],
  ["inputs.name == 'x' && 'yes' || 'no'", 'no', OPS],
  ["true && '' || 'fallback'", 'fallback', OPS],
  ["true || fromJSON('not json')", true, `${LOGIC} (short-circuit)`],
  ["false && fromJSON('not json')", false, LOGIC],

  // Precedence
  ['true || false && false', true, `${OPS} (&& binds tighter than ||)`],
  ['(true || false) && false', false, OPS],
  ['!true == false', true, PRECEDENCE],
  ['!(1 == 2)', true, OPS],
  ['1 == 1 && 2 == 2', true, PRECEDENCE],
  ['1 < 2 == true', true, `${PRECEDENCE} (< binds tighter than ==)`],
  ["'a' == 'a' == true", true, PRECEDENCE],
  ['1 == 1 == 1', true, PRECEDENCE],
  ['2 == 2 == 2', false, PRECEDENCE],
  ["!'a' == false", true, PRECEDENCE],
  ['false && false || true', true, PRECEDENCE],
  ['!!(1 && 0)', false, PRECEDENCE],

  // contains
  ["contains('Hello world', 'llo')", true, FN('contains')],
  ["contains('Hello world', 'LLO')", true, FN('contains')],
  ["contains('abc', '')", true, RUNNER_FN('Contains')],
  ["contains('', '')", true, RUNNER_FN('Contains')],
  ["contains('abc', 'd')", false, FN('contains')],
  ['contains(123, 23)', true, `${FN('contains')} (values cast to strings)`],
  ["contains(true, 'ru')", true, RUNNER_FN('Contains')],
  ["contains(null, '')", true, RUNNER_FN('Contains')],
  ["contains(1.5, '.5')", true, RUNNER_FN('Contains')],
  ["contains(fromJSON(env.EVENTS), 'push')", true, FN('contains')],
  ["contains(fromJSON(env.EVENTS), 'PUSH')", true, FN('contains')],
  ["contains(fromJSON(env.EVENTS), 'pull')", false, `${FN('contains')} (array items are compared whole)`],
  ["contains(fromJSON(env.LABELS).*.name, 'bug')", true, FN('contains')],
  ["contains(fromJSON('[1,2,3]'), '2')", true, RUNNER_FN('Contains')],
  ["contains(fromJSON('[1,2,3]'), 4)", false, RUNNER_FN('Contains')],
  ["contains(fromJSON('[true]'), 1)", true, RUNNER_FN('Contains')],
  ["contains(fromJSON('[null]'), '')", true, RUNNER_FN('Contains')],
  ["contains(fromJSON('[[1]]'), fromJSON('[1]'))", false, RUNNER_FN('Contains')],
  ["contains(fromJSON('{\"a\":1}'), 'a')", false, `${RUNNER_FN('Contains')} (an object is never searched)`],
  ["contains('Array', fromJSON('[]'))", false, RUNNER_FN('Contains')],
  ["contains(fromJSON('[]'), '')", false, RUNNER_FN('Contains')],
  ["contains(tasks.*.result, 'failure')", true, FN('contains')],
  ["contains(needs.*.result, 'cancelled')", false, FN('contains')],

  // startsWith / endsWith
  ["startsWith('Hello world', 'He')", true, FN('startsWith')],
  ["startsWith('Hello world', 'he')", true, FN('startsWith')],
  ["startsWith('Hello', '')", true, RUNNER_FN('StartsWith')],
  ["startsWith('Hello', 'ello')", false, FN('startsWith')],
  ['startsWith(123, 12)', true, FN('startsWith')],
  ["startsWith(true, 'T')", true, RUNNER_FN('StartsWith')],
  ["startsWith(null, '')", true, RUNNER_FN('StartsWith')],
  ["startsWith(fromJSON('[1]'), 'A')", false, `${RUNNER_FN('StartsWith')} (arrays are not searched)`],
  ["startsWith('Array', fromJSON('[]'))", false, RUNNER_FN('StartsWith')],
  ["startsWith(1e20, '1E')", true, RUNNER_FN('StartsWith')],
  ["endsWith('Hello world', 'ld')", true, FN('endsWith')],
  ["endsWith('Hello world', 'LD')", true, FN('endsWith')],
  ["endsWith('Hello', 'hell')", false, FN('endsWith')],
  ["endsWith(0.5, '.5')", true, RUNNER_FN('EndsWith')],
  ["endsWith(fromJSON('{}'), 't')", false, RUNNER_FN('EndsWith')],
  ["endsWith('x', '')", true, RUNNER_FN('EndsWith')],
  ["endsWith(null, 'a')", false, RUNNER_FN('EndsWith')],

  // format
  ["format('Hello {0} {1} {2}', 'Mona', 'the', 'Octocat')", 'Hello Mona the Octocat', FN('format')],
  ["format('{{Hello {0} {1} {2}!}}', 'Mona', 'the', 'Octocat')", '{Hello Mona the Octocat!}', FN('format')],
  ["format('{0}{0}', 'a')", 'aa', RUNNER_FN('Format')],
  ["format('{1}{0}', 'a', 'b')", 'ba', RUNNER_FN('Format')],
  ["format('no placeholders')", 'no placeholders', RUNNER_FN('Format')],
  ["format('{{}}')", '{}', RUNNER_FN('Format')],
  ["format('{{0}}', 'x')", '{0}', RUNNER_FN('Format')],
  ["format('{{{0}}}', 'x')", '{x}', RUNNER_FN('Format')],
  ["format('{0}', '{1}')", '{1}', RUNNER_FN('Format')],
  ["format('{00}', 'a')", 'a', RUNNER_FN('Format')],
  ['format(1, 2)', '1', RUNNER_FN('Format')],
  ["format('{0} {1}', 1e20, -0)", '1E+20 -0', RUNNER_FN('Format')],
  ["format('{0}', inputs.name)", 'Mona', FN('format')],
  ["format('{1}', 'a')", err('format() string uses {1} but only 1 value was given'), RUNNER_FN('Format')],
  ["format('{x}')", err('invalid placeholder'), RUNNER_FN('Format')],
  ["format('a } b')", err("unmatched '}'"), RUNNER_FN('Format')],
  ["format('{')", err('invalid placeholder'), RUNNER_FN('Format')],
  ["format('{0', 'a')", err('invalid placeholder'), RUNNER_FN('Format')],
  ["format('{0:D}', 1)", err('format specifiers'), `${RUNNER_FN('Format')} (specifiers are refused)`],
  ["format('{-1}', 'a')", err('invalid placeholder'), RUNNER_FN('Format')],
  ["format('{256}', 'a')", err('invalid placeholder'), `${RUNNER_FN('Format')} (the index is a byte)`],

  // join
  ["join(fromJSON(env.LABELS).*.name, ', ')", 'bug, help wanted', FN('join')],
  ['join(fromJSON(env.EVENTS))', 'push,pull_request', `${FN('join')} (default separator ',')`],
  ["join('abc')", 'abc', FN('join')],
  ["join('abc', '-')", 'abc', FN('join')],
  ['join(1)', '1', RUNNER_FN('Join')],
  ['join(null)', '', RUNNER_FN('Join')],
  ['join(true)', 'true', RUNNER_FN('Join')],
  ["join(fromJSON('[]'))", '', RUNNER_FN('Join')],
  ['join(fromJSON(\'{"a":1}\'))', '', `${RUNNER_FN('Join')} (an object joins to '')`],
  ["join(fromJSON('[1,null,true,1.5]'), '|')", '1||true|1.5', RUNNER_FN('Join')],
  ['join(fromJSON(\'[[1],{"a":1}]\'))', 'Array,Object', RUNNER_FN('Join')],
  [
    'join(fromJSON(\'["a","b"]\'), fromJSON(\'[]\'))',
    'a,b',
    `${RUNNER_FN('Join')} (a non-primitive separator is ',')`,
  ],
  ['join(fromJSON(\'["a","b"]\'), null)', 'ab', RUNNER_FN('Join')],
  ['join(fromJSON(\'["a","b"]\'), 0)', 'a0b', RUNNER_FN('Join')],
  ["join(fromJSON('[1e20, 0.5]'), ' ')", '1E+20 0.5', RUNNER_FN('Join')],
  ["join(fromJSON(env.FRUITS).*.name, ' ')", 'apple orange pear', FN('join')],

  // toJSON
  ['toJSON(1)', '1', FN('toJSON')],
  ['toJSON(1e20)', '1E+20', RUNNER_FN('ToJson')],
  ["toJSON('x')", '"x"', FN('toJSON')],
  ["toJSON('a\"b')", '"a\\"b"', RUNNER_FN('ToJson')],
  ["toJSON('tab\t')", '"tab\\t"', RUNNER_FN('ToJson')],
  ["toJSON('\u2028')", '"\\u2028"', `${RUNNER_FN('ToJson')} (Newtonsoft escapes U+2028)`],
  ['toJSON(null)', 'null', RUNNER_FN('ToJson')],
  ['toJSON(true)', 'true', RUNNER_FN('ToJson')],
  ['toJSON(NaN)', 'NaN', RUNNER_FN('ToJson')],
  ["toJSON(fromJSON('[]'))", '[]', RUNNER_FN('ToJson')],
  ["toJSON(fromJSON('{}'))", '{}', RUNNER_FN('ToJson')],
  ["toJSON(fromJSON('[1,2]'))", '[\n  1,\n  2\n]', FN('toJSON')],
  [
    'toJSON(fromJSON(\'{"a":[1,{"b":null}]}\'))',
    '{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ]\n}',
    FN('toJSON'),
  ],
  ['toJSON(fromJSON(\'{"a":{}}\'))', '{\n  "a": {}\n}', RUNNER_FN('ToJson')],
  ["toJSON(fromJSON('[0.30000000000000004]'))", '[\n  0.3\n]', RUNNER_FN('ToJson')],
  [
    'toJSON(matrix)',
    '{\n  "os": "ubuntu-latest",\n  "node": 20,\n  "experimental": true,\n  "ratio": 0.5\n}',
    FN('toJSON'),
  ],
  ['toJSON(fromJSON(env.FRUITS).*.name)', '[\n  "apple",\n  "orange",\n  "pear"\n]', RUNNER_FN('ToJson')],

  // case (actions/runner's newest function)
  ["case(true, 'a', 'b')", 'a', RUNNER_FN('Case')],
  ["case(false, 'a', 'b')", 'b', RUNNER_FN('Case')],
  ["case(1 == 2, 'a', 2 == 2, 'b', 'c')", 'b', RUNNER_FN('Case')],
  ["case(false, 'a', false, 'b', 'c')", 'c', RUNNER_FN('Case')],
  ["case(true, fromJSON('[1]'), 'x')", [1], RUNNER_FN('Case')],
  ["case(true, 'a', fromJSON('not json'))", 'a', `${RUNNER_FN('Case')} (only the chosen value is evaluated)`],
  ["case(false, fromJSON('not json'), 'd')", 'd', RUNNER_FN('Case')],
  [
    "case('yes', 'a', 'b')",
    err('case() argument 1 must be a boolean'),
    `${RUNNER_FN('Case')} (predicates are booleans)`,
  ],
  ["case(1, 'a', 'b')", err('must be a boolean (a predicate), not a number'), RUNNER_FN('Case')],
  ["case(true, 'a', false, 'b')", err('odd number of arguments'), RUNNER_FN('Case')],
  ["case(true, 'a')", err('case() takes 3 to 255 arguments, not 2'), RUNNER_FN('Case')],

  // fromJSON
  ["fromJSON('true')", true, FN('fromJSON')],
  ["fromJSON('1')", 1, FN('fromJSON')],
  ["fromJSON('1.5e2')", 150, FN('fromJSON')],
  ['fromJSON(\'"x"\')', 'x', FN('fromJSON')],
  ["fromJSON('null')", null, FN('fromJSON')],
  ['fromJSON(\'[1,"a"]\')', [1, 'a'], FN('fromJSON')],
  ['fromJSON(\'{"a":1}\').a', 1, FN('fromJSON')],
  ['fromJSON(\'{"A":1}\').a', 1, `${INDEX} (keys ignore case)`],
  ['fromJSON(inputs.count)', 3, FN('fromJSON')],
  ['fromJSON(inputs.flag)', true, FN('fromJSON')],
  ["fromJSON(' 2 ')", 2, FN('fromJSON')],
  ['fromJSON(\'{"a":{"b":[10,20]}}\').a.b[1]', 20, FN('fromJSON')],
  ["fromJSON('')", err('not valid JSON'), RUNNER_FN('FromJson')],
  ["fromJSON('{oops')", err('not valid JSON'), RUNNER_FN('FromJson')],
  ["fromJSON('x')", err('not valid JSON'), RUNNER_FN('FromJson')],

  // hashFiles, over the workspace made in beforeAll
  ["hashFiles('**/package-lock.json')", hash('lock', 'sublock'), HASH],
  ["hashFiles('*.none')", '', `${HASH} (nothing matched is '')`],
  ["hashFiles('src')", hash('a', 'b'), `${HASH} (a directory matches its files)`],
  ["hashFiles('src/**', '!src/*.js')", hash('a'), HASH],
  ["hashFiles('**/*.yml')", hash('ci'), `${HASH} (dot directories match)`],
  ["hashFiles('src/*.ts', 'src/*.js')", hash('a', 'b'), HASH],
  ["hashFiles('src/*.js', 'src/*.ts')", hash('a', 'b'), `${HASH} (files in walk order, not pattern order)`],
  ["hashFiles('!src/a.ts', 'src/*')", hash('a', 'b'), `${HASH} (a later pattern overrides)`],
  ["hashFiles('**', '!**/package-lock.json', '!.github')", hash('a', 'b'), HASH],
  ["hashFiles(format('{0}/*.ts', 'src'))", hash('a'), HASH],
  ["hashFiles('src/a.ts') == hashFiles('src/a.ts')", true, HASH],
  ["hashFiles('src/[ab].*')", hash('a', 'b'), HASH],
  ["hashFiles('src/?.ts')", hash('a'), HASH],
  ["hashFiles('../x')", '', `${HASH} (only files under the workspace)`],
  ["hashFiles('src/a.ts\nsrc/b.js')", hash('a', 'b'), `${HASH} (patterns are lines)`],
  ["hashFiles('--bogus', 'x')", err("invalid glob option '--bogus'"), HASH],

  // the object filter
  ['fromJSON(env.FRUITS).*.name', ['apple', 'orange', 'pear'], FILTER],
  ['fromJSON(env.FRUITS).*.quantity', [1, 2, 1], FILTER],
  [
    'fromJSON(env.VEG).*.ediblePortions',
    [
      ['roots', 'stems', 'leaves'],
      ['roots', 'stems', 'leaves'],
      ['hearts', 'stems', 'leaves'],
    ],
    FILTER,
  ],
  ["contains(fromJSON(env.VEG).*.colors.*, 'gold')", true, FILTER],
  ['fromJSON(env.VEG).*.colors[0]', ['green', 'purple', 'green'], INDEX],
  ['fromJSON(env.VEG).scallions.colors[1]', 'white', FILTER],
  ['fromJSON(env.FRUITS)[1].name', 'orange', FILTER],
  ['fromJSON(env.FRUITS).*.missing', [], INDEX],
  ['fromJSON(\'[{"a":null},{"b":1}]\').*.a', [null], `${INDEX} (a member holding null is kept)`],
  ['fromJSON(\'[1,"x",{"a":2}]\').*.a', [2], INDEX],
  ['fromJSON(\'{"x":[1,2],"y":[3]}\').*[0]', [1, 3], INDEX],
  ['fromJSON(\'{"x":[1,2],"y":[3]}\').*[1]', [2], INDEX],
  ["fromJSON('[[1,2],[3]]').*.*", [1, 2, 3], INDEX],
  [
    "'abc'.*",
    err("unexpected '.' after a literal"),
    'actions/runner Expressions2/Tokens/LexicalAnalyzer.cs (. follows ), ], *, a name)',
  ],
  ['null.*', err("unexpected '.' after a literal"), LEXER],
  ["('abc').*", [], INDEX],
  ['(null).*', [], INDEX],
  ['env.MISSING.*', [], INDEX],
  ["fromJSON('[1,2]')[*]", [1, 2], INDEX],
  ['tasks.*.result', ['success', 'failure', 'skipped'], CTX('needs')],
  ['tasks.*.outputs.artifact', ['out.tgz'], FILTER],
  ['join(fromJSON(env.FRUITS).*.name)', 'apple,orange,pear', FILTER],
  ['fromJSON(env.FRUITS).*.name[0]', [], INDEX],
  ['fromJSON(env.FRUITS).*.name.*', [], INDEX],

  // property dereference and index
  ["fromJSON('[10,20,30]')[0]", 10, INDEX],
  ["fromJSON('[10,20,30]')[2]", 30, INDEX],
  ["fromJSON('[10,20,30]')[3]", null, INDEX],
  ["fromJSON('[10,20,30]')[-1]", null, INDEX],
  ["fromJSON('[10,20,30]')['1']", 20, INDEX],
  ["fromJSON('[10,20,30]')[' 1 ']", 20, INDEX],
  ["fromJSON('[10,20,30]')[1.9]", 20, `${INDEX} (rounded down)`],
  ["fromJSON('[10,20,30]')['1.9']", 20, INDEX],
  ["fromJSON('[10,20,30]')[true]", 20, INDEX],
  ["fromJSON('[10,20,30]')[null]", 10, INDEX],
  ["fromJSON('[10,20,30]')['a']", null, INDEX],
  ["fromJSON('[10,20,30]')[NaN]", null, INDEX],
  ["fromJSON('[10,20,30]')[Infinity]", null, INDEX],
  ["fromJSON('[10,20,30]')[fromJSON('[]')]", null, INDEX],
  ['fromJSON(\'{"1":"one","true":"t","":"e"}\')[1]', 'one', INDEX],
  ['fromJSON(\'{"1":"one","true":"t","":"e"}\')[true]', 't', INDEX],
  ['fromJSON(\'{"1":"one","true":"t","":"e"}\')[null]', 'e', INDEX],
  ['fromJSON(\'{"1":"one","true":"t","":"e"}\')[\'TRUE\']', 't', INDEX],
  ['fromJSON(\'{"1":"one","true":"t","":"e"}\')[1.0]', 'one', INDEX],
  ["fromJSON('{\"a\":1}')['A']", 1, INDEX],
  ['fromJSON(\'{"a":1}\').b', null, INDEX],
  ["fromJSON('{\"a-b\":1}')['a-b']", 1, INDEX],
  ['fromJSON(\'{"a-b":1}\').a-b', 1, `${LEXER} (names may hold '-')`],
  ['fromJSON(\'{"NaN":1}\').NaN', 1, `${LEXER} (a keyword after '.' is a property name)`],
  ['fromJSON(\'{"true":1}\').true', 1, LEXER],
  ["'abc'[0]", err("unexpected '[' after a literal"), LEXER],
  ["('abc')[0]", null, INDEX],
  ["(fromJSON('[7]'))[0]", 7, INDEX],
  ['inputs.name.length', null, INDEX],
  ['inputs.constructor', null, INDEX],

  // contexts
  ["env.GREETING == 'hello'", true, CTX('env')],
  ['ENV.greeting', 'Hello', `${CTX('env')} (names ignore case)`],
  ['Inputs.NAME', 'Mona', CTX('inputs')],
  ['inputs.missing', null, CTX('inputs')],
  ['env.EMPTY', '', CTX('env')],
  ['needs.build.outputs.artifact', 'out.tgz', CTX('needs')],
  ['needs.build.result', 'success', CTX('needs')],
  ["needs['build'].outputs['artifact']", 'out.tgz', CTX('needs')],
  ['steps.build.outputs.version', '2.0', CTX('steps')],
  ['steps.build.outcome', 'failure', CTX('steps')],
  ['steps.build.conclusion', 'success', CTX('steps')],
  ['matrix.os', 'ubuntu-latest', CTX('matrix')],
  ['matrix.node', 20, CTX('matrix')],
  ["runner.os == 'linux'", true, CTX('runner')],
  ['runner.arch', 'X64', CTX('runner')],
  ['secrets.TOKEN', 's3cret', CTX('secrets')],
  ['secrets.missing', null, CTX('secrets')],
];

/** Text templates: a `${{ }}` inside a string is converted with ConvertToString. */
const TEMPLATES: Row[] = [
  ['v=${{ 1e20 }}', 'v=1E+20', TEXT],
  ['x=${{ fromJSON(env.FRUITS) }}', 'x=Array', TEXT],
  ['x=${{ fromJSON(env.VEG) }}', 'x=Object', TEXT],
  ['[${{ null }}]', '[]', TEXT],
  ['n=${{ matrix.node }}', 'n=20', TEXT],
  ['r=${{ matrix.ratio }}', 'r=0.5', TEXT],
  ['${{ NaN }} ${{ -0 }} ${{ Infinity }}', 'NaN -0 Infinity', TEXT],
  ['b=${{ true }}', 'b=true', TEXT],
  ['results: ${{ tasks.*.result }}', 'results: Array', TEXT],
  ['${{ 0.1 }}', '0.1', TEXT],
  ['${{ 1234567890123456789 }}', '1.23456789012346E+18', TEXT],
  ["${{ format('{0}', env) }}", 'Object', TEXT],
];

/** Conditions with GitHub's status functions, by the state of the job so far. */
const passing: StatusContext = { success: true, failure: false, cancelled: false };
const failing: StatusContext = { success: false, failure: true, cancelled: false };
const cancelling: StatusContext = { success: false, failure: false, cancelled: true };
const CONDITIONS: Array<[condition: string, status: StatusContext, expected: boolean, source: string]> = [
  ['success()', passing, true, STATUS],
  ['failure()', passing, false, STATUS],
  ['always()', passing, true, STATUS],
  ['cancelled()', passing, false, STATUS],
  ['success()', failing, false, STATUS],
  ['failure()', failing, true, STATUS],
  ['always()', failing, true, STATUS],
  ['cancelled()', cancelling, true, STATUS],
  ["inputs.name == 'Mona'", failing, false, `${STATUS} (no status function: success() && …)`],
  ["inputs.name == 'Mona'", passing, true, STATUS],
  ["failure() && inputs.name == 'Mona'", failing, true, STATUS],
  ["${{ failure() && steps.build.outcome == 'failure' }}", failing, true, STATUS],
  ['!cancelled()', failing, true, STATUS],
  ['', failing, false, `${STATUS} (an empty condition is success())`],
];

// One workspace for every hashFiles row (tempDir() is per test), removed when the file is done.
const workspace = mkdtempSync(join(tmpdir(), 'baton-expr-github-'));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));
const combined = (contents: string[]): string => {
  const all = createHash('sha256');
  for (const c of contents) all.update(createHash('sha256').update(c).digest());
  return all.digest('hex');
};

beforeAll(() => {
  mkdirSync(join(workspace, 'src'));
  mkdirSync(join(workspace, 'sub'));
  mkdirSync(join(workspace, '.github/workflows'), { recursive: true });
  writeFileSync(join(workspace, 'package-lock.json'), 'lock');
  writeFileSync(join(workspace, 'sub/package-lock.json'), 'sublock');
  writeFileSync(join(workspace, 'src/a.ts'), 'a');
  writeFileSync(join(workspace, 'src/b.js'), 'b');
  writeFileSync(join(workspace, '.github/workflows/ci.yml'), 'ci');
});

const functions = { hashFiles: (patterns: string[]) => hashFiles(workspace, patterns) };

function outcome(run: () => ExprValue): { value: ExprValue } | { error: string } {
  try {
    return { value: run() };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

function check(actual: { value: ExprValue } | { error: string }, expected: Expected): void {
  if (expected !== null && typeof expected === 'object' && 'error' in expected && !Array.isArray(expected)) {
    expect('error' in actual ? actual.error : actual).toEqual(
      expect.stringContaining(expected.error as string),
    );
  } else if (
    expected !== null &&
    typeof expected === 'object' &&
    'hash' in expected &&
    !Array.isArray(expected)
  ) {
    expect(actual).toEqual({ value: combined(expected.hash as string[]) });
  } else {
    expect(actual).toEqual({ value: expected });
  }
}

describe('expressions as GitHub evaluates them', () => {
  it('has at least 300 cases, each citing its source', () => {
    const all = [...ROWS, ...TEMPLATES, ...CONDITIONS];
    expect(all.length).toBeGreaterThanOrEqual(300);
    for (const row of all) expect(row[row.length - 1]).toMatch(/^(docs|actions\/runner) /);
  });

  it.each(ROWS)('%s → %j (%s)', (source, expected) => {
    check(
      outcome(() => evaluate(parseExpression(source), ctx, source, { status: passing, functions })),
      expected,
    );
  });

  it.each(TEMPLATES)('%s → %j (%s)', (template, expected) => {
    check(
      outcome(() => evaluateTemplate(template, ctx, { functions })),
      expected,
    );
  });

  it.each(CONDITIONS)('if: %s with %j → %s (%s)', (condition, status, expected) => {
    expect(evaluateCondition(condition, ctx, { status, functions })).toBe(expected);
  });
});
