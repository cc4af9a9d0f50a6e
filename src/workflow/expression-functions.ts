// The expression language's functions, as GitHub Actions documents them: string helpers, JSON,
// `hashFiles` (supplied by the runner) and the status functions of `if` conditions.

import { foldCase, formatNumber, looseEquals, stringify, type ExprValue } from './expression-values.ts';

/** What success()/failure()/cancelled() return; always() is true. */
export interface StatusContext {
  success: boolean;
  failure: boolean;
  cancelled: boolean;
}

/** Functions only the runner can provide. */
export interface RuntimeFunctions {
  /** SHA-256 over the files matching the patterns (relative to the work dir), or '' when none match. */
  hashFiles?: (patterns: string[]) => string;
}

export interface CallOptions {
  status?: StatusContext;
  functions?: RuntimeFunctions;
}

/**
 * Characters one string function (format, join, toJSON) or one `${{ }}` template may produce. A 1 MiB workflow
 * repeating `{0}` over a 64 KiB value would otherwise ask the runner for gigabytes; 16 Mi characters is far
 * past every environment limit and still cheap to hold.
 */
export const MAX_EXPRESSION_STRING = 16 * 1024 * 1024;

/** Throws when `length` characters would pass MAX_EXPRESSION_STRING, naming what made them. */
export function checkStringLength(length: number, what: string): void {
  if (length > MAX_EXPRESSION_STRING)
    throw new FunctionError(
      `${what} would make a string of more than ${MAX_EXPRESSION_STRING} characters; the limit is ${MAX_EXPRESSION_STRING} (16 Mi) characters`,
    );
}

/** Thrown by a function; the evaluator turns it into an ExpressionError at the call's position. */
export class FunctionError extends Error {}

interface FunctionSpec {
  /** Canonical spelling; calls match case-insensitively. */
  name: string;
  minArgs: number;
  maxArgs: number;
  call: (args: ExprValue[], options: CallOptions) => ExprValue;
}

export const STATUS_FUNCTIONS = ['success', 'failure', 'always', 'cancelled'] as const;

const SPECS: FunctionSpec[] = [
  { name: 'contains', minArgs: 2, maxArgs: 2, call: ([search, item]) => contains(search!, item!) },
  {
    name: 'startsWith',
    minArgs: 2,
    maxArgs: 2,
    call: ([text, prefix]) => primitive(text!) && primitive(prefix!) && fold(text!).startsWith(fold(prefix!)),
  },
  {
    name: 'endsWith',
    minArgs: 2,
    maxArgs: 2,
    call: ([text, suffix]) => primitive(text!) && primitive(suffix!) && fold(text!).endsWith(fold(suffix!)),
  },
  {
    name: 'format',
    minArgs: 1,
    maxArgs: Infinity,
    call: ([pattern, ...values]) => format(stringify(pattern!), values),
  },
  {
    name: 'join',
    minArgs: 1,
    maxArgs: 2,
    // A separator that is an array or object is ignored (the default ','), as in actions/runner.
    call: ([items, separator]) =>
      join(items!, separator === undefined || !primitive(separator) ? ',' : stringify(separator)),
  },
  {
    name: 'toJSON',
    minArgs: 1,
    maxArgs: 1,
    call: ([value]) => {
      const text = toJSON(value!);
      checkStringLength(text.length, 'toJSON()');
      return text;
    },
  },
  { name: 'fromJSON', minArgs: 1, maxArgs: 1, call: ([value]) => fromJSON(stringify(value!)) },
  {
    // case(pred1, value1, pred2, value2, …, default): the value of the first true predicate.
    name: 'case',
    minArgs: 3,
    maxArgs: 255,
    call: (args) => {
      if (args.length % 2 === 0)
        throw new FunctionError(
          `case() takes an odd number of arguments (pairs and a default), not ${args.length}`,
        );
      for (let i = 0; i + 1 < args.length; i += 2) {
        const predicate = args[i];
        if (typeof predicate !== 'boolean')
          throw new FunctionError(
            `case() argument ${i + 1} must be a boolean (a predicate), not ${kindOf(predicate!)}`,
          );
        if (predicate) return args[i + 1]!;
      }
      return args[args.length - 1]!;
    },
  },
  {
    name: 'hashFiles',
    minArgs: 1,
    maxArgs: Infinity,
    call: (patterns, { functions }) => {
      if (functions?.hashFiles === undefined)
        throw new FunctionError('hashFiles() is only available on the runner');
      return functions.hashFiles(patterns.map(stringify));
    },
  },
  ...STATUS_FUNCTIONS.map((name): FunctionSpec => ({
    name,
    minArgs: 0,
    maxArgs: 0,
    call: (_args, { status }) => {
      if (status === undefined) throw new FunctionError(`${name}() is only available in 'if' conditions`);
      return name === 'always' ? true : status[name];
    },
  })),
];

/** By lower-case name. */
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map(
  SPECS.map((spec) => [spec.name.toLowerCase(), spec]),
);

