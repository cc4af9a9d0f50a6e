// GitHub matrices computed from expressions ("Workflow syntax", jobs.<job_id>.strategy.matrix; "Expressions",
// fromJSON: "strategy: matrix: ${{ fromJSON(needs.job1.outputs.matrix) }}"). The compiler keeps the matrix as
// written (readDeferredMatrix); the server evaluates it once the job's dependencies are final and replaces the
// placeholder task with one task per combination (expandDeferredMatrix), or fails it with the reason.

import { isAlias, isMap, isScalar, isSeq, type Node } from 'yaml';
import { labelProblem } from '../protocol/labels.ts';
import type { TaskSpec } from '../protocol/plan.ts';
import type { MatrixDraft, TemplateRef } from './drafts.ts';
import { ExpressionError } from './expression-error.ts';
import { evaluate, truthy, type ExpressionContext } from './expression-eval.ts';
import { parseExpression } from './expression-parser.ts';
import type { ExprValue } from './expression-values.ts';
import { combinationTask } from './expand.ts';
import { expandCombinations, expansionName, type Combination, type MatrixValue } from './matrix.ts';
import type { Located, NodeReader } from './node-reader.ts';
import { OUTPUT_NAME } from './static-values.ts';
import { evaluateTemplate, splitTemplate } from './template.ts';

/** True when a `${{` stands anywhere in the node (a key or a value). */
export function holdsExpression(node: unknown): boolean {
  if (isScalar(node)) return typeof node.value === 'string' && node.value.includes('${{');
  if (isSeq(node)) return node.items.some(holdsExpression);
  if (isMap(node)) return node.items.some((pair) => holdsExpression(pair.key) || holdsExpression(pair.value));
  return false;
}

/**
 * The matrix as JSON, each `${{ }}` string recorded for the compile-time checks with the contexts the server
 * has when it expands it (inputs, needs, run); its keys when they are written (any key may be read).
 */
export function readDeferredMatrix(
  reader: NodeReader,
  loc: Located,
  owner: string,
  templates: TemplateRef[],
): MatrixDraft {
  const what = `'strategy.matrix' of ${owner}`;
  const keys = new Set<string>();
  const toJson = (node: unknown, path: string, depth: number): unknown => {
    const resolved = isAlias(node) ? reader.resolve(node) : (node as Node | null);
    if (isMap(resolved)) {
      const out = Object.create(null) as Record<string, unknown>; // a key '__proto__' stays a key
      for (const pair of resolved.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        const keyAt = reader.position(pair.key as Node, loc.at);
        if (key.includes('${{')) {
          // A computed key: its name is checked once evaluated.
          templates.push({ text: key, at: keyAt, path, what, kind: 'template', where: 'task-if' });
        } else if (depth === 0 && key !== 'include' && key !== 'exclude') {
          if (!OUTPUT_NAME.test(key)) {
            const message = `matrix key '${key}' of ${owner} is not valid; use letters, digits, _ and -, not starting with a digit or -`;
            reader.report('invalid_name', message, keyAt, `${path}.${key}`);
          }
          keys.add(key);
        }
        out[key] = toJson(pair.value, `${path}.${key}`, depth + 1);
      }
      return out;
    }
    if (isSeq(resolved)) return resolved.items.map((item, i) => toJson(item, `${path}[${i}]`, depth + 1));
    if (!isScalar(resolved)) return null;
    const value = resolved.value;
    if (typeof value === 'string' && value.includes('${{'))
      templates.push({
        text: value,
        at: reader.position(resolved, loc.at),
        path,
        what,
        kind: 'template',
        where: 'task-if',
      });
    return typeof value === 'bigint' ? Number(value) : value;
  };
  const deferred = toJson(loc.node, loc.path, 0);
  return { combinations: [], keys, at: loc.at, path: loc.path, failFast: true, deferred };
}

export interface MatrixLimits {
  maxMatrixSize: number;
}

/**
 * The tasks a deferred matrix makes, evaluated with `ctx` (inputs, needs/tasks, run). An error sentence names
 * the job, what the value was and the rule or limit it breaks.
 */
