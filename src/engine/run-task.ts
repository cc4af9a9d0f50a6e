// runTask: one assigned task on this machine, from a fresh work dir to a TaskOutcome and a removed
// work dir. In order: artifacts extracted, env evaluated, steps (run-steps.ts), uploads zipped.
// Everything the task logs, and the outcome's message, goes through the masker first.

import type { InitProcess } from './held-inits.ts';
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { AssignedTask } from '../protocol/plan.ts';
import { archiveLimits } from './archive-limits.ts';
import { extractArtifacts } from './artifacts.ts';
import { cgroupMounts, describeLimits, effectiveLimits, limitsSupport, TaskCgroup } from './cgroups.ts';
import {
  containmentPlan,
  INLINE_MOUNT_TABLE,
  isMountTableFile,
  mountTable,
  writeMountTable,
  type ContainmentPlan,
  type TaskView,
} from './containment.ts';
import { EXPRESSION_TYPE, runExpression } from './expression-task.ts';
import { actionReadOnlyDirs } from './action-env.ts';
import { evaluateTaskEnv, runnerContext, type EvalScope } from './expressions.ts';
import { githubRunnerFields, writeGitHubFiles } from './github-env.ts';
import { hashFiles } from './hash-files.ts';
import { MaskFeed } from './mask-feed.ts';
import { createMasker } from './masker.ts';
import { sandboxBaseEnv, sandboxPrefix } from './sandbox.ts';
import { runSecret, SECRET_TYPE } from './secret-task.ts';
import { START_NOT_ACKNOWLEDGED, startAcknowledged, type StepView } from './step-process.ts';
import type { StepCgroup, StepFailure } from './run-step.ts';
import { isAborted, runSteps } from './run-steps.ts';
import { runDriver } from './run-driver.ts';
import { isCustomTaskType } from '../protocol/task-types.ts';
import { StepFiles } from './step-files.ts';
import type { EngineOptions, LogEvent, StepResult, TaskOutcome } from './types.ts';
import { afterMiss, consultCache, type CacheConsulted } from './task-cache.ts';
import { writeUploads } from './uploads.ts';
import { WorkflowCommands } from './workflow-commands.ts';
import { commandFiles, createWorkDir, removeWorkDir, type WorkDir } from './work-dir.ts';

/** Default time between SIGTERM and SIGKILL, as in GitHub Actions and Buildkite. */
export const DEFAULT_CANCEL_GRACE_MS = 10_000;

type Upload = NonNullable<TaskOutcome['upload']>;

