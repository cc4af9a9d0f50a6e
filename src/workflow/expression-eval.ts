// Evaluates parsed expressions against the run's contexts, with GitHub Actions semantics:
// loose equality, case-insensitive string comparison, && and || returning operands.

import { ExpressionError } from './expression-error.ts';
import type { Expr } from './expression-parser.ts';

export type ExprValue = string | number | boolean | null | ExprValue[] | { [key: string]: ExprValue };

/** What expressions can read while a run executes. */
export interface ExpressionContext {
  inputs: Record<string, string>;
  env: Record<string, string>;
  tasks: Record<string, { outputs: Record<string, string>; result: string }>;
  run?: { id: string; name: string };
}

/** Context names an expression may start with; `needs` is `tasks` under its GitHub name. */
export const CONTEXT_NAMES = ['inputs', 'env', 'tasks', 'needs', 'run'] as const;

export function evaluate(expr: Expr, ctx: ExpressionContext, source: string): ExprValue {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'context':
      return contextValue(expr.name, ctx, source, expr.position);
    case 'property':
      return member(evaluate(expr.object, ctx, source), expr.name);
    case 'index': {
      const key = evaluate(expr.index, ctx, source);
      return member(evaluate(expr.object, ctx, source), key);
    }
    case 'not':
      return !truthy(evaluate(expr.operand, ctx, source));
    case 'logical': {
      const left = evaluate(expr.left, ctx, source);
      if (expr.operator === '&&') return truthy(left) ? evaluate(expr.right, ctx, source) : left;
      return truthy(left) ? left : evaluate(expr.right, ctx, source);
    }
    case 'compare':
      return compare(expr.operator, evaluate(expr.left, ctx, source), evaluate(expr.right, ctx, source));
  }
}

function contextValue(name: string, ctx: ExpressionContext, source: string, position: number): ExprValue {
  switch (name) {
    case 'inputs':
      return ctx.inputs;
    case 'env':
      return ctx.env;
    case 'tasks':
    case 'needs': {
      const tasks: Record<string, ExprValue> = {};
      for (const [task, value] of Object.entries(ctx.tasks))
        tasks[task] = { outputs: { ...value.outputs }, result: value.result };
      return tasks;
    }
    case 'run':
      return ctx.run === undefined ? {} : { id: ctx.run.id, name: ctx.run.name };
    default:
      throw new ExpressionError(
        `unknown context '${name}'; use one of ${CONTEXT_NAMES.join(', ')}`,
        source,
        position,
      );
  }
}

/** Own properties only, so `inputs.constructor` is '' and never a prototype's function. Missing is ''. */
function member(object: ExprValue, key: ExprValue): ExprValue {
  if (Array.isArray(object)) {
    const index = typeof key === 'number' ? key : Number.NaN;
    return Number.isInteger(index) && index >= 0 && index < object.length ? (object[index] ?? '') : '';
  }
  if (object === null || typeof object !== 'object') return '';
  const name = typeof key === 'string' ? key : stringify(key);
  return Object.hasOwn(object, name) ? (object[name] ?? '') : '';
}

export function truthy(value: ExprValue): boolean {
  if (value === null || value === false || value === '') return false;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  return true;
}

function toNumber(value: ExprValue): number {
  if (value === null) return 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return 0;
    return /^0x[0-9a-f]+$/i.test(trimmed) ? Number.parseInt(trimmed, 16) : Number(trimmed);
  }
  return Number.NaN;
}

function compare(operator: string, left: ExprValue, right: ExprValue): boolean {
  if (typeof left === 'string' && typeof right === 'string') {
    const a = left.toUpperCase();
    const b = right.toUpperCase();
    return order(operator, a === b ? 0 : a < b ? -1 : 1);
  }
  if (typeof left === 'object' && left !== null && typeof right === 'object' && right !== null) {
    if (operator === '==') return left === right;
    if (operator === '!=') return left !== right;
    return false;
  }
  const a = toNumber(left);
  const b = toNumber(right);
  if (Number.isNaN(a) || Number.isNaN(b)) return operator === '!=';
  return order(operator, a === b ? 0 : a < b ? -1 : 1);
}

function order(operator: string, sign: number): boolean {
  switch (operator) {
    case '==':
      return sign === 0;
    case '!=':
      return sign !== 0;
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

/** How a value becomes text inside a string: null '', booleans 'true'/'false', objects as JSON. */
export function stringify(value: ExprValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
