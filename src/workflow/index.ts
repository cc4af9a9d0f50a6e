// The workflow module's public face: compile native workflows to plans, resolve inputs,
// evaluate `${{ }}` templates and resolve a task for a runner.

export { compileWorkflow, type CompileOptions, type CompileResult } from './compile.ts';
export { ExpressionError } from './expression-error.ts';
export { type ExpressionContext, type ExprValue } from './expression-eval.ts';
export { parseExpression, type Expr } from './expression-parser.ts';
export { resolveInputs } from './inputs.ts';
export { ISSUE_CODES, type IssueCode, type WorkflowIssue } from './issues.ts';
export { DEFAULT_WORKFLOW_LIMITS, type WorkflowLimits } from './limits.ts';
export { resolveTask, type ResolvedTaskBody } from './resolve-task.ts';
export { KNOWN_SHELLS } from './static-values.ts';
export { evaluateTemplate } from './template.ts';
