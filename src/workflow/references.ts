// Compile-time checks of expressions: syntax, which contexts each place may read, declared inputs,
// tasks read only through depends_on, matrix keys, earlier steps, imports, secret names, and
// functions used where they can run.

import { ExpressionError } from './expression-error.ts';
import { CONTEXT_NAMES, type ContextName } from './expression-eval.ts';
import { STATUS_FUNCTIONS } from './expression-functions.ts';
import { GITHUB_CONTEXT_NAMES } from './github-context.ts';
import { chains, type Chain } from './expression-chains.ts';
import { parseExpression, walkExpression, type Expr } from './expression-parser.ts';
import type { TaskDraft, TemplateRef, TemplateWhere } from './drafts.ts';
import { didYouMean, makeIssue, type WorkflowIssue } from './issues.ts';
import { SECRET_NAME } from './static-values.ts';
import { parseTemplate } from './template.ts';

export interface WorkflowFacts {
  tasks: ReadonlyMap<string, TaskDraft>;
  inputs: ReadonlySet<string>;
  /** `github` workflows also read the github, vars, job and strategy contexts (github-context.ts). */
  dialect?: string;
}

const TASK_FIELDS = ['outputs', 'result'];
const STEP_FIELDS = ['outputs', 'outcome', 'conclusion'];
const RUN_FIELDS = ['id', 'name'];
const RUNNER_FIELDS = ['name', 'os', 'arch', 'temp'];
/** GitHub's runner context also has these (docs "runner context"). */
const GITHUB_RUNNER_FIELDS = [...RUNNER_FIELDS, 'tool_cache', 'environment', 'debug'];

/** Contexts each place may read. */
const ALLOWED: Record<TemplateWhere, readonly ContextName[]> = {
  workflow: ['inputs', 'env', 'run', 'runner', 'secrets'],
  task: ['inputs', 'env', 'tasks', 'needs', 'matrix', 'run', 'runner', 'secrets', 'imports'],
  step: CONTEXT_NAMES,
  'task-if': ['inputs', 'tasks', 'needs', 'matrix', 'run'],
  compile: ['matrix'],
};

/** Why a context is not available in a place, for the message. */
const PLACE: Record<TemplateWhere, string> = {
  workflow: 'the workflow env is shared by every task; read it in a task instead',
  task: 'only steps can read steps',
  step: '',
  'task-if':
    "a task's 'if' is evaluated by the server before a runner is chosen; it can read inputs, tasks, needs, run and matrix",
  compile:
    'runner labels and matrix flags are decided when the workflow is compiled; they can read only matrix values',
};

/** GitHub contexts that only GitHub-dialect workflows have, with what to use instead in the others. */
const FOREIGN_CONTEXTS: Record<string, string> = {
  github:
    "; the 'github' context is only in GitHub Actions workflows (jobs:): use run.id, run.name, env or inputs",
  vars: "; the 'vars' context is only in GitHub Actions workflows (jobs:): use env or inputs",
  job: "; the 'job' context is only in GitHub Actions workflows (jobs:)",
  strategy: "; the 'strategy' context is only in GitHub Actions workflows (jobs:): use matrix",
};

/**
 * Where a GitHub-dialect workflow may read its own contexts (docs "Context availability"): a job's `if` is
 * decided by the server, which has github and vars but no runner; the workflow env, a job's env and steps have
 * them all but `job`, which only steps see. `compile` places (runs-on, matrix flags) read the matrix only.
 */
const GITHUB_ALLOWED: Record<TemplateWhere, readonly string[]> = {
  workflow: ['github', 'vars'],
  task: ['github', 'vars', 'strategy'],
  step: GITHUB_CONTEXT_NAMES,
  'task-if': ['github', 'vars'],
  compile: [],
};

