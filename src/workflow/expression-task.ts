// The `expression` task type (Harness `expression` / `expression_evalation`): one expression, evaluated on the
// runner with the contexts of any task field, whose value becomes the output `result`.
//
// Contract: expressionSource() gives the expression text of a spec's `expression` (bare, or all of it in
// `${{ }}`), or throws ExpressionError; evaluateExpressionTask() evaluates it and says whether the value is
// confidential: it is when the expression reads any part of a context that holds a confidential value (a
// secret, or a value of `confidential` — a dependency's confidential output or a confidential import). Reads
// are found from the expression's static chains, so a dynamic index (`tasks[inputs.t]`) counts as reading
// everything below its static part: the test errs towards confidential, never away from it.

import { conditionSource } from './condition.ts';
import { chains } from './expression-chains.ts';
import { ExpressionError } from './expression-error.ts';
import { evaluate, type ExpressionContext } from './expression-eval.ts';
import type { RuntimeFunctions } from './expression-functions.ts';
import { parseExpression } from './expression-parser.ts';

/** The expression of an `expression` task: its text bare or wrapped in one `${{ }}`; blank is an error. */
export function expressionSource(text: string): string {
  const source = conditionSource(text);
  if (source === undefined) throw new ExpressionError('the expression is empty', text, 0);
  return source;
}

export interface ExpressionTaskValue {
  /** A string as it is; any other value JSON-encoded (`3`, `true`, `null`, `["a"]`, `{"k":"v"}`). */
  result: string;
  confidential: boolean;
}

/** Throws ExpressionError for bad syntax, an unknown context or a failing function. */
export function evaluateExpressionTask(
  text: string,
  ctx: ExpressionContext,
  confidential: ReadonlySet<string>,
  functions?: RuntimeFunctions,
): ExpressionTaskValue {
  const source = expressionSource(text);
  const expr = parseExpression(source);
  const value = evaluate(expr, ctx, source, functions === undefined ? {} : { functions });
  const result = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
  const read = chains(expr).some((chain) => holdsConfidential(ctx, chain, confidential));
  return { result, confidential: read };
}

/** Whether the part of the context a chain names holds, anywhere below it, a confidential value. */
function holdsConfidential(
  ctx: ExpressionContext,
  chain: string[],
  confidential: ReadonlySet<string>,
): boolean {
  const [context, ...names] = chain;
  if (context === undefined) return false;
  if (context.toLowerCase() === 'secrets') return true;
  let nodes: unknown[] = [(ctx as unknown as Record<string, unknown>)[context.toLowerCase()]];
  for (const name of names) {
    const next: unknown[] = [];
    for (const node of nodes) {
      if (node === null || typeof node !== 'object') continue;
      // As member() does: an exact key, else every key that matches without regard to case.
      const record = node as Record<string, unknown>;
      if (Object.hasOwn(record, name)) next.push(record[name]);
      else
        for (const key of Object.keys(record))
          if (key.toLowerCase() === name.toLowerCase()) next.push(record[key]);
    }
    nodes = next;
  }
  return nodes.some((node) => anyConfidential(node, confidential, 0));
}

function anyConfidential(node: unknown, confidential: ReadonlySet<string>, depth: number): boolean {
  if (typeof node === 'string') return confidential.has(node);
  if (node === null || typeof node !== 'object' || depth > 64) return false;
  return Object.values(node).some((child) => anyConfidential(child, confidential, depth + 1));
}
