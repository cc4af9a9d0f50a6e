// Compile-time checks of `${{ }}` expressions: syntax, known contexts, declared inputs, and that
// a task reads only the tasks it depends on (their outputs reach it; others' do not).

import { ExpressionError } from './expression-error.ts';
import { CONTEXT_NAMES } from './expression-eval.ts';
import type { Expr } from './expression-parser.ts';
import { didYouMean, makeIssue, type WorkflowIssue } from './issues.ts';
import type { TemplateRef } from './native-env.ts';
import { parseTemplate } from './template.ts';

export interface ReferenceScope {
  /** The task whose strings these are; undefined for the workflow's own env. */
  task?: string;
  dependsOn: ReadonlySet<string>;
  tasks: ReadonlySet<string>;
  inputs: ReadonlySet<string>;
}

const TASK_FIELDS = ['outputs', 'result'];
const RUN_FIELDS = ['id', 'name'];

export function checkTemplate(ref: TemplateRef, scope: ReferenceScope): WorkflowIssue[] {
  let parsed: ReturnType<typeof parseTemplate>;
  try {
    parsed = parseTemplate(ref.text);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    return [
      makeIssue(
        'invalid_expression',
        `invalid expression in ${ref.what}: ${error.message}`,
        ref.at,
        ref.path,
      ),
    ];
  }
  const issues: WorkflowIssue[] = [];
  for (const { expr } of parsed) {
    for (const chain of chains(expr)) {
      const problem = checkChain(chain, ref.what, scope);
      if (problem !== undefined) issues.push(makeIssue('unknown_reference', problem, ref.at, ref.path));
    }
  }
  return issues;
}

/** A reference with its statically known names: `tasks['a'].result` is ['tasks', 'a', 'result']. */
type Chain = string[];

/** The longest static chains in an expression; expressions inside dynamic indexes are walked too. */
function chains(root: Expr): Chain[] {
  const found: Chain[] = [];
  const pending: Expr[] = [root];
  while (pending.length > 0) {
    const expr = pending.pop()!;
    switch (expr.kind) {
      case 'context':
      case 'property':
      case 'index':
        found.push(staticChain(expr, pending));
        break;
      case 'not':
        pending.push(expr.operand);
        break;
      case 'compare':
      case 'logical':
        pending.push(expr.left, expr.right);
        break;
      case 'literal':
        break;
    }
  }
  return found;
}

/** Names from the context down to the first dynamic index; everything after it is not checked. */
function staticChain(expr: Expr, pending: Expr[]): Chain {
  const names: string[] = [];
  let current = expr;
  for (;;) {
    if (current.kind === 'property') {
      names.unshift(current.name);
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
      pending.push(current); // e.g. ('a' || 'b').c — not a context reference
      return [];
    }
  }
}

function checkChain(chain: Chain, what: string, scope: ReferenceScope): string | undefined {
  const [context, name, field] = chain;
  if (context === undefined) return undefined;
  const shown = chain.join('.');
  if (!(CONTEXT_NAMES as readonly string[]).includes(context)) {
    return `${what} uses unknown context '${context}'${didYouMean(context, CONTEXT_NAMES)}; contexts are ${CONTEXT_NAMES.join(', ')}`;
  }
  if (name === undefined) return undefined;
  if (context === 'inputs' && !scope.inputs.has(name)) {
    return `${what} reads ${shown} but the workflow declares no input '${name}'${didYouMean(name, scope.inputs)}`;
  }
  if (context === 'run' && !RUN_FIELDS.includes(name)) {
    return `${what} reads ${shown}; 'run' has only ${RUN_FIELDS.join(' and ')}`;
  }
  if (context !== 'tasks' && context !== 'needs') return undefined;
  const reader = scope.task === undefined ? 'the workflow env' : `task '${scope.task}'`;
  if (scope.task === undefined) {
    return `the workflow env reads ${shown}; only a task's own env and steps can read the tasks it depends on`;
  }
  if (!scope.tasks.has(name))
    return `${reader} reads ${shown} but there is no task '${name}'${didYouMean(name, scope.tasks)}`;
  if (name === scope.task)
    return `${reader} reads ${shown}, its own; a task can read only the tasks it depends on`;
  if (!scope.dependsOn.has(name))
    return `${reader} reads ${shown} but does not depend on '${name}'; add it to depends_on`;
  if (field !== undefined && !TASK_FIELDS.includes(field)) {
    return `${reader} reads ${shown}; a task has only ${TASK_FIELDS.join(' and ')}${didYouMean(field, TASK_FIELDS)}`;
  }
  return undefined;
}
