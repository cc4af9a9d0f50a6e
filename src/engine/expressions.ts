// Runner-side evaluation of a task's `${{ }}` expressions, with the workflow module's evaluator:
// the env layers once before the first step, then each step's env, `if` and `run` just before it runs.
//
// Env layering (later wins; each layer's expressions see the layers before it as `env`):
//   workflow env → task env → imports (plain values) → BATON_ENV of earlier steps → step env.
// A bad expression is an error sentence naming where it is and the expression, never an exception.

import { arch, hostname, platform } from 'node:os';
import type { AssignedTask, StepSpec } from '../protocol/plan.ts';
import {
  evaluateCondition,
  evaluateTemplate,
  ExpressionError,
  type ExpressionContext,
  type RuntimeFunctions,
  type StatusContext,
} from '../workflow/runtime.ts';
import { DEFAULT_WORKFLOW_LIMITS, formatBytes } from '../workflow/limits.ts';
import { githubExpressionContexts } from './github-env.ts';
import { HashFilesError } from './hash-files.ts';
import type { WorkDir } from './work-dir.ts';

/** GitHub's words for a step's result, as `steps.<name>.outcome` and `.conclusion` hold them. */
export type StepConclusion = 'success' | 'failure' | 'cancelled' | 'skipped';

export interface StepRecord {
  /** What the step appended to BATON_OUTPUT. */
  outputs: Record<string, string>;
  /** Before continue_on_error is applied. */
  outcome: StepConclusion;
  /** After: a failed continue_on_error step concludes `success`. */
  conclusion: StepConclusion;
}

export interface EvalScope {
  task: AssignedTask;
  runner: Record<string, string>;
  functions: RuntimeFunctions;
  /** Secret values this task may read as `secrets.NAME` (unsealed by the runner; masked everywhere). */
  secrets: Record<string, string>;
  /** The task's work dir (github.workspace, github.event_path), when it has one. */
  dir?: Pick<WorkDir, 'workspace' | 'internal'>;
}

/** `reason` env_too_large: a value passed the per-value limit as it was evaluated (otherwise setup_failed). */
export type Evaluated<T> = { value: T } | { error: string; reason?: 'env_too_large' };

/** `runner` context: GitHub's names for the OS and architecture, as workflows compare against them. */
export function runnerContext(name: string | undefined, temp: string): Record<string, string> {
  const os = { linux: 'Linux', darwin: 'macOS', win32: 'Windows' }[platform() as string] ?? platform();
  const cpu = { x64: 'X64', arm64: 'ARM64', arm: 'ARM', ia32: 'X86' }[arch() as string] ?? arch();
  return { name: name ?? hostname(), os, arch: cpu, temp };
}

function context(
  scope: EvalScope,
  env: Record<string, string>,
  steps: Record<string, StepRecord> = {},
  at: { status?: StatusContext; step?: StepSpec } = {},
): ExpressionContext {
  const c = scope.task.context;
  const stepIndex = at.step === undefined ? undefined : scope.task.spec.steps.indexOf(at.step);
  return {
    inputs: c.inputs,
    env,
    tasks: c.tasks,
    matrix: c.matrix,
    run: c.run,
    runner: scope.runner,
    steps,
    imports: c.imports,
    secrets: scope.secrets,
    ...githubExpressionContexts(scope.task, {
      ...(scope.dir === undefined ? {} : { dir: scope.dir }),
      ...(at.status === undefined ? {} : { status: at.status }),
      ...(stepIndex === undefined ? {} : { stepIndex }),
    }),
  };
}

/** Workflow env, then task env over it, then the imports: the env every step starts from. */
export function evaluateTaskEnv(scope: EvalScope): Evaluated<Record<string, string>> {
  const workflow = evaluateEnv(scope, scope.task.workflowEnv, {}, 'workflow env');
  if ('error' in workflow) return workflow;
  const task = evaluateEnv(scope, scope.task.spec.env, workflow.value, `task '${scope.task.name}' env`);
  if ('error' in task) return task;
  return { value: { ...workflow.value, ...task.value, ...scope.task.context.imports } };
}

export interface EvaluatedStep {
  /** The step's `if` holds (and, after a cancel, asks for always() or cancelled()). */
  runs: boolean;
  env: Record<string, string>;
  /** The script; '' when the step does not run. */
  script: string;
  /** The step's working directory with its `${{ }}` evaluated (GitHub `working-directory`); as written otherwise. */
  workingDirectory?: string;
}

/**
 * `env` is what the step inherits (task env layers and earlier BATON_ENV values); the step's own env is
 * evaluated over it, and its `if` and `run` see the result.
 */
