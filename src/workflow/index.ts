// The workflow module's public face: compile workflows (native, Harness, BountyHub, GitHub
// Actions) to plans, resolve inputs, evaluate `${{ }}` templates and `if` conditions, and decide
// whether a task runs once its dependencies are final.

export { compileWorkflow, type CompileOptions, type CompileResult, type CustomTypeSite } from './compile.ts';
export { conditionUsesStatus, evaluateCondition } from './condition.ts';
export { decideTask, taskStatus, type DependencyState } from './decide-task.ts';
export { ExpressionError } from './expression-error.ts';
export { CONTEXT_NAMES, type ExpressionContext, type ExprValue } from './expression-eval.ts';
export { type RuntimeFunctions, type StatusContext } from './expression-functions.ts';
export { parseExpression, type Expr } from './expression-parser.ts';
export { resolveInputs } from './inputs.ts';
export { ISSUE_CODES, type IssueCode, type WorkflowIssue } from './issues.ts';
export { DEFAULT_WORKFLOW_LIMITS, type WorkflowLimits } from './limits.ts';
export { expandDeferredMatrix } from './matrix-deferred.ts';
export { KNOWN_SHELLS } from './static-values.ts';
export { evaluateTemplate } from './template.ts';
export { selectJobs, MAX_SELECTED_JOBS } from './select-jobs.ts';
