// `if:` conditions of tasks and steps: bare or wrapped in `${{ }}`, evaluated to a boolean with
// GitHub's rule that a condition without a status function means `success() && (condition)`.

import { ExpressionError } from './expression-error.ts';
import { evaluate, truthy, type ExpressionContext } from './expression-eval.ts';
import { STATUS_FUNCTIONS, type RuntimeFunctions, type StatusContext } from './expression-functions.ts';
import { parseExpression, walkExpression, type Expr } from './expression-parser.ts';
import { splitTemplate } from './template.ts';

export type { RuntimeFunctions, StatusContext } from './expression-functions.ts';

/**
 * The expression text of a condition: `${{ x }}` is `x`, a bare `x` is itself, and blank is
 * undefined (meaning `success()`). A condition mixing text and `${{ }}` is refused: GitHub would
 * evaluate it as a string, which is always true, and that is never what was meant.
 */
export function conditionSource(condition: string): string | undefined {
  const trimmed = condition.trim();
  if (trimmed === '') return undefined;
  const open = trimmed.indexOf('${{');
  if (open < 0) return trimmed;
  const parts = splitTemplate(trimmed);
  const only = parts[0];
  if (parts.length === 1 && only?.kind === 'expression') {
    const inner = only.source.trim();
    return inner === '' ? undefined : inner;
  }
  throw new ExpressionError(
    'a condition is one expression: write it bare, or wrap all of it in ${{ }}',
    trimmed,
    open,
  );
}

function usesStatus(expr: Expr): boolean {
  let found = false;
  walkExpression(expr, (node) => {
    if (node.kind === 'call' && (STATUS_FUNCTIONS as readonly string[]).includes(node.name)) found = true;
  });
  return found;
}

/**
 * True when the condition calls success(), failure(), always() or cancelled(); false for an
 * empty condition. Throws ExpressionError when the condition does not parse.
 */
export function conditionUsesStatus(condition: string): boolean {
  const source = conditionSource(condition);
  return source !== undefined && usesStatus(parseExpression(source));
}

/**
 * Evaluates a task's or step's `if`. Empty means success(); a condition without a status function
 * is `success() && (condition)` (and is not evaluated at all when success() is false). Throws
 * ExpressionError for bad syntax, an unknown context or a failing function.
 */
export function evaluateCondition(
  condition: string,
  ctx: ExpressionContext,
  o: { status: StatusContext; functions?: RuntimeFunctions },
): boolean {
  const source = conditionSource(condition);
  if (source === undefined) return o.status.success;
  const expr = parseExpression(source);
  if (!usesStatus(expr) && !o.status.success) return false;
  return truthy(evaluate(expr, ctx, source, o));
}
