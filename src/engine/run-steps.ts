// The step loop of one task, with GitHub Actions' semantics: before each step its env, `if` and `run`
// are evaluated; a step whose `if` is false is `skipped` (the default `if` is success(): every earlier
// step succeeded); a failed `continueOnError` step is recorded as failed but does not fail the task.
//
// Cancellation: the running step gets SIGTERM (SIGKILL after the grace). Then only steps whose `if`
// calls always() or cancelled() run, without the cancel signal (they are the cleanup). If the stop had
// to escalate to SIGKILL, or the task's own timeout ran out, nothing more runs.

import type { InitProcess } from './held-inits.ts';
import type { AssignedTask, StepSpec } from '../protocol/plan.ts';
import { actionEnv } from './action-env.ts';
import type { ContainmentPlan } from './containment.ts';
import { evaluateStep, type EvalScope, type StepConclusion, type StepRecord } from './expressions.ts';
import type { MaskFeed } from './mask-feed.ts';
import type { Masker } from './masker.ts';
import { runStep, type StepCgroup, type StepFailure } from './run-step.ts';
import type { StepFiles } from './step-files.ts';
import type { StepView } from './step-process.ts';
import type { EngineOptions, StepResult, StepStatus } from './types.ts';
import type { WorkDir } from './work-dir.ts';
import type { StepCommandEffects, WorkflowCommands } from './workflow-commands.ts';

export interface StepsInput {
  task: AssignedTask;
  options: EngineOptions;
  dir: WorkDir;
  containment: ContainmentPlan;
  /** Namespace containment: the task's mount table and its two dirs (run-task.ts taskView). */
  view?: StepView;
  /** The task's cgroup and the limits it enforces (cgroups.ts), when the task has limits. */
  cgroup?: StepCgroup;
  /** EngineOptions.heldInit, for the first contained step (run-task.ts). */
  held?: (initPath: string) => InitProcess | undefined;
  graceMs: number;
  /** performance.now() value at which the task's timeout ends, if it has one. */
  taskDeadline: number | undefined;
  files: StepFiles;
  masker: Masker;
  feed: MaskFeed;
  /** Workflow commands on the steps' output (workflow-commands.ts): every log line passes through it. */
  commands: WorkflowCommands;
  scope: EvalScope;
  /** Workflow env, task env and imports, evaluated. */
  taskEnv: Record<string, string>;
  /** One per step, `skipped` until it runs; filled in here. */
  results: StepResult[];
  system: (text: string) => void;
}

export interface StepsResult {
  /** What decides the task: the cancel if one was seen, else the first failure. */
  failure?: StepFailure;
  /** Of the step that failed the task, else of the last step that ran. */
  exitCode: number | null;
}