export function expandDeferredMatrix(
  spec: TaskSpec,
  ctx: ExpressionContext,
  limits: MatrixLimits,
): { tasks: TaskSpec[] } | { error: string } {
  const deferred = spec.deferredMatrix;
  const group = spec.strategy?.group ?? spec.name;
  const owner = `the matrix of job '${group}'`;
  if (deferred === undefined) return { tasks: [spec] };
  let value: ExprValue;
  try {
    value = evaluateValue(deferred.value, ctx);
  } catch (error) {
    if (error instanceof ExpressionError) return { error: `${owner} cannot be evaluated: ${error.message}` };
    throw error;
  }
  const matrix = toMatrix(value, owner, limits);
  if ('error' in matrix) return matrix;
  const strategy = computedStrategy(spec.strategy ?? { group, failFast: true }, deferred, ctx, group);
  if ('error' in strategy) return strategy;
  const tasks: TaskSpec[] = [];
  const names = new Set<string>();
  for (const [index, combination] of matrix.combinations.entries()) {
    const name = expansionName(group, combination);
    if (names.has(name))
      return { error: `${owner} makes the job '${name}' twice; remove the repeated values` };
    names.add(name);
    const badLabels: string[] = [];
    const place = { ...strategy, index, total: matrix.combinations.length };
    const made = combinationTask(spec, place, combination, name, deferred.flags ?? [], (label, value) => {
      const problem = labelProblem(value);
      if (problem !== undefined)
        badLabels.push(`runs-on label '${short(value)}' of job '${name}' ${problem}`);
      return problem !== undefined;
    });
    const problems = [...made.problems, ...badLabels];
    if (problems.length > 0) return { error: problems.join('; ') };
    tasks.push(made.spec);
  }
  return { tasks };
}

/** `fail-fast` (truthy) and `max-parallel` (a whole number of at least 1) written as expressions, evaluated. */
function computedStrategy(
  base: NonNullable<TaskSpec['strategy']>,
  deferred: NonNullable<TaskSpec['deferredMatrix']>,
  ctx: ExpressionContext,
  group: string,
): NonNullable<TaskSpec['strategy']> | { error: string } {
  const strategy = { ...base };
  try {
    if (deferred.failFast !== undefined) strategy.failFast = truthy(evaluateValue(deferred.failFast, ctx));
    if (deferred.maxParallel !== undefined) {
      const value = evaluateValue(deferred.maxParallel, ctx);
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
        return {
          error: `'max-parallel' of job '${group}' is ${describe(value)}; it must be a whole number of at least 1`,
        };
      strategy.maxParallel = n;
    }
  } catch (error) {
    if (error instanceof ExpressionError)
      return { error: `the strategy of job '${group}' cannot be evaluated: ${error.message}` };
    throw error;
  }
  return strategy;
}

/** A JSON value with each `${{ }}` string evaluated: one whole expression keeps its type (a fromJSON object stays one). */
function evaluateValue(value: unknown, ctx: ExpressionContext): ExprValue {
  if (Array.isArray(value)) return value.map((item) => evaluateValue(item, ctx));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k.includes('${{') ? evaluateTemplate(k, ctx) : k,
        evaluateValue(v, ctx),
      ]),
    );
  if (typeof value !== 'string' || !value.includes('${{'))
    return value === undefined ? null : (value as string | number | boolean | null);
  const parts = splitTemplate(value.trim());
  const only = parts[0];
  if (parts.length === 1 && only?.kind === 'expression') {
    return evaluate(parseExpression(only.source), ctx, only.source);
  }
  return evaluateTemplate(value, ctx);
}

const describe = (value: ExprValue): string =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'a list'
      : typeof value === 'object'
        ? 'a map'
        : typeof value === 'string'
          ? `the string '${short(value)}'`
          : `${typeof value === 'number' ? 'the number' : 'the boolean'} ${String(value)}`;

const RULE = 'a matrix is a map of keys to lists of values, with optional include and exclude lists of maps';

/**
 * Characters of one matrix value computed at run time. Each value is part of its task's name (`test (v1, v2)`),
 * shown in every list of the run; a step's output can make it, so it is bounded.
 */
export const MAX_MATRIX_VALUE_CHARS = 256;

