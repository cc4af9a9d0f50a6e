// The workflow module's runtime face: evaluating `${{ }}` templates and `if` conditions, without the
// compiler or the YAML parser. Runners import this one, so their processes stay small (issue 8: a runner
// idles under 80 MiB); index.ts re-exports it for everything else.

export { evaluateCondition } from './condition.ts';
export { ExpressionError } from './expression-error.ts';
export { type ExpressionContext } from './expression-eval.ts';
export { type RuntimeFunctions, type StatusContext } from './expression-functions.ts';
export { evaluateTemplate } from './template.ts';
export { evaluateExpressionTask, expressionSource } from './expression-task.ts';
