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

/** GitHub's coercion: null 0, booleans 1/0, strings parsed ('' is 0, hex allowed), others NaN. */
export function toNumber(value: ExprValue): number {
  if (value === null) return 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return 0;
    if (/^[-+]?0x[0-9a-f]+$/i.test(trimmed)) {
      const magnitude = Number.parseInt(trimmed.replace(/^[-+]/, ''), 16);
      return trimmed.startsWith('-') ? -magnitude : magnitude;
    }
    return /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(trimmed) || /^[-+]?Infinity$/.test(trimmed)
      ? Number(trimmed)
      : Number.NaN;
  }
  return Number.NaN;
}

/** -1, 0, 1, or undefined when the values do not compare (NaN, or objects). */
function order(left: ExprValue, right: ExprValue): number | undefined {
  if (typeof left === 'string' && typeof right === 'string') {
    // Case-insensitive ordinal comparison, as GitHub compares strings.
    const a = left.toUpperCase();
    const b = right.toUpperCase();
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
 * matches exactly (`env.path` finds `PATH`), as GitHub's dictionaries do.
 */
export function member(object: ExprValue, key: ExprValue): ExprValue {
  if (Array.isArray(object)) {
    const index = typeof key === 'number' ? key : typeof key === 'string' ? toNumber(key) : Number.NaN;
    return Number.isInteger(index) && index >= 0 && index < object.length ? (object[index] ?? null) : null;
  }
  if (object === null || typeof object !== 'object') return null;
  const name = typeof key === 'string' ? key : stringify(key);
  if (Object.hasOwn(object, name)) return object[name] ?? null;
  const lower = name.toLowerCase();
  for (const candidate of Object.keys(object))
    if (candidate.toLowerCase() === lower) return object[candidate] ?? null;
  return null;
}

/** The values of an array or object (what `*` yields); nothing for other values. */
export function children(value: ExprValue): ExprValue[] {
  if (Array.isArray(value)) return [...value];
  if (value !== null && typeof value === 'object') return Object.values(value);
  return [];
}

/** How a value becomes text inside a string: null '', booleans 'true'/'false', objects as JSON. */
export function stringify(value: ExprValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return numberText(value);
  if (typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (Object.is(value, -0)) return '0';
  return String(value);
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