export function checkTemplate(ref: TemplateRef, facts: WorkflowFacts, task?: TaskDraft): WorkflowIssue[] {
  let parsed: Expr[];
  try {
    parsed =
      ref.kind === 'condition'
        ? [parseExpression(ref.text)]
        : parseTemplate(ref.text).map((part) => part.expr);
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
  const report = (code: 'unknown_reference' | 'invalid_expression', message: string) =>
    issues.push(makeIssue(code, message, ref.at, ref.path));
  for (const expr of parsed) {
    for (const chain of chains(expr)) {
      const problem = checkChain(chain, ref, facts, task);
      if (problem !== undefined) report('unknown_reference', problem);
    }
    const problem = checkCalls(expr, ref);
    if (problem !== undefined) report('invalid_expression', problem);
  }
  return issues;
}

function checkCalls(expr: Expr, ref: TemplateRef): string | undefined {
  let problem: string | undefined;
  walkExpression(expr, (node) => {
    if (node.kind !== 'call' || problem !== undefined) return;
    if ((STATUS_FUNCTIONS as readonly string[]).includes(node.name) && ref.kind !== 'condition')
      problem = `${ref.what} calls ${node.name}(), which is only available in 'if' conditions`;
    else if (node.name === 'hashFiles' && (ref.where === 'task-if' || ref.where === 'compile'))
      problem = `${ref.what} calls hashFiles(), which is only available on the runner (in steps and env)`;
  });
  return problem;
}

function checkChain(
  chain: Chain,
  ref: TemplateRef,
  facts: WorkflowFacts,
  task?: TaskDraft,
): string | undefined {
  const [context, name] = chain;
  if (context === undefined) return undefined;
  const { what } = ref;
  const shown = chain.join('.');
  if (facts.dialect === 'github' && (GITHUB_CONTEXT_NAMES as readonly string[]).includes(context))
    return checkGitHubChain(chain, ref);
  if (!(CONTEXT_NAMES as readonly string[]).includes(context)) {
    const hint = FOREIGN_CONTEXTS[context] ?? didYouMean(context, CONTEXT_NAMES);
    return `${what} uses unknown context '${context}'${hint}; contexts are ${CONTEXT_NAMES.join(', ')}`;
  }
  const known = context as ContextName;
  if (!ALLOWED[ref.where].includes(known)) {
    if (ref.where === 'workflow' && (known === 'tasks' || known === 'needs'))
      return `the workflow env reads ${shown}; only a task's own env and steps can read the tasks it depends on`;
    return `${what} reads ${shown}, but '${known}' is not available there: ${PLACE[ref.where]}`;
  }
  if (known === 'matrix' && task?.matrix === undefined)
    return `${what} reads ${shown}, but task '${task?.spec.name ?? ''}' has no strategy.matrix`;
  if (name === undefined) return undefined;
  switch (known) {
    case 'inputs':
      return facts.inputs.has(name)
        ? undefined
        : `${what} reads ${shown} but the workflow declares no input '${name}'${didYouMean(name, facts.inputs)}`;
    case 'run':
      return RUN_FIELDS.includes(name)
        ? undefined
        : `${what} reads ${shown}; 'run' has only ${RUN_FIELDS.join(' and ')}`;
    case 'runner': {
      const fields = facts.dialect === 'github' ? GITHUB_RUNNER_FIELDS : RUNNER_FIELDS;
      return fields.includes(name)
        ? undefined
        : `${what} reads ${shown}; 'runner' has ${fields.join(', ')}${didYouMean(name, fields)}`;
    }
    case 'secrets':
      return SECRET_NAME.test(name)
        ? undefined
        : `${what} reads ${shown}; secret names use letters, digits and _, not starting with a digit`;
    case 'matrix': {
      if (task?.matrix?.deferred !== undefined) return undefined; // computed: its keys are known at run time
      const keys = task?.matrix?.keys ?? new Set<string>();
      return keys.has(name)
        ? undefined
        : `${what} reads ${shown} but the matrix of task '${task?.spec.name ?? ''}' has no key '${name}'${didYouMean(name, keys)}`;
    }
    case 'imports': {
      const names = (task?.imports ?? []).map((entry) => entry.value.as);
      return names.includes(name)
        ? undefined
        : `${what} reads ${shown} but task '${task?.spec.name ?? ''}' imports no '${name}'${didYouMean(name, names)}; add it to imports`;
    }
    case 'steps':
      return checkStep(chain, ref);
    case 'tasks':
    case 'needs':
      return checkTask(chain, facts, task);
    case 'env':
      return undefined;
  }
}

const STRATEGY_FIELDS = ['fail-fast', 'job-index', 'job-total', 'max-parallel'];
const JOB_FIELDS = ['status', 'container', 'services', 'check_run_id'];

/** github, vars, job, strategy in a GitHub workflow: available in this place, and a field the context has. */
function checkGitHubChain(chain: Chain, ref: TemplateRef): string | undefined {
  const [context, name] = chain;
  const shown = chain.join('.');
  if (!GITHUB_ALLOWED[ref.where].includes(context!)) {
    const places = (Object.keys(GITHUB_ALLOWED) as TemplateWhere[])
      .filter((where) => GITHUB_ALLOWED[where].includes(context!))
      .map((where) => GITHUB_PLACE[where]);
    return `${ref.what} reads ${shown}, but '${context}' is not available there; it is available in ${places.join(', ')}`;
  }
  if (name === undefined) return undefined;
  if (context === 'strategy' && !STRATEGY_FIELDS.includes(name))
    return `${ref.what} reads ${shown}; 'strategy' has ${STRATEGY_FIELDS.join(', ')}${didYouMean(name, STRATEGY_FIELDS)}`;
  if (context === 'job' && !JOB_FIELDS.includes(name))
    return `${ref.what} reads ${shown}; 'job' has ${JOB_FIELDS.join(', ')}${didYouMean(name, JOB_FIELDS)}`;
  if (context === 'vars' && !SECRET_NAME.test(name))
    return `${ref.what} reads ${shown}; var names use letters, digits and _, not starting with a digit`;
  return undefined;
}

const GITHUB_PLACE: Record<TemplateWhere, string> = {
  workflow: 'the workflow env',
  task: "a job's env",
  step: 'steps',
  'task-if': "a job's if",
  compile: 'runs-on',
};

function checkStep(chain: Chain, ref: TemplateRef): string | undefined {
  const [, name, field] = chain;
  const shown = chain.join('.');
  const earlier = ref.earlierSteps ?? [];
  if (name === undefined) return undefined;
  if (!earlier.includes(name)) {
    const known = earlier.length === 0 ? 'no step runs before it' : `earlier steps: ${earlier.join(', ')}`;
    return `${ref.what} reads ${shown} but no earlier step has the id '${name}'${didYouMean(name, earlier)}; ${known}`;
  }
  if (field !== undefined && !STEP_FIELDS.includes(field))
    return `${ref.what} reads ${shown}; a step has only ${STEP_FIELDS.join(', ')}${didYouMean(field, STEP_FIELDS)}`;
  return undefined;
}

function checkTask(chain: Chain, facts: WorkflowFacts, task?: TaskDraft): string | undefined {
  const [, name, field, output] = chain;
  if (task === undefined || name === undefined) return undefined;
  const shown = chain.join('.');
  const reader = `task '${task.spec.name}'`;
  const target = facts.tasks.get(name);
  if (target === undefined)
    return `${reader} reads ${shown} but there is no task '${name}'${didYouMean(name, facts.tasks.keys())}`;
  if (name === task.spec.name)
    return `${reader} reads ${shown}, its own; a task can read only the tasks it depends on`;
  if (!task.spec.dependsOn.includes(name))
    return `${reader} reads ${shown} but does not depend on '${name}'; add it to depends_on`;
  if (field === undefined) return undefined;
  if (!TASK_FIELDS.includes(field))
    return `${reader} reads ${shown}; a task has only ${TASK_FIELDS.join(' and ')}${didYouMean(field, TASK_FIELDS)}`;
  if (field === 'outputs' && output !== undefined && target.declaresExports) {
    const exported = target.spec.exports.map((spec) => spec.name);
    if (!exported.includes(output)) {
      const list = exported.length === 0 ? 'it exports nothing' : `it exports ${exported.join(', ')}`;
      return `${reader} reads ${shown} but task '${name}' does not export '${output}'${didYouMean(output, exported)}; ${list}`;
    }
  }
  return undefined;
}