export async function runSteps(input: StepsInput): Promise<StepsResult> {
  const { task, options, files, feed, commands, results, system } = input;
  const records: Record<string, StepRecord> = {};
  let failure: StepFailure | undefined;
  let failedExit: number | null = null;
  let cancel: StepFailure | undefined;
  let lastExit: number | null = null;
  let stopAll = false;

  for (const [index, step] of task.spec.steps.entries()) {
    const aborted = isAborted(options.signal);
    cancel ??= aborted
      ? {
          status: 'cancelled',
          reason: 'cancelled',
          message: `task '${task.name}' was cancelled before step '${step.name}'`,
        }
      : undefined;
    if (stopAll) {
      records[step.name] = record({}, 'skipped', false);
      continue;
    }

    const status = { success: failure === undefined, failure: failure !== undefined, cancelled: aborted };
    const action = { ...actionEnv(step, input.dir.workspace), ...savedState(step, task.spec.steps, files) };
    const inherited = { ...input.taskEnv, ...Object.fromEntries(files.exported), ...action };
    const evaluated = evaluateStep(input.scope, step, inherited, records, status);
    if ('error' in evaluated) {
      // A broken expression is the workflow's fault, not the step's: continueOnError does not cover it.
      results[index] = { name: step.name, status: 'failed', exitCode: null };
      records[step.name] = record({}, 'failure', false);
      failure ??= { status: 'failed', reason: evaluated.reason ?? 'setup_failed', message: evaluated.error };
      system(evaluated.error);
      continue;
    }
    if (!evaluated.value.runs) {
      records[step.name] = record({}, 'skipped', false);
      if (step.if !== undefined && step.if.trim() !== '')
        system(`step '${step.name}' skipped: its condition '${step.if}' is false`);
      continue;
    }

    await files.prepare();
    commands.startStep({
      step: step.name,
      env: { ...options.baseEnv, ...inherited, ...evaluated.value.env },
    });
    feed.start();
    let run;
    try {
      run = await runStep(
        {
          task,
          ...(options.runnerName === undefined ? {} : { runnerName: options.runnerName }),
          runner: input.scope.runner,
          baseEnv: options.baseEnv,
          taskEnv: input.taskEnv,
          dir: input.dir,
          containment: input.containment,
          ...(input.view === undefined ? {} : { view: input.view }),
          ...(input.cgroup === undefined ? {} : { cgroup: input.cgroup }),
          ...(input.held === undefined ? {} : { held: input.held }),
          ...(options.deadman === undefined ? {} : { deadman: options.deadman }),
          ...(options.started === undefined ? {} : { started: options.started }),
          graceMs: input.graceMs,
          // Steps that run after a cancel are the cleanup: the cancel that already happened must not stop them.
          signal: aborted ? undefined : options.signal,
          taskDeadline: input.taskDeadline,
          exported: files.exported,
          paths: files.paths,
          log: (stream, text) => {
            feed.catchUp();
            commands.write(stream, text);
          },
          ...(options.logRoom === undefined ? {} : { logRoom: options.logRoom }),
          system,
          onStarted: (pid) =>
            options.onStep?.({
              index,
              name: step.name,
              state: 'started',
              ...(pid === undefined ? {} : { pid }),
            }),
        },
        {
          ...step,
          env: { ...evaluated.value.env, ...action },
          run: evaluated.value.script,
          workingDirectory: evaluated.value.workingDirectory,
        },
        index,
      );
    } finally {
      await feed.stop();
    }
    const effects = commands.endStep();
    // Files are read after every step that ran, so a failed step's outputs are kept too.
    const collected = await applyEffects(files, await files.collect(step.name, index), effects, index);
    const summaryProblem = await files.collectSummary(step.name);
    if (summaryProblem !== undefined) commands.note('error', summaryProblem);
    feed.addOutputs(collected.outputs);
    input.masker.flush(); // the step's output ended: release what was held back, masked with every value known now
    results[index] = run.result;
    lastExit = run.result.exitCode;
    // Announced after the step's own messages below, so its log range (runner/agent.ts) holds them too.
    const finished = () =>
      options.onStep?.({
        index,
        name: step.name,
        state: 'finished',
        exitCode: lastExit,
        durationMs: run.result.durationMs ?? 0,
        ...(results[index] === undefined ? {} : { status: results[index].status }),
      });

    const fileFailure: StepFailure | undefined =
      collected.problem === undefined
        ? undefined
        : { status: 'failed', reason: 'invalid_output_file', message: collected.problem };
    const stepFailure = run.failure ?? fileFailure;
    if (stepFailure !== undefined && run.result.status === 'succeeded')
      results[index] = { ...run.result, status: 'failed' };
    if (fileFailure !== undefined && run.failure !== undefined) system(fileFailure.message);
    const continues = step.continueOnError === true && stepFailure?.status !== 'cancelled';
    records[step.name] = record(collected.outputs, conclusionOf(results[index]?.status), continues);
    if (stepFailure === undefined) {
      finished();
      continue;
    }

    if (stepFailure.status === 'cancelled') {
      cancel ??= stepFailure;
      system(stepFailure.message);
      if (run.killed === true) stopAll = true; // it ignored SIGTERM: cleanup steps would not be wanted either
    } else if (continues) {
      system(`${stepFailure.message} (continue_on_error: the task goes on)`);
    } else {
      if (failure === undefined) failedExit = lastExit;
      failure ??= stepFailure;
      system(stepFailure.message);
    }
    finished();
    // Past the task's own deadline every further step would be killed at once.
    if (input.taskDeadline !== undefined && performance.now() >= input.taskDeadline) stopAll = true;
  }
  const decided = cancel ?? failure;
  return {
    ...(decided === undefined ? {} : { failure: decided }),
    exitCode: failure === undefined || cancel !== undefined ? lastExit : failedExit,
  };
}

/**
 * What the step's workflow commands changed, over what its files said (set-output after the file's value). A
 * value over the per-value limit is dropped and fails the step, as one written to BATON_OUTPUT does.
 */
async function applyEffects(
  files: StepFiles,
  collected: { outputs: Record<string, string>; problem?: string },
  effects: StepCommandEffects,
  index: number,
): Promise<{ outputs: Record<string, string>; problem?: string }> {
  let tooLarge: string | undefined;
  const within = (values: Record<string, string>): Record<string, string> =>
    Object.fromEntries(
      Object.entries(values).filter(([name, value]) => {
        const bytes = Buffer.byteLength(value);
        if (bytes <= files.maxValueBytes) return true;
        tooLarge ??= `a workflow command of the step set '${name}' to ${bytes} bytes; the limit is ${files.maxValueBytes} bytes per value (values become environment variables)`;
        return false;
      }),
    );
  const outputs = within(effects.outputs);
  files.addOutputs(outputs);
  for (const [name, value] of Object.entries(within(effects.env))) files.exported.set(name, value);
  for (const dir of effects.paths) files.addPath(dir);
  const state = within(effects.state);
  if (Object.keys(state).length > 0) files.states.set(index, { ...files.states.get(index), ...state });
  const problem = collected.problem ?? effects.failure ?? tooLarge;
  return {
    outputs: { ...collected.outputs, ...outputs },
    ...(problem === undefined ? {} : { problem }),
  };
}

function record(outputs: Record<string, string>, outcome: StepConclusion, continues: boolean): StepRecord {
  return { outputs, outcome, conclusion: continues && outcome === 'failure' ? 'success' : outcome };
}

function conclusionOf(status: StepStatus | undefined): StepConclusion {
  switch (status) {
    case 'succeeded':
      return 'success';
    case 'cancelled':
      return 'cancelled';
    case 'skipped':
    case undefined:
      return 'skipped';
    default:
      return 'failure';
  }
}

/** A function, not an inline check: TypeScript would keep `aborted` narrowed to false across awaits. */
export function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** STATE_<name> variables from the steps whose saved state a node action's main or post step reads. */
function savedState(step: StepSpec, steps: readonly StepSpec[], files: StepFiles): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of step.stateFrom ?? []) {
    const index = steps.findIndex((s) => s.name === name);
    if (index >= 0) Object.assign(env, files.stateEnv(index));
  }
  return env;
}
