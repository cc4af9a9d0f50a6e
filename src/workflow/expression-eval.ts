// Evaluates parsed expressions against a task's contexts, with GitHub Actions semantics: loose
// equality, case-insensitive strings, && and || returning operands, the `*` filter, functions.

import { ExpressionError } from './expression-error.ts';
import { FUNCTIONS, FunctionError, type CallOptions } from './expression-functions.ts';
import type { Expr } from './expression-parser.ts';
import {
  children,
  compareValues,
  filteredArray,
  fromRecord,
  isFiltered,
  lookup,
  member,
  truthy,
  type ExprValue,
} from './expression-values.ts';

export { stringify, truthy, type ExprValue } from './expression-values.ts';

/**
 * What expressions can read. The server fills `inputs`, `tasks` (direct dependencies), `matrix`
 * and `run`; the runner adds `env` (as layered for the step), `runner`, `steps`, `secrets` and
 * `imports`. An absent optional context reads as an empty object.
 */
export interface ExpressionContext {
  /** Strings, except a GitHub workflow_dispatch input typed boolean or number. */
  inputs: Record<string, string | number | boolean>;
  env: Record<string, string>;
  tasks: Record<string, { outputs: Record<string, string>; result: string }>;
  matrix?: Record<string, string | number | boolean>;
  run?: { id: string; name: string };
  /** `name`, `os`, `arch`, `temp`. */
  runner?: Record<string, string>;
  /** Earlier steps of the task, by id (the step's name). */
  steps?: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }>;
  secrets?: Record<string, string>;
  /** Imported values by their `as` name. */
  imports?: Record<string, string>;
  /** GitHub-dialect runs only (github-context.ts): `github`, `vars`, `job`, `strategy`. */
  github?: Record<string, unknown>;
  vars?: Record<string, string>;
  job?: Record<string, unknown>;
  strategy?: Record<string, number | boolean>;
}

/** Context names an expression may start with; `needs` is `tasks` under its GitHub name. */
export const CONTEXT_NAMES = [
  'inputs',
  'env',
  'tasks',
  'needs',
  'matrix',
  'run',
  'runner',
  'steps',
  'secrets',
  'imports',
] as const;
export type ContextName = (typeof CONTEXT_NAMES)[number];

export function evaluate(
  expr: Expr,
  ctx: ExpressionContext,
  source: string,
  options: CallOptions = {},
): ExprValue {
  // One copy of each context per evaluation: `env == env` is true (one object), as in GitHub.
  const contexts = new Map<string, ExprValue>();
  const run = (node: Expr): ExprValue => {
    switch (node.kind) {
      case 'literal':
        return node.value;
      case 'context': {
        const cached = contexts.get(node.name);
        if (cached !== undefined) return cached;
        const value = contextValue(node.name, ctx, source, node.position);
        contexts.set(node.name, value);
        return value;
      }
      case 'property':
        return access(run(node.object), node.name);
      case 'index': {
        const object = run(node.object);
        return access(object, run(node.index));
      }
      case 'filter':
        return filter(run(node.object));
      case 'not':
        return !truthy(run(node.operand));
      case 'logical': {
        // && returns the first falsy operand (or the last); || the first truthy one (or the last).
        let value: ExprValue = null;
        for (const operand of node.operands) {
          value = run(operand);
          if (truthy(value) === (node.operator === '||')) return value;
        }
        return value;
      }
      case 'compare':
        return compareValues(node.operator, run(node.left), run(node.right));
      case 'call': {
        const fn = FUNCTIONS.get(node.name.toLowerCase())!; // the parser accepts known functions only
        // case() evaluates only what it needs, as GitHub does: the predicates up to the first true one and its value.
        const args = node.name === 'case' ? lazyCaseArgs(node.args, run) : node.args.map(run);
        try {
          return fn.call(args, options);
        } catch (error) {
          if (error instanceof FunctionError) throw new ExpressionError(error.message, source, node.position);
          throw error;
        }
      }
    }
  };
  return run(expr);
}

/**
 * case()'s arguments, evaluated as GitHub does: predicates in order until one is true (or not a
 * boolean), then only the value it picks; arguments never reached are null and case() never reads them.
 */
function lazyCaseArgs(args: Expr[], run: (node: Expr) => ExprValue): ExprValue[] {
  const values: ExprValue[] = args.map(() => null);
  if (args.length % 2 === 0) return values; // case() reports the count
  for (let i = 0; i + 1 < args.length; i += 2) {
    const predicate = run(args[i]!);
    values[i] = predicate;
    if (typeof predicate !== 'boolean') return values;
    if (predicate) {
      values[i + 1] = run(args[i + 1]!);
      return values;
    }
  }
  values[args.length - 1] = run(args[args.length - 1]!);
  return values;
}

/**
 * On a filtered array, access maps over the items and drops missing members (a member that holds
 * null is kept, as in actions/runner).
 */
function access(object: ExprValue, key: ExprValue): ExprValue {
  if (!isFiltered(object)) return member(object, key);
  const items: ExprValue[] = [];
  for (const item of object) {
    const value = lookup(item, key);
    if (value !== undefined) items.push(value);
  }
  return filteredArray(items);
}

/** `x.*`: the values of x; on a filtered array, the values of each item, flattened one level. */
function filter(object: ExprValue): ExprValue {
  if (!isFiltered(object)) return filteredArray(children(object));
  const items: ExprValue[] = [];
  for (const item of object) for (const child of children(item)) items.push(child);
  return filteredArray(items);
}

function contextValue(name: string, ctx: ExpressionContext, source: string, position: number): ExprValue {
  switch (name as ContextName) {
    case 'inputs':
      return fromRecord(ctx.inputs);
    case 'env':
      return fromRecord(ctx.env);
    case 'tasks':
    case 'needs':
      return fromRecord(ctx.tasks);
    case 'matrix':
      return fromRecord(ctx.matrix);
    case 'run':
      return fromRecord(ctx.run);
    case 'runner':
      return fromRecord(ctx.runner);
    case 'steps':
      return fromRecord(ctx.steps);
    case 'secrets':
      return fromRecord(ctx.secrets);
    case 'imports':
      return fromRecord(ctx.imports);
    default:
      if (name === 'github' || name === 'vars' || name === 'job' || name === 'strategy')
        return fromRecord(ctx[name]);
      throw new ExpressionError(
        `unknown context '${name}'; use one of ${CONTEXT_NAMES.join(', ')}`,
        source,
        position,
      );
  }
}
