// runTask: one task on this machine, from a fresh work dir to a TaskOutcome and a removed work dir.
// Steps run in order; the first that does not succeed ends the task and the rest are `skipped`.

import type { ResolvedTask } from '../protocol/plan.ts';
import { containmentPlan } from './containment.ts';
import { StepFiles } from './step-files.ts';
import { runStep, type StepFailure } from './run-step.ts';
import type { EngineOptions, LogEvent, StepResult, TaskOutcome } from './types.ts';
import { createWorkDir, removeWorkDir } from './work-dir.ts';

/** Default time between SIGTERM and SIGKILL, as in GitHub Actions and Buildkite. */
export const DEFAULT_CANCEL_GRACE_MS = 10_000;

export async function runTask(task: ResolvedTask, options: EngineOptions): Promise<TaskOutcome> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  let listenerError: unknown;
  const emit = (event: LogEvent): void => {
    try {
      options.onLog(event);
    } catch (error) {
      listenerError ??= error; // a broken log sink is the caller's infrastructure failure: rethrown below
    }
  };
  const system = (text: string): void => emit({ stream: 'system', text: `${text}\n` });
  const steps: StepResult[] = task.steps.map((s) => ({ name: s.name, status: 'skipped', exitCode: null }));
  const finish = (
    failure: StepFailure | undefined,
    exitCode: number | null,
    outputs: Record<string, string>,
  ): TaskOutcome => ({
    status: failure?.status ?? 'succeeded',
    ...(failure === undefined ? {} : { reason: failure.reason, message: failure.message }),
    exitCode,
    outputs,
    steps,
    startedAt,
    finishedAt: new Date().toISOString(),
  });

  if (isAborted(options.signal)) {
    system(`task '${task.name}' was cancelled before it started`);
    return finish(
      {
        status: 'cancelled',
        reason: 'cancelled',
        message: `task '${task.name}' was cancelled before it started`,
      },
      null,
      {},
    );
  }
  const containment = await containmentPlan(options.containment);
  const dir = await createWorkDir(options.workRoot, task.name);
  const files = new StepFiles(dir);
  let failure: StepFailure | undefined;
  let exitCode: number | null = null;
  try {
    for (const [index, step] of task.steps.entries()) {
      if (isAborted(options.signal)) {
        failure = {
          status: 'cancelled',
          reason: 'cancelled',
          message: `task '${task.name}' was cancelled before step '${step.name}'`,
        };
        break;
      }
      const run = await runStep(
        {
          task,
          baseEnv: options.baseEnv,
          dir,
          containment,
          graceMs: options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS,
          signal: options.signal,
          taskDeadline: task.timeoutMs === undefined ? undefined : t0 + task.timeoutMs,
          exported: files.exported,
          paths: files.paths,
          log: (stream, text) => emit({ stream, text }),
          system,
          onStarted: (pid) =>
            options.onStep?.({
              index,
              name: step.name,
              state: 'started',
              ...(pid === undefined ? {} : { pid }),
            }),
        },
        step,
        index,
      );
      steps[index] = run.result;
      exitCode = run.result.exitCode;
      options.onStep?.({
        index,
        name: step.name,
        state: 'finished',
        exitCode,
        durationMs: run.result.durationMs ?? 0,
      });
      // Files are read after every step that ran, so a failed step's outputs are kept too.
      const fileError = await files.collect(step.name);
      failure =
        run.failure ??
        (fileError === undefined
          ? undefined
          : { status: 'failed', reason: 'invalid_output_file', message: fileError });
      if (failure !== undefined && run.result.status === 'succeeded')
        steps[index] = { ...run.result, status: 'failed' };
      if (fileError !== undefined && run.failure !== undefined) system(fileError);
      if (failure !== undefined) break;
    }
    if (failure !== undefined) system(failure.message);
  } finally {
    for (const problem of await removeWorkDir(dir)) system(`cleanup failed: ${problem}`);
  }
  if (listenerError !== undefined) throw listenerError;
  return finish(failure, exitCode, files.outputs());
}

/** A function, not an inline check: TypeScript would keep `aborted` narrowed to false across awaits. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