export function evaluateStep(
  scope: EvalScope,
  step: StepSpec,
  env: Record<string, string>,
  steps: Record<string, StepRecord>,
  status: StatusContext,
): Evaluated<EvaluatedStep> {
  const label = `step '${step.name}'`;
  const own = evaluateEnv(scope, step.env, env, `${label} env`, steps, status, step);
  if ('error' in own) return own;
  const ctx = context(scope, { ...env, ...own.value }, steps, { status, step });
  const condition = step.if ?? '';
  const holds = attempt(`${label} if`, () =>
    evaluateCondition(condition, ctx, { status, functions: scope.functions }),
  );
  if ('error' in holds) return holds;
  // GitHub semantics: after a cancel only steps that ask for it run, whatever else their condition says.
  const runs = holds.value && (!status.cancelled || asksForCancelled(condition));
  if (!runs) return { value: { runs, env: own.value, script: '' } };
  const script = attempt(`${label} run`, () =>
    evaluateTemplate(step.run, ctx, { status, functions: scope.functions }),
  );
  if ('error' in script) return script;
  const dir = evaluateWorkDir(step, label, ctx, { status, functions: scope.functions });
  if (dir !== undefined && typeof dir !== 'string') return dir;
  return {
    value: {
      runs,
      env: own.value,
      script: script.value,
      ...(dir === undefined ? {} : { workingDirectory: dir }),
    },
  };
}

/** A working directory holding `${{ }}`, evaluated (blank is the work dir itself); any other as written. */
function evaluateWorkDir(
  step: StepSpec,
  label: string,
  ctx: ExpressionContext,
  o: { status: StatusContext; functions: RuntimeFunctions },
): string | undefined | { error: string } {
  const dir = step.workingDirectory;
  if (dir === undefined || !dir.includes('${{')) return dir;
  const value = attempt(`${label} working-directory`, () => evaluateTemplate(dir, ctx, o).trim());
  if ('error' in value) return value;
  return value.value === '' ? undefined : value.value;
}

/** The condition calls always() or cancelled(). Textual, so a string literal could fool it into running a step that its own condition also allows: harmless. */
function asksForCancelled(condition: string): boolean {
  return /\b(always|cancelled)\s*\(/i.test(condition);
}

function evaluateEnv(
  scope: EvalScope,
  values: Record<string, string>,
  inherited: Record<string, string>,
  where: string,
  steps?: Record<string, StepRecord>,
  status?: StatusContext,
  step?: StepSpec,
): Evaluated<Record<string, string>> {
  const ctx = context(scope, inherited, steps, {
    ...(status === undefined ? {} : { status }),
    ...(step === undefined ? {} : { step }),
  });
  const out: Record<string, string> = {};
  for (const [name, template] of Object.entries(values)) {
    const value = attempt(`${where} '${name}'`, () =>
      evaluateTemplate(template, ctx, {
        ...(status === undefined ? {} : { status }),
        functions: scope.functions,
      }),
    );
    if ('error' in value) return value;
    // Checked as each value is born, so a thousand values of a few megabytes are never held together.
    const bytes = Buffer.byteLength(value.value, 'utf8');
    if (bytes > DEFAULT_WORKFLOW_LIMITS.maxEnvValueBytes)
      return {
        error: `${where} '${name}' is ${bytes} bytes; the limit is ${formatBytes(DEFAULT_WORKFLOW_LIMITS.maxEnvValueBytes)} per value`,
        reason: 'env_too_large',
      };
    out[name] = value.value;
  }
  return { value: out };
}

/**
 * A custom type's `spec` (plain JSON) with every string's templates evaluated against the task's contexts and
 * its evaluated env; numbers, booleans and null are kept.
 */
export function evaluateDriverSpec(
  scope: EvalScope,
  spec: Record<string, unknown>,
  env: Record<string, string>,
): Evaluated<Record<string, unknown>> {
  const ctx = context(scope, env);
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string')
      return value.includes('${{') ? evaluateTemplate(value, ctx, { functions: scope.functions }) : value;
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value === 'object' && value !== null)
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item)]));
    return value;
  };
  return attempt(`'spec' of task '${scope.task.name}'`, () => walk(spec) as Record<string, unknown>);
}

function attempt<T>(where: string, evaluate: () => T): Evaluated<T> {
  try {
    return { value: evaluate() };
  } catch (error) {
    if (error instanceof ExpressionError || error instanceof HashFilesError) {
      return { error: `cannot evaluate ${where}: ${error.message}` };
    }
    throw error;
  }
}

/** Each of `values` (a typed task's spec fields, by path) evaluated with the task's env as `env`. */
export function evaluateValues(
  scope: EvalScope,
  values: Record<string, string>,
  env: Record<string, string>,
  where: string,
): Evaluated<Record<string, string>> {
  return evaluateEnv(scope, values, env, where);
}
