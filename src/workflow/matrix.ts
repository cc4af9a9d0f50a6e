// `strategy.matrix`: read and expanded exactly as GitHub Actions does (cartesian product, then
// `exclude` removes matching combinations, then `include` extends or adds combinations).

import { isMap, isSeq } from 'yaml';
import type { MatrixDraft, TemplateRef } from './drafts.ts';
import { holdsExpression, readDeferredMatrix } from './matrix-deferred.ts';
import type { WorkflowLimits } from './limits.ts';
import { readBool } from './native-control.ts';
import type { Field, Located, NodeReader } from './node-reader.ts';
import { OUTPUT_NAME } from './static-values.ts';

export type MatrixValue = string | number | boolean;
export type Combination = Record<string, MatrixValue>;

/** Key spellings of `strategy`: the native format uses snake_case, GitHub kebab-case. */
export interface StrategyKeys {
  maxParallel: string;
  failFast: string;
}

export function readStrategy(
  reader: NodeReader,
  loc: Located,
  owner: string,
  limits: WorkflowLimits,
  keys: StrategyKeys,
  /** GitHub: a matrix holding `${{ }}` is kept for the server to expand (its templates recorded here). */
  deferTo?: TemplateRef[],
): MatrixDraft | undefined {
  const what = `'strategy' of ${owner}`;
  const fields = reader.map(loc, what);
  if (fields === undefined) return undefined;
  let matrix: MatrixDraft | undefined;
  let sawMatrix = false;
  let maxParallel: number | undefined;
  let failFast = true;
  const known = reader.checkKeys(fields, ['matrix', keys.maxParallel, keys.failFast], what);
  // GitHub: `fail-fast` and `max-parallel` may be expressions too; then the whole strategy waits for the server.
  const computed: NonNullable<MatrixDraft['computed']> = {};
  if (deferTo !== undefined)
    for (const field of known) {
      const text = reader.scalar(field);
      if (field.key === 'matrix' || typeof text !== 'string' || !text.includes('${{')) continue;
      const ref = `'${field.key}' of ${owner}`;
      deferTo.push({ text, at: field.at, path: field.path, what: ref, kind: 'template', where: 'task-if' });
      if (field.key === keys.failFast) computed.failFast = text;
      else computed.maxParallel = text;
    }
  const defer = Object.keys(computed).length > 0;
  for (const field of known) {
    if (field.node === null) continue;
    if (field.key === 'matrix') {
      sawMatrix = true;
      matrix =
        deferTo !== undefined && (defer || holdsExpression(field.node))
          ? readDeferredMatrix(reader, field, owner, deferTo)
          : readMatrix(reader, field, owner, limits);
    } else if (
      defer &&
      (field.key === keys.failFast ? computed.failFast : computed.maxParallel) !== undefined
    ) {
      continue;
    } else if (field.key === keys.failFast) {
      failFast = readBool(reader, field, owner) ?? true;
    } else {
      const value = reader.scalar(field);
      if (typeof value === 'number' && Number.isInteger(value) && value >= 1) maxParallel = value;
      else
        reader.report(
          'invalid_value',
          `'${keys.maxParallel}' of ${owner} must be a whole number of at least 1, not ${reader.describe(field.node)}`,
          field.at,
          field.path,
        );
    }
  }
  if (!sawMatrix) {
    reader.report('missing_field', `${what} needs 'matrix'`, loc.at, loc.path);
    return undefined;
  }
  if (matrix === undefined) return undefined;
  matrix.failFast = failFast;
  if (maxParallel !== undefined) matrix.maxParallel = maxParallel;
  if (defer) matrix.computed = computed;
  return matrix;
}