function isScalarValue(value: ExprValue): value is MatrixValue {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function short(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** The first value of the combinations over MAX_MATRIX_VALUE_CHARS, as an error sentence. */
function tooLong(combinations: Combination[], owner: string): string | undefined {
  for (const combination of combinations)
    for (const [key, value] of Object.entries(combination))
      if (String(value).length > MAX_MATRIX_VALUE_CHARS)
        return `${owner} has a value of '${key}' that is ${String(value).length} characters ('${short(String(value))}'); the limit is ${MAX_MATRIX_VALUE_CHARS} characters per matrix value`;
  return undefined;
}

/** The evaluated value checked as GitHub's matrix and expanded; the combination count is limited. */
function toMatrix(
  value: ExprValue,
  owner: string,
  limits: MatrixLimits,
): { combinations: Combination[] } | { error: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { error: `${owner} is ${describe(value)}, not a matrix; ${RULE}` };
  const axes: Array<{ key: string; values: MatrixValue[] }> = [];
  let include: Combination[] = [];
  let exclude: Combination[] = [];
  for (const [key, entry] of Object.entries(value)) {
    if (key === 'include' || key === 'exclude') {
      const entries = toEntries(entry, `'${key}' of ${owner}`);
      if ('error' in entries) return entries;
      if (key === 'include') include = entries.entries;
      else exclude = entries.entries;
      continue;
    }
    if (!OUTPUT_NAME.test(key))
      return {
        error: `${owner} has the key '${key}', which is not valid; use letters, digits, _ and -, not starting with a digit or -`,
      };
    if (!Array.isArray(entry))
      return { error: `key '${key}' of ${owner} is ${describe(entry)}, not a list; ${RULE}` };
    if (entry.length === 0)
      return { error: `key '${key}' of ${owner} is an empty list; give at least one value` };
    const bad = entry.find((item) => !isScalarValue(item));
    if (bad !== undefined)
      return {
        error: `key '${key}' of ${owner} holds ${describe(bad)}; matrix values must be strings, numbers or booleans`,
      };
    axes.push({ key, values: entry as MatrixValue[] });
  }
  const baseKeys = axes.map((axis) => axis.key);
  for (const entry of exclude) {
    const unknown = Object.keys(entry).find((key) => !baseKeys.includes(key));
    if (unknown !== undefined)
      return {
        error: `'exclude' of ${owner} uses '${unknown}', which is not a matrix key; keys are ${baseKeys.join(', ') || '(none)'}`,
      };
  }
  if (axes.length === 0 && include.length === 0)
    return { error: `${owner} is empty; list values under at least one key, or 'include'` };
  const tooBig = (count: number) => ({
    error: `${owner} makes ${count} combinations; the limit is ${limits.maxMatrixSize} per matrix (GitHub's limit)`,
  });
  const product = axes.reduce((n, axis) => n * axis.values.length, 1);
  if (product > limits.maxMatrixSize) return tooBig(product);
  if (include.length > limits.maxMatrixSize) return tooBig(product + include.length);
  const combinations = expandCombinations(axes, exclude, include);
  if (combinations.length > limits.maxMatrixSize) return tooBig(combinations.length);
  if (combinations.length === 0) return { error: `${owner} has no combinations left after 'exclude'` };
  const long = tooLong(combinations, owner);
  if (long !== undefined) return { error: long };
  return { combinations };
}

function toEntries(value: ExprValue, what: string): { entries: Combination[] } | { error: string } {
  if (!Array.isArray(value)) return { error: `${what} is ${describe(value)}, not a list of maps` };
  const entries: Combination[] = [];
  for (const item of value) {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      return { error: `each entry of ${what} must be a map of matrix keys to values, not ${describe(item)}` };
    const pairs = Object.entries(item);
    const bad = pairs.find(([, v]) => !isScalarValue(v));
    if (bad !== undefined)
      return {
        error: `'${bad[0]}' in ${what} is ${describe(bad[1])}; matrix values must be strings, numbers or booleans`,
      };
    entries.push(Object.fromEntries(pairs) as Combination); // defined, not assigned: '__proto__' stays a key
  }
  return { entries };
}
