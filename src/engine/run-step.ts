// Runs one step of a task: script file, shell, cwd, env, the process, its deadline and cancellation.

import type { InitProcess } from './held-inits.ts';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AssignedTask, StepSpec, TaskLimits } from '../protocol/plan.ts';
import { formatBytes, type TaskCgroup } from './cgroups.ts';
import type { ContainmentPlan } from './containment.ts';
import { envLimitProblem } from './env-limits.ts';
import { formatDuration } from './format.ts';
import { resolveShell, scriptExtension } from './shell.ts';
import { githubStepEnv } from './github-env.ts';
import { buildStepEnv } from './step-env.ts';
import {
  handsOverEnvironment,
  START_NOT_ACKNOWLEDGED,
  startAcknowledged,
  startStepProcess,
  type ProcessExit,
  type StepView,
} from './step-process.ts';
import type { Deadman, OutcomeReason, StepResult, StepStatus } from './types.ts';
import { errorText, prepareNodeScripts, stepCwd, type WorkDir } from './work-dir.ts';

/** A step with its expressions evaluated. */
export type Step = StepSpec;

export interface StepContext {
  task: AssignedTask;
  /** The runner's name, for messages about this machine (a shell that is not installed here). */
  runnerName?: string;
  /** The `runner` context (name, os, arch, …): RUNNER_* of GitHub-dialect steps. */
  runner?: Record<string, string>;
  baseEnv: Record<string, string>;
  /** Workflow env, task env and imports, evaluated. */
  taskEnv: Record<string, string>;
  dir: WorkDir;
  containment: ContainmentPlan;
  /** Namespace containment: the task's mount table and the two dirs bound back over the covered work root. */
  view?: StepView;
  deadman?: Deadman;
  cgroup?: StepCgroup;
  graceMs: number;
  signal: AbortSignal | undefined;
  /** EngineOptions.started: the step gets its environment (a contained one) or is spawned (others) after it. */
  started?: Promise<void>;
  /** EngineOptions.heldInit, offered to the task's first contained step only (run-task.ts). */
  held?: (initPath: string) => InitProcess | undefined;
  /** performance.now() value at which the task's timeout ends, if it has one. */
  taskDeadline: number | undefined;
  exported: ReadonlyMap<string, string>;
  paths: readonly string[];
  log: (stream: 'stdout' | 'stderr', text: string) => void;
  /** EngineOptions.logRoom: the step's output is not read while the log's sink has no room. */
  logRoom?: () => Promise<void> | undefined;
  system: (text: string) => void;
  onStarted: (pid: number | undefined) => void;
}

/** The task's cgroup (cgroups.ts TaskCgroup) and its limits, for the out-of-memory verdict. */
export interface StepCgroup {
  cgroup: TaskCgroup;
  limits: TaskLimits;
}

export interface StepFailure {
  status: Exclude<StepStatus, 'succeeded' | 'skipped'>;
  reason: OutcomeReason;
  message: string;
}

export interface StepRun {
  result: StepResult;
  failure?: StepFailure;
  /** A stop (cancel, timeout) had to end in SIGKILL: the step ignored SIGTERM for the whole grace. */
  killed?: boolean;
}