export async function runTask(task: AssignedTask, options: EngineOptions): Promise<TaskOutcome> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  let listenerError: unknown;
  const deliver = (event: LogEvent): void => {
    try {
      options.onLog(event);
    } catch (error) {
      listenerError ??= error; // a broken log sink is the caller's infrastructure failure: rethrown below
    }
  };
  const masker = createMasker(
    (stream, text) => deliver({ stream, text }),
    [...task.context.mask, ...Object.values(options.secrets ?? {})],
  );
  const system = (text: string): void => deliver({ stream: 'system', text: masker.mask(`${text}\n`) });
  const steps: StepResult[] = task.spec.steps.map((s) => ({
    name: s.name,
    status: 'skipped',
    exitCode: null,
  }));
  const confidential = task.spec.exports.filter((e) => e.confidential).map((e) => e.name);
  // An output that holds a secret would carry it past every log mask (into the API and other tasks): it is
  // masked, as GitHub Actions does, and the log says so.
  const secretMasker = createMasker(() => undefined, Object.values(options.secrets ?? {}));
  const withoutSecrets = (outputs: Record<string, string>): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(outputs)) {
      out[name] = secretMasker.mask(value);
      if (out[name] !== value) system(`output '${name}' holds a secret; its value is masked`);
    }
    return out;
  };
  const finish = (
    failure: StepFailure | undefined,
    exitCode: number | null,
    outputs: Record<string, string>,
    upload?: Upload,
  ): TaskOutcome => ({
    status: failure?.status ?? 'succeeded',
    ...(failure === undefined ? {} : { reason: failure.reason, message: masker.mask(failure.message) }),
    exitCode,
    outputs: withoutSecrets(outputs),
    confidential,
    steps,
    ...(upload === undefined ? {} : { upload }),
    startedAt,
    finishedAt: new Date().toISOString(),
  });

  if (isAborted(options.signal)) {
    const message = `task '${task.name}' was cancelled before it started`;
    system(message);
    return finish({ status: 'cancelled', reason: 'cancelled', message }, null, {});
  }
  if (task.spec.type === EXPRESSION_TYPE) {
    const scope: EvalScope = {
      task,
      runner: runnerContext(options.runnerName, ''),
      secrets: options.secrets ?? {},
      functions: {},
    };
    const env = evaluateTaskEnv(scope);
    const cached =
      'error' in env
        ? ({ kind: 'off' } as const)
        : await consultCache(task, options.cache, scope, env.value, system);
    const outcome = withCache(
      task,
      cached,
      () => expressionOutcome(task, options, system, finish, confidential),
      finish,
      system,
    );
    if (listenerError !== undefined) throw listenerError;
    return outcome;
  }
  if (task.spec.type === SECRET_TYPE) {
    // Its sources (a vault, the server) are asked only once the start is acknowledged, as a step would run.
    if (!(await startAcknowledged(options.started))) {
      const message = `task '${task.name}' ${START_NOT_ACKNOWLEDGED}`;
      return finish({ status: 'cancelled', reason: 'cancelled', message }, null, {});
    }
    const outcome = await secretOutcome(task, options, masker, system, finish, confidential);
    if (listenerError !== undefined) throw listenerError;
    return outcome;
  }
  const containment = await containmentPlan(options.containment);
  const refused = unmetIsolation(task, containment);
  if (refused !== undefined) {
    system(refused);
    return finish({ status: 'failed', reason: 'setup_failed', message: refused }, null, {});
  }
  const spare = options.spareWorkDir?.();
  const dir = await createWorkDir(options.workRoot, task.name, {
    harnessOutputFile: task.spec.outputFile === true,
    ...(spare === undefined ? {} : { spare }),
  });
  if (options.seedWorkspace !== undefined) {
    try {
      cpSync(options.seedWorkspace, dir.workspace, { recursive: true, verbatimSymlinks: true });
    } catch (error) {
      await removeWorkDir(dir);
      const message = `could not copy the checkout into the workspace: ${(error as Error).message}`;
      system(message);
      return finish({ status: 'failed', reason: 'setup_failed', message }, null, {});
    }
  }
  const files = new StepFiles(dir);
  const commands = new WorkflowCommands({
    masker,
    write: (stream, text) => masker.write(stream, text),
    github: task.spec.githubCommands === true,
    // As GitHub: the ACTIONS_STEP_DEBUG secret or variable (`vars`), or the runner's environment.
    debug:
      options.baseEnv.ACTIONS_STEP_DEBUG === 'true' ||
      options.secrets?.ACTIONS_STEP_DEBUG === 'true' ||
      task.context.github?.vars?.ACTIONS_STEP_DEBUG === 'true',
  });
  const view = taskView(containment, dir, options, task);
  let failure: StepFailure | undefined;
  let cgroup: StepCgroup | undefined;
  let exitCode: number | null = null;
  let upload: Upload | undefined;
  /** A custom type's outputs, from its driver's response (run-driver.ts) rather than the output file. */
  let driven: Record<string, string> | undefined;
  let cached: CacheConsulted = { kind: 'off' };
  // The held init (EngineOptions.heldInit) is for one step: the first that asks, the others spawn their own.
  let heldAsked = false;
  const held = (initPath: string): InitProcess | undefined => {
    if (heldAsked) return undefined;
    heldAsked = true;
    return options.heldInit?.(initPath);
  };
  /** What a custom type's driver and the steps share: the task's processes, their containment and deadlines. */
  const processes = () => ({
    task,
    options:
      containment.sandbox === undefined ? options : { ...options, baseEnv: sandboxBaseEnv(options.baseEnv) },
    dir,
    containment,
    ...(view === undefined ? {} : { view }),
    ...(cgroup === undefined ? {} : { cgroup }),
    held,
    graceMs: task.spec.cancelGraceMs ?? options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS,
    taskDeadline: task.spec.timeoutMs === undefined ? undefined : t0 + task.spec.timeoutMs,
  });
  try {
    writeGitHubFiles(task, dir);
    const scope: EvalScope = {
      task,
      runner: { ...runnerContext(options.runnerName, dir.temp), ...githubRunnerFields(task, dir) },
      dir,
      secrets: options.secrets ?? {},
      functions: { hashFiles: (patterns) => hashFiles(dir.workspace, patterns) },
    };
    const limits = archiveLimits(options.archiveLimits);
    const setup = await extractArtifacts(task.artifacts, {
      fetch: options.fetchArtifact,
      workspace: dir.workspace,
      limits,
    });
    const limited = setup.error === undefined ? await taskCgroup(task, options, basename(dir.workspace)) : {};
    if ('cgroup' in limited) cgroup = limited.cgroup;
    const taskEnv =
      setup.error !== undefined
        ? { error: setup.error }
        : 'error' in limited
          ? { error: limited.error }
          : evaluateTaskEnv(scope);
    if (!('error' in taskEnv)) cached = await consultCache(task, options.cache, scope, taskEnv.value, system);
    if ('error' in taskEnv) {
      const reason = 'reason' in taskEnv ? (taskEnv.reason ?? 'setup_failed') : 'setup_failed';
      failure = { status: 'failed', reason, message: taskEnv.error };
      system(failure.message);
    } else if (cached.kind === 'error') {
      failure = { status: 'failed', reason: 'setup_failed', message: cached.message }; // logged by withCache
    } else if (cached.kind === 'hit') {
      // The cached outputs stand for the task's: nothing of it runs.
    } else if (isCustomTaskType(task.spec.type)) {
      const ran = await runDriver({ ...processes(), masker, scope, taskEnv: taskEnv.value, system });
      failure = ran.failure;
      exitCode = ran.exitCode;
      driven = ran.result.outputs;
      for (const name of ran.result.secrets) if (!confidential.includes(name)) confidential.push(name);
      if (failure !== undefined) system(failure.message);
    } else {
      const ran = await runSteps({
        ...processes(),
        files,
        masker,
        feed: new MaskFeed(dir, confidential, masker, system),
        commands,
        scope,
        taskEnv: taskEnv.value,
        results: steps,
        system,
      });
      failure = ran.failure;
      exitCode = ran.exitCode;
      if (failure === undefined && task.spec.uploads.length > 0) {
        const zipped = await zipUploads(task, dir, options, system, limits);
        if ('failure' in zipped) failure = zipped.failure;
        else upload = zipped.upload;
        if (failure !== undefined) system(failure.message);
      }
    }
  } finally {
    masker.flush();
    if (view !== undefined && isMountTableFile(view.fstab)) rmSync(view.fstab, { force: true });
    for (const problem of (await cgroup?.cgroup.remove()) ?? []) system(`cleanup failed: ${problem}`);
    for (const problem of await removeWorkDir(dir, upload !== undefined))
      system(`cleanup failed: ${problem}`);
  }
  const outcome = withCache(
    task,
    cached,
    () => ({
      ...finish(failure, exitCode, driven ?? files.outputs(), upload),
      ...reported(commands, files, masker.mask),
    }),
    finish,
    system,
  );
  if (listenerError !== undefined) throw listenerError;
  return outcome;
}