function kindOf(value: ExprValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function fold(value: ExprValue): string {
  return foldCase(stringify(value));
}

function primitive(value: ExprValue): boolean {
  return value === null || typeof value !== 'object';
}

/**
 * An array holds an element loosely equal to item; two primitives: a case-insensitive substring
 * test; anything else (an object searched, an array or object sought in a string) is false.
 */
function contains(search: ExprValue, item: ExprValue): boolean {
  if (Array.isArray(search)) return search.some((element) => looseEquals(item, element));
  return primitive(search) && primitive(item) && fold(search).includes(fold(item));
}

/** An array's items as text with the separator; a primitive as text; an object ''. */
function join(items: ExprValue, separator: string): string {
  if (!Array.isArray(items)) return primitive(items) ? stringify(items) : '';
  let length = 0;
  const parts = items.map((item, i) => {
    const text = stringify(item);
    length += text.length + (i === 0 ? 0 : separator.length);
    checkStringLength(length, 'join()');
    return text;
  });
  return parts.join(separator);
}

/** `{0}` takes the first value; `{{` and `}}` are literal braces. Anything else with a brace is an error. */
function format(pattern: string, values: ExprValue[]): string {
  let result = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '{' && pattern[i + 1] === '{') {
      result += '{';
      i++;
    } else if (ch === '}' && pattern[i + 1] === '}') {
      result += '}';
      i++;
    } else if (ch === '{') {
      const close = pattern.indexOf('}', i);
      const index = close < 0 ? '' : pattern.slice(i + 1, close);
      if (/^\d+:/.test(index))
        throw new FunctionError(
          `format() string has format specifiers at character ${i + 1}; only {N} is supported`,
        );
      // As in GitHub, an index is 0 to 255 (a byte).
      if (!/^\d+$/.test(index) || Number(index) > 255)
        throw new FunctionError(`format() string has an invalid placeholder at character ${i + 1}`);
      const value = values[Number(index)];
      if (value === undefined) {
        throw new FunctionError(
          `format() string uses {${index}} but only ${values.length} value${values.length === 1 ? ' was' : 's were'} given`,
        );
      }
      const text = stringify(value);
      checkStringLength(result.length + text.length, 'format()');
      result += text;
      i = close;
    } else if (ch === '}') {
      throw new FunctionError(`format() string has an unmatched '}' at character ${i + 1}`);
    } else {
      result += ch;
    }
  }
  return result;
}

function fromJSON(text: string): ExprValue {
  try {
    // JSON.parse makes '__proto__' an own data property, so parsed objects cannot reach a prototype.
    return JSON.parse(text) as ExprValue;
  } catch (error) {
    // The text may hold a secret and the parser's message quotes it ("Unexpected token 'C', "Cx9"…"):
    // neither is shown, only the length and, when the parser gives it, where the text stops being JSON.
    const reason = error instanceof Error ? error.message : '';
    const at = /at position (\d+)/.exec(reason)?.[1];
    const where = at === undefined ? '' : `, invalid at character ${Number(at) + 1}`;
    throw new FunctionError(
      `fromJSON() got a value that is not valid JSON (${[...text].length} characters${where}; not shown, it may hold a secret)`,
    );
  }
}

/**
 * toJSON as GitHub writes it: two-space indentation, `"key": value`, `[]` and `{}` when empty, numbers
 * as text (G15, so `1E+20`, `NaN`), strings JSON-escaped (U+0085, U+2028 and U+2029 too, as
 * Newtonsoft.Json does). Iterative: a deeply nested value cannot overflow the stack.
 */
export function toJSON(value: ExprValue): string {
  type Frame = { entries: Array<[string | undefined, ExprValue]>; next: number; close: string };
  const out: string[] = [];
  const stack: Frame[] = [];
  let length = 0;
  const write = (text: string): void => {
    length += text.length;
    checkStringLength(length, 'toJSON()');
    out.push(text);
  };
  const open = (current: ExprValue): void => {
    if (Array.isArray(current) || (current !== null && typeof current === 'object')) {
      const entries: Array<[string | undefined, ExprValue]> = Array.isArray(current)
        ? current.map((item) => [undefined, item])
        : Object.entries(current);
      const [start, end] = Array.isArray(current) ? ['[', ']'] : ['{', '}'];
      if (entries.length === 0) return write(start + end);
      write(start);
      stack.push({ entries, next: 0, close: end });
      return;
    }
    write(scalarJSON(current));
  };
  open(value);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next === frame.entries.length) {
      stack.pop();
      write(`\n${'  '.repeat(stack.length)}${frame.close}`);
      continue;
    }
    const [key, item] = frame.entries[frame.next]!;
    write(`${frame.next === 0 ? '' : ','}\n${'  '.repeat(stack.length)}`);
    if (key !== undefined) write(`${jsonString(key)}: `);
    frame.next++;
    open(item);
  }
  return out.join('');
}

function scalarJSON(value: ExprValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return formatNumber(value);
  return jsonString(value as string);
}

function jsonString(text: string): string {
  return JSON.stringify(text).replace(
    /[\u0085\u2028\u2029]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