export async function runStep(ctx: StepContext, step: Step, index: number): Promise<StepRun> {
  const started = new Date();
  const t0 = performance.now();
  const end = (
    status: StepStatus,
    exitCode: number | null,
    failure?: StepFailure,
    killed?: boolean,
  ): StepRun => ({
    result: {
      name: step.name,
      status,
      exitCode,
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: Math.round(performance.now() - t0),
    },
    ...(failure === undefined ? {} : { failure }),
    ...(killed === true ? { killed } : {}),
  });
  const label = `step '${step.name}'`;
  const onRunner = ctx.runnerName === undefined ? '' : ` on runner '${ctx.runnerName}'`;

  const env = buildStepEnv({
    baseEnv: ctx.baseEnv,
    taskEnv: ctx.taskEnv,
    exported: ctx.exported,
    stepEnv: step.env,
    paths: ctx.paths,
    dir: ctx.dir,
    github: githubStepEnv(ctx.task, ctx.dir, index, ctx.runner ?? {}),
    ids: {
      runId: ctx.task.runId,
      taskId: ctx.task.taskId,
      taskName: ctx.task.name,
      attempt: ctx.task.attempt,
      stepName: step.name,
    },
  });
  const tooLarge = envLimitProblem({
    taskEnv: ctx.taskEnv,
    imports: ctx.task.context.imports,
    exported: ctx.exported,
    stepEnv: step.env,
  });
  if (tooLarge !== undefined)
    return end('failed', null, {
      status: 'failed',
      reason: 'env_too_large',
      message: `${label} cannot start: ${tooLarge}`,
    });
  let cwd: string;
  let argv: string[];
  try {
    // A step's directory already includes the task's (the compiler joins them); the task's is the fallback.
    const where = await stepCwd(ctx.dir.workspace, [step.workingDirectory ?? ctx.task.spec.workingDirectory]);
    if ('error' in where) return end('failed', null, setupFailed(`${label}: ${where.error}`));
    cwd = where.cwd;
    // The name is Baton's (index + random), never the step's: names are shown, never put in paths.
    const script = join(
      ctx.dir.internal,
      `step-${index + 1}-${randomBytes(4).toString('hex')}${scriptExtension(step.shell)}`,
    );
    writeFileSync(script, step.run, { mode: 0o700, flag: 'wx' });
    if (script.endsWith('.js')) prepareNodeScripts(ctx.dir);
    const shell = resolveShell(step.shell, script, env.PATH ?? '');
    argv = [shell.command, ...shell.args];
  } catch (error) {
    return end('failed', null, {
      status: 'failed',
      reason: 'spawn_failed',
      message: `${label} could not start${onRunner}: ${errorText(error)}`,
    });
  }

  // Not acknowledged yet (EngineOptions.started): a contained step's init is made now and waits for its
  // environment; any other step is spawned only after the acknowledgement, and never without it.
  if (!handsOverEnvironment(ctx.containment) && !(await startAcknowledged(ctx.started)))
    return end('cancelled', null, {
      status: 'cancelled',
      reason: 'cancelled',
      message: `${label} ${START_NOT_ACKNOWLEDGED}`,
    });
  // Counted before the step starts: its kills are the ones past this (the cgroup is the task's, steps run in turn).
  const oomBefore = ctx.cgroup?.cgroup.oomKills() ?? 0;
  const proc = startStepProcess({
    argv,
    ...(ctx.started === undefined ? {} : { started: ctx.started }),
    ...(ctx.held === undefined ? {} : { held: ctx.held }),
    containment: ctx.containment,
    ...(ctx.view === undefined ? {} : { view: ctx.view }),
    ...(ctx.deadman === undefined ? {} : { deadman: ctx.deadman }),
    ...(ctx.cgroup === undefined ? {} : { cgroup: ctx.cgroup.cgroup }),
    cwd,
    env,
    graceMs: ctx.graceMs,
    onStdout: (t) => ctx.log('stdout', t),
    onStderr: (t) => ctx.log('stderr', t),
    ...(ctx.logRoom === undefined ? {} : { outputRoom: ctx.logRoom }),
    onSystem: ctx.system,
  });
  ctx.onStarted(proc.pid);

  let stopped: StepFailure | undefined;
  const stopFor = (failure: StepFailure): void => {
    stopped ??= failure;
    proc.stop(failure.message);
  };
  const timer = startDeadline(ctx, step, label, stopFor);
  const onAbort = (): void =>
    stopFor({
      status: 'cancelled',
      reason: 'cancelled',
      message: `task '${ctx.task.name}' was cancelled during ${label}`,
    });
  if (ctx.signal?.aborted === true) onAbort();
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  const exit = await proc.done;
  clearTimeout(timer);
  ctx.signal?.removeEventListener('abort', onAbort);

  if (exit.spawnError !== undefined)
    return end('failed', null, spawnFailed(`${label} could not start${onRunner}`, exit));
  // The contained shell never confirmed the hand-over: the step did not run, whatever the exit code says.
  if (exit.launchError !== undefined) {
    const failure: StepFailure = stopped ?? {
      status: 'failed',
      reason: 'spawn_failed',
      message: `${label} could not start: ${exit.launchError}`,
    };
    return end(failure.status, null, failure, exit.escalated);
  }
  if (stopped !== undefined) return end(stopped.status, exit.exitCode, stopped, exit.escalated);
  const oomKilled = ctx.cgroup === undefined ? 0 : ctx.cgroup.cgroup.oomKills() - oomBefore;
  if (oomKilled > 0) {
    const limit = ctx.cgroup?.limits.memoryBytes;
    const note = `the kernel killed ${oomKilled} process(es) of ${label} at the task's memory limit${limit === undefined ? '' : ` of ${formatBytes(limit)}`}`;
    if (exit.exitCode !== 0)
      return end('failed', exit.exitCode, {
        status: 'failed',
        reason: 'out_of_memory',
        message: `${label} ran out of memory: ${note}`,
      });
    ctx.system(note);
  }
  if (exit.exitCode === 0) return end('succeeded', 0);
  const how =
    exit.exitCode === null
      ? `was killed by ${exit.signal ?? 'a signal'}`
      : `exited with code ${exit.exitCode}`;
  return end('failed', exit.exitCode, { status: 'failed', reason: 'exit_code', message: `${label} ${how}` });
}

/** The earlier of the step's and the task's limits; the message names the one that ran out. */
function startDeadline(
  ctx: StepContext,
  step: Step,
  label: string,
  stopFor: (f: StepFailure) => void,
): NodeJS.Timeout | undefined {
  const taskLeft = ctx.taskDeadline === undefined ? Infinity : ctx.taskDeadline - performance.now();
  const stepLimit = step.timeoutMs ?? Infinity;
  if (taskLeft === Infinity && stepLimit === Infinity) return undefined;
  const byStep = stepLimit <= taskLeft;
  const message = byStep
    ? `${label} timed out after ${formatDuration(stepLimit)}`
    : `task '${ctx.task.name}' timed out after ${formatDuration(ctx.task.spec.timeoutMs ?? 0)} during ${label}`;
  return setTimeout(
    () => stopFor({ status: 'timed_out', reason: 'timeout', message }),
    Math.max(0, byStep ? stepLimit : taskLeft),
  );
}

function setupFailed(message: string): StepFailure {
  return { status: 'failed', reason: 'setup_failed', message };
}

function spawnFailed(what: string, exit: ProcessExit): StepFailure {
  const error = exit.spawnError;
  const why =
    error?.code === 'E2BIG'
      ? 'the environment or arguments are too large for the kernel (E2BIG)'
      : (error?.message ?? 'unknown error');
  return { status: 'failed', reason: 'spawn_failed', message: `${what}: ${why}` };
}
