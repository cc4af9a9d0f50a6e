// Values of the expression language and GitHub Actions' rules for them: truthiness, coercion to
// numbers, loose (case-insensitive) comparison, member access, and conversion to text.

export type ExprValue = string | number | boolean | null | ExprValue[] | { [key: string]: ExprValue };

/**
 * Arrays made by the `*` filter. Property access on one maps over its items (dropping missing
 * ones) instead of reading the array's own properties: `tasks.*.result` is every task's result.
 */
const filtered = new WeakSet<ExprValue[]>();

export function filteredArray(items: ExprValue[]): ExprValue[] {
  filtered.add(items);
  return items;
}

export function isFiltered(value: ExprValue): value is ExprValue[] {
  return Array.isArray(value) && filtered.has(value);
}

export function truthy(value: ExprValue): boolean {
  if (value === null || value === false || value === '') return false;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  return true;
}

/**
 * GitHub's coercion (actions/runner ExpressionUtility.ParseNumber): null 0, booleans 1/0, strings
 * trimmed and parsed ('' is 0; decimal with optional sign, point and exponent; `0x` hex and `0o` octal
 * as 32-bit integers; Infinity and NaN spelled in any case), arrays and objects NaN.
 */
export function toNumber(value: ExprValue): number {
  if (value === null) return 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return parseNumber(value);
  return Number.NaN;
}

const DECIMAL = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const SPECIAL = /^([-+]?)(infinity|nan)$/i;

/** A string as a number, as GitHub reads one; NaN when it is not one. */
export function parseNumber(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '') return 0;
  if (DECIMAL.test(trimmed)) return Number(trimmed);
  if (/^0x[0-9a-fA-F]+$/.test(trimmed)) return int32(trimmed.slice(2), 16, 8);
  if (/^0o[0-7]+$/.test(trimmed)) return int32(trimmed.slice(2), 8, 11);
  const special = SPECIAL.exec(trimmed);
  if (special === null || special[2]!.toLowerCase() === 'nan') return Number.NaN;
  return special[1] === '-' ? -Infinity : Infinity;
}

/** A 32-bit integer in hex or octal: values past 2^31 wrap to negatives, past 2^32 are NaN. */
function int32(digits: string, radix: number, maxDigits: number): number {
  const significant = digits.replace(/^0+/, '');
  if (significant.length > maxDigits) return Number.NaN;
  const value = Number.parseInt(significant === '' ? '0' : significant, radix);
  return value > 0xffffffff ? Number.NaN : value | 0;
}

/** One code point upper-cased when that stays one code point (ordinal ignore-case, not 'ß' → 'SS'). */
export function foldCase(text: string): string {
  let folded = '';
  for (const ch of text) {
    const upper = ch.toUpperCase();
    folded += [...upper].length === 1 ? upper : ch;
  }
  return folded;
}

/** -1, 0, 1, or undefined when the values do not compare (NaN, or objects). */
function order(left: ExprValue, right: ExprValue): number | undefined {
  if (typeof left === 'string' && typeof right === 'string') {
    // Case-insensitive ordinal comparison, as GitHub compares strings.
    const a = foldCase(left);
    const b = foldCase(right);
    return a === b ? 0 : a < b ? -1 : 1;
  }
  const leftObject = typeof left === 'object' && left !== null;
  const rightObject = typeof right === 'object' && right !== null;
  if (leftObject || rightObject) return leftObject && rightObject && left === right ? 0 : undefined;
  const a = toNumber(left);
  const b = toNumber(right);
  if (Number.isNaN(a) || Number.isNaN(b)) return undefined;
  return a === b ? 0 : a < b ? -1 : 1;
}

/** Loose equality: same-type values directly (strings ignoring case), mixed types as numbers. */
export function looseEquals(left: ExprValue, right: ExprValue): boolean {
  return order(left, right) === 0;
}

export function compareValues(operator: string, left: ExprValue, right: ExprValue): boolean {
  const sign = order(left, right);
  if (operator === '!=') return sign !== 0;
  if (sign === undefined) return false; // NaN and objects are neither equal nor ordered
  switch (operator) {
    case '==':
      return sign === 0;
    case '<':
      return sign < 0;
    case '<=':
      return sign <= 0;
    case '>':
      return sign > 0;
    default:
      return sign >= 0;
  }
}

/**
 * A member of an object or array; null when missing. Own properties only, so `inputs.constructor`
 * is null and never a prototype's function. Object keys match case-insensitively when no key
 * matches exactly (`env.path` finds `PATH`), as GitHub's dictionaries do. An array index is a
 * number (a string is read as one) rounded down, as in actions/runner's Index operator.
 */
export function member(object: ExprValue, key: ExprValue): ExprValue {
  return lookup(object, key) ?? null;
}

/** Like member, but undefined when there is no such member (a member may hold null). */
export function lookup(object: ExprValue, key: ExprValue): ExprValue | undefined {
  if (Array.isArray(object)) {
    if (typeof key === 'object' && key !== null) return undefined;
    const index = Math.floor(toNumber(key));
    return Number.isInteger(index) && index >= 0 && index < object.length ? object[index] : undefined;
  }
  if (object === null || typeof object !== 'object') return undefined;
  if (typeof key === 'object' && key !== null) return undefined;
  const name = stringify(key);
  if (Object.hasOwn(object, name)) return object[name];
  const lower = foldCase(name);
  for (const candidate of Object.keys(object)) if (foldCase(candidate) === lower) return object[candidate];
  return undefined;
}

/** The values of an array or object (what `*` yields); nothing for other values. */
export function children(value: ExprValue): ExprValue[] {
  if (Array.isArray(value)) return [...value];
  if (value !== null && typeof value === 'object') return Object.values(value);
  return [];
}

/**
 * How a value becomes text (actions/runner EvaluationResult.ConvertToString): null '', booleans
 * 'true'/'false', numbers in .NET's "G15" format, an array 'Array' and an object 'Object'.
 */
export function stringify(value: ExprValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'Array' : 'Object';
}

/**
 * A number as GitHub writes it (.NET `ToString("G15")`): at most 15 significant digits, no trailing
 * zeros, fixed notation when the decimal exponent is from -5 to 14, otherwise `1.5E+20` / `1E-05`
 * (sign and at least two exponent digits); `-0`, `NaN`, `Infinity`, `-Infinity`.
 */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const sign = value < 0 ? '-' : '';
  // toExponential(14) is 15 significant digits, rounded once: d.dddddddddddddde±x
  const [mantissa, exp] = Math.abs(value).toExponential(14).split('e') as [string, string];
  const exponent = Number(exp);
  const digits = mantissa.replace('.', '').replace(/0+$/, '');
  if (exponent > -5 && exponent < 15) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
    const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
    const fraction = digits.slice(exponent + 1);
    return `${sign}${whole}${fraction === '' ? '' : `.${fraction}`}`;
  }
  const fraction = digits.slice(1);
  const e = `${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  return `${sign}${digits[0]}${fraction === '' ? '' : `.${fraction}`}E${e}`;
}

/** A record of strings as an expression object, copied so that evaluation can never change it. */
export function fromRecord(record: Record<string, unknown> | undefined): { [key: string]: ExprValue } {
  const entries: Array<[string, ExprValue]> = [];
  for (const [key, value] of Object.entries(record ?? {})) entries.push([key, toValue(value)]);
  return Object.fromEntries(entries);
}

function toValue(value: unknown): ExprValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map(toValue);
  if (typeof value === 'object') return fromRecord(value as Record<string, unknown>);
  return null;
}
