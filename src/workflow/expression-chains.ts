// The context references of an expression as chains of static names (`tasks.a.outputs.v` is
// ['tasks', 'a', 'outputs', 'v']), cut at the first dynamic index or filter: the submit-time reference checks
// (references.ts) and the runner's test of whether an `expression` task read a confidential value use them.

import type { Expr } from './expression-parser.ts';

/** A reference with its statically known names: `tasks['a'].result` is ['tasks', 'a', 'result']; `*` ends it. */
export type Chain = string[];

/** The longest static chains in an expression; expressions inside dynamic indexes are walked too. */
export function chains(root: Expr): Chain[] {
  const found: Chain[] = [];
  const pending: Expr[] = [root];
  while (pending.length > 0) {
    const expr = pending.pop()!;
    switch (expr.kind) {
      case 'context':
      case 'property':
      case 'index':
      case 'filter':
        found.push(staticChain(expr, pending));
        break;
      case 'not':
        pending.push(expr.operand);
        break;
      case 'compare':
        pending.push(expr.left, expr.right);
        break;
      case 'logical':
        for (const operand of expr.operands) pending.push(operand);
        break;
      case 'call':
        for (const arg of expr.args) pending.push(arg);
        break;
      case 'literal':
        break;
    }
  }
  return found;
}

/** Names from the context down to the first dynamic index or `*`; everything after it is not checked. */
function staticChain(expr: Expr, pending: Expr[]): Chain {
  const names: string[] = [];
  let current = expr;
  for (;;) {
    if (current.kind === 'property') {
      names.unshift(current.name);
      current = current.object;
    } else if (current.kind === 'filter') {
      names.length = 0;
      current = current.object;
    } else if (current.kind === 'index') {
      const index = current.index;
      if (index.kind === 'literal' && (typeof index.value === 'string' || typeof index.value === 'number'))
        names.unshift(String(index.value));
      else {
        pending.push(index);
        names.length = 0; // a dynamic step: only the part before it is static
      }
      current = current.object;
    } else if (current.kind === 'context') {
      return [current.name, ...names];
    } else {
      pending.push(current); // e.g. fromJSON(x).a or ('a' || 'b').c — not a context reference
      return [];
    }
  }
}