/** Annotations and step summaries, masked again with every value known at the end (a mask added late). */
function reported(
  commands: WorkflowCommands,
  files: StepFiles,
  mask: (text: string) => string,
): Pick<TaskOutcome, 'annotations' | 'summaries'> {
  const annotations = commands.annotations.map((a) => ({
    ...a,
    message: mask(a.message),
    ...(a.title === undefined ? {} : { title: mask(a.title) }),
    ...(a.file === undefined ? {} : { file: mask(a.file) }),
  }));
  const summaries = files.summaries.map((s) => ({ step: s.step, markdown: mask(s.markdown) }));
  return {
    ...(annotations.length === 0 ? {} : { annotations }),
    ...(summaries.length === 0 ? {} : { summaries }),
  };
}

/**
 * The outcome of a task that declares `cache:`: on a hit, succeeded with the entry's outputs (`run` is not
 * called); on a miss, `run`'s outcome carrying the key; a key that could not be computed fails the task.
 */
function withCache(
  task: AssignedTask,
  cached: CacheConsulted,
  run: () => TaskOutcome,
  finish: (
    failure: StepFailure | undefined,
    exitCode: number | null,
    outputs: Record<string, string>,
  ) => TaskOutcome,
  system: (text: string) => void,
): TaskOutcome {
  switch (cached.kind) {
    case 'off':
      return run();
    case 'error':
      system(cached.message);
      return finish({ status: 'failed', reason: 'setup_failed', message: cached.message }, null, {});
    case 'hit':
      return {
        ...finish(undefined, null, cached.outputs),
        cache: { key: cached.key, hit: true, createdAt: cached.createdAt },
      };
    case 'miss':
      return afterMiss(task, cached.key, run(), system);
  }
}