function readMatrix(
  reader: NodeReader,
  loc: Field,
  owner: string,
  limits: WorkflowLimits,
): MatrixDraft | undefined {
  const what = `'matrix' of ${owner}`;
  const text = reader.scalar(loc);
  if (typeof text === 'string' && text.includes('${{')) {
    const message = `${what} is computed at run time (${text.trim()}); Baton expands matrices when the workflow is compiled, so list the values`;
    reader.report('invalid_value', message, loc.at, loc.path);
    return undefined;
  }
  const fields = reader.map(loc, what);
  if (fields === undefined) return undefined;
  const axes: Array<{ key: string; values: MatrixValue[] }> = [];
  let include: Combination[] = [];
  let exclude: Combination[] = [];
  let ok = true;
  for (const field of fields) {
    if (field.key === 'include' || field.key === 'exclude') {
      const entries = readEntries(reader, field, `'${field.key}' of ${what}`);
      if (entries === undefined) ok = false;
      else if (field.key === 'include') include = entries;
      else exclude = entries;
      continue;
    }
    if (!OUTPUT_NAME.test(field.key)) {
      const message = `matrix key '${field.key}' of ${owner} is not valid; use letters, digits, _ and -, not starting with a digit or -`;
      reader.report('invalid_name', message, field.keyAt, field.path);
      ok = false;
      continue;
    }
    const values = readAxis(reader, field, owner);
    if (values === undefined) ok = false;
    else axes.push({ key: field.key, values });
  }
  if (!ok) return undefined;
  const baseKeys = axes.map((axis) => axis.key);
  for (const entry of exclude) {
    const unknown = Object.keys(entry).find((key) => !baseKeys.includes(key));
    if (unknown !== undefined) {
      const message = `'exclude' of ${what} uses '${unknown}', which is not a matrix key; keys are ${baseKeys.join(', ') || '(none)'}`;
      reader.report('invalid_value', message, loc.at, loc.path);
      return undefined;
    }
  }
  if (axes.length === 0 && include.length === 0) {
    reader.report(
      'invalid_value',
      `${what} is empty; list values under at least one key, or 'include'`,
      loc.at,
      loc.path,
    );
    return undefined;
  }
  const size = axes.reduce((product, axis) => product * axis.values.length, 1);
  const tooBig = (count: number) =>
    reader.report(
      'limit_exceeded',
      `${what} makes ${count} combinations; the limit is ${limits.maxMatrixSize} per matrix`,
      loc.at,
      loc.path,
    );
  if (size > limits.maxMatrixSize) {
    tooBig(size);
    return undefined;
  }
  const combinations = expandCombinations(axes, exclude, include);
  if (combinations.length > limits.maxMatrixSize) {
    tooBig(combinations.length);
    return undefined;
  }
  if (combinations.length === 0) {
    reader.report('invalid_value', `${what} has no combinations left after 'exclude'`, loc.at, loc.path);
    return undefined;
  }
  const keys = new Set(combinations.flatMap((combination) => Object.keys(combination)));
  return { combinations, keys, at: loc.keyAt, path: loc.path, failFast: true };
}

function readAxis(reader: NodeReader, field: Field, owner: string): MatrixValue[] | undefined {
  const what = `matrix key '${field.key}' of ${owner}`;
  if (!isSeq(field.node)) {
    reader.report(
      'invalid_type',
      `${what} must be a list of values, not ${reader.describe(field.node)}`,
      field.at,
      field.path,
    );
    return undefined;
  }
  const items = reader.list(field, what) ?? [];
  if (items.length === 0) {
    reader.report('invalid_value', `${what} is an empty list; give at least one value`, field.at, field.path);
    return undefined;
  }
  const values: MatrixValue[] = [];
  for (const item of items) {
    const value = readValue(reader, item, what);
    if (value === undefined) return undefined;
    values.push(value);
  }
  return values;
}

function readEntries(reader: NodeReader, loc: Located, what: string): Combination[] | undefined {
  const items = reader.list(loc, what);
  if (items === undefined) return undefined;
  const entries: Combination[] = [];
  for (const item of items) {
    if (!isMap(item.node)) {
      reader.report(
        'invalid_type',
        `each entry of ${what} must be a map of matrix keys to values, not ${reader.describe(item.node)}`,
        item.at,
        item.path,
      );
      return undefined;
    }
    const entry: Array<[string, MatrixValue]> = [];
    for (const field of reader.map(item, what) ?? []) {
      const value = readValue(reader, field, `'${field.key}' in ${what}`);
      if (value === undefined) return undefined;
      entry.push([field.key, value]);
    }
    entries.push(Object.fromEntries(entry));
  }
  return entries;
}

function readValue(reader: NodeReader, loc: Located, what: string): MatrixValue | undefined {
  const value = reader.scalar(loc);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  reader.report(
    'invalid_type',
    `values of ${what} must be strings, numbers or booleans, not ${reader.describe(loc.node)}`,
    loc.at,
    loc.path,
  );
  return undefined;
}

/**
 * GitHub's algorithm. The product varies the last key fastest. An `exclude` entry removes every
 * combination matching all its pairs. Each `include` entry is added to every product combination
 * whose original values it matches (it may overwrite values added by an earlier include, never
 * original ones); an entry matching none becomes a combination of its own. With no keys besides
 * `include`, its entries are the combinations.
 */
export function expandCombinations(
  axes: Array<{ key: string; values: MatrixValue[] }>,
  exclude: Combination[],
  include: Combination[],
): Combination[] {
  if (axes.length === 0) return include.map((entry) => ({ ...entry }));
  let product: Combination[] = [{}];
  for (const { key, values } of axes)
    product = product.flatMap((partial) => values.map((value) => ({ ...partial, [key]: value })));
  const matches = (combination: Combination, entry: Combination, keys: readonly string[]) =>
    keys.every((key) => !Object.hasOwn(entry, key) || combination[key] === entry[key]);
  const baseKeys = axes.map((axis) => axis.key);
  const kept = product.filter(
    (combination) => !exclude.some((entry) => matches(combination, entry, Object.keys(entry))),
  );
  const added: Combination[] = [];
  for (const entry of include) {
    const targets = kept.filter((combination) => matches(combination, entry, baseKeys));
    if (targets.length === 0) {
      added.push({ ...entry });
      continue;
    }
    for (const combination of targets)
      for (const [key, value] of Object.entries(entry)) if (!baseKeys.includes(key)) combination[key] = value;
  }
  return [...kept, ...added];
}

/** `build (linux, 18)`: the group name and the combination's values in key order. */
export function expansionName(group: string, combination: Combination): string {
  return `${group} (${Object.values(combination).map(String).join(', ')})`;
}