/**
 * An `expression` task: evaluated here, without a work dir or a process. A confidential result is never
 * printed, even masked (a value too short to mask safely would show); any other is, in the task's log.
 */
function expressionOutcome(
  task: AssignedTask,
  options: EngineOptions,
  system: (text: string) => void,
  finish: (
    failure: StepFailure | undefined,
    exitCode: number | null,
    outputs: Record<string, string>,
  ) => TaskOutcome,
  confidential: string[],
): TaskOutcome {
  const ran = runExpression(task, options.secrets ?? {}, options.runnerName);
  if (!ran.ok) {
    system(ran.message);
    return finish({ status: 'failed', reason: ran.reason, message: ran.message }, null, {});
  }
  system(
    ran.confidential
      ? `expression evaluated: 'result' is confidential (it read a secret or a confidential value): masked in every later log`
      : `expression evaluated: result = ${ran.result}`,
  );
  // Not through finish(): a confidential result holding a secret stays whole (it is masked and redacted as a
  // confidential output), where an ordinary output holding one is masked in place.
  const done = finish(undefined, null, {});
  return {
    ...done,
    outputs: { result: ran.result },
    confidential: ran.confidential ? [...new Set([...confidential, 'result'])] : confidential,
  };
}

/**
 * A `secret` task: fetched here, without a work dir or a process. Its values are masked from now on and never
 * printed; every output is confidential. The runner seals them before they leave (docs/adr/0014).
 */
async function secretOutcome(
  task: AssignedTask,
  options: EngineOptions,
  masker: ReturnType<typeof createMasker>,
  system: (text: string) => void,
  finish: (
    failure: StepFailure | undefined,
    exitCode: number | null,
    outputs: Record<string, string>,
  ) => TaskOutcome,
  confidential: string[],
): Promise<TaskOutcome> {
  const ran = await runSecret(task, options.secrets ?? {}, {
    baseEnv: options.baseEnv,
    ...(options.secretSources === undefined ? {} : { sources: options.secretSources }),
    ...(options.runnerName === undefined ? {} : { runnerName: options.runnerName }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (!ran.ok) {
    system(ran.message);
    const status =
      ran.reason === 'timeout' ? 'timed_out' : ran.reason === 'cancelled' ? 'cancelled' : 'failed';
    return finish({ status, reason: ran.reason, message: ran.message }, null, {});
  }
  for (const value of Object.values(ran.outputs)) masker.add(value);
  const names = Object.keys(ran.outputs);
  system(
    `secret ${ran.where} fetched from ${ran.source}: output${names.length > 1 ? 's' : ''} ${names.map((n) => `'${n}'`).join(', ')} (confidential: masked in every later log)`,
  );
  // Not through finish(): the values hold secrets on purpose; they stay whole as confidential outputs.
  const done = finish(undefined, null, {});
  return { ...done, outputs: ran.outputs, confidential: [...new Set([...confidential, ...names])] };
}

/**
 * The task's cgroup with its limits (its own, each missing one from the runner's defaults), or why this runner
 * cannot enforce them; nothing when the task has no limits.
 */
async function taskCgroup(
  task: AssignedTask,
  options: EngineOptions,
  name: string,
): Promise<{ cgroup: StepCgroup } | { error: string } | Record<string, never>> {
  const limits = effectiveLimits(task.spec.limits, options.defaultLimits);
  if (limits === undefined) return {};
  const cannot = `runner${options.runnerName === undefined ? '' : ` '${options.runnerName}'`} cannot enforce task '${task.name}'s resource limits (${describeLimits(limits)})`;
  const support = await limitsSupport(options.containment);
  if (!support.ok) return { error: `${cannot}: ${support.why}` };
  try {
    return { cgroup: { cgroup: TaskCgroup.create(support.backend, `task-${name}`, limits), limits } };
  } catch (error) {
    return { error: `${cannot}: ${(error as Error).message}` };
  }
}

let ownControlDir: string | undefined;

/** A task that asks for more isolation than this runner gives fails before anything of it runs. */
function unmetIsolation(task: AssignedTask, containment: ContainmentPlan): string | undefined {
  const here = containment.level === 'sandbox' ? 'sandbox' : 'host';
  if (task.spec.isolation === 'sandbox' && here !== 'sandbox')
    return `task '${task.name}' requires isolation 'sandbox' but this runner's isolation is '${here}'`;
  if (task.spec.network === false && containment.sandbox?.networkIsolation !== true)
    return here === 'sandbox'
      ? `task '${task.name}' asks for network: false but bubblewrap cannot make a network namespace on this runner`
      : `task '${task.name}' asks for network: false but this runner's isolation is 'host', which cannot cut a task's network (start it with --isolation sandbox)`;
  return undefined;
}

/**
 * Under namespace containment, the task's mount table: the other tasks' dirs, the runner's files and the
 * shared /tmp out of the steps' sight (containment.ts writeMountTable). Written where no task can open it.
 */
function taskView(
  containment: ContainmentPlan,
  dir: WorkDir,
  options: EngineOptions,
  task: AssignedTask,
): StepView | undefined {
  if (containment.sandbox !== undefined) {
    // Nothing to hide: the sandbox shows only what it binds. HOME is the task's own, kept across its steps.
    const home = join(dir.internal, 'home');
    mkdirSync(home, { mode: 0o700 });
    const prefix = sandboxPrefix(containment.sandbox, {
      workspace: dir.workspace,
      internal: dir.internal,
      temp: dir.temp,
      home,
      commandFiles: commandFiles(dir),
      ...(dir.harnessOutputFile === undefined ? {} : { writableDirs: [dirname(dir.harnessOutputFile)] }),
      network: task.spec.network !== false,
      readOnly: [...driverDirs(task, options), ...actionReadOnlyDirs(task.spec)],
    });
    return { fstab: '-', workspace: dir.workspace, internal: dir.internal, sandbox: { prefix, home } };
  }
  if (containment.level !== 'namespace') return undefined;
  const controlDir = (): string =>
    options.controlDir ?? (ownControlDir ??= mkdtempSync(join(tmpdir(), 'baton-control-')));
  const hide: Array<{ path: string; kind: 'dir' | 'file' }> = [];
  for (const given of options.hide ?? []) {
    const path = resolve(given);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat !== undefined) hide.push({ path, kind: stat.isDirectory() ? 'dir' : 'file' });
  }
  const table: TaskView = {
    workRoot: resolve(options.workRoot),
    workspace: dir.workspace,
    internal: dir.internal,
    hide,
    readOnly: cgroupMounts(),
  };
  const fstab =
    containment.init?.kind === 'compiled'
      ? `${INLINE_MOUNT_TABLE}${mountTable(table)}`
      : writeMountTable(controlDir(), basename(dir.workspace), table);
  return { fstab, workspace: dir.workspace, internal: dir.internal };
}

/** A custom type's driver lives outside the sandbox's view: its directory is shown read-only. */
function driverDirs(task: AssignedTask, options: EngineOptions): string[] {
  const driver = isCustomTaskType(task.spec.type) ? options.drivers?.get(task.spec.type) : undefined;
  return driver === undefined ? [] : [dirname(driver.path)];
}

async function zipUploads(
  task: AssignedTask,
  dir: WorkDir,
  options: EngineOptions,
  system: (text: string) => void,
  limits: ReturnType<typeof archiveLimits>,
): Promise<{ upload: Upload } | { failure: StepFailure }> {
  if (isAborted(options.signal)) {
    const message = `task '${task.name}' was cancelled before its uploads`;
    return { failure: { status: 'cancelled', reason: 'cancelled', message } };
  }
  const zipped = await writeUploads(task.spec.uploads, {
    workspace: dir.workspace,
    target: dir.uploadFile,
    limits,
    warn: system,
  });
  if ('error' in zipped) {
    const reason = zipped.diskFull ? 'disk_full' : 'setup_failed';
    return { failure: { status: 'failed', reason, message: zipped.error } };
  }
  system(`uploads: ${zipped.value.entries} entries, ${zipped.value.bytes} bytes zipped`);
  return { upload: zipped.value };
}
