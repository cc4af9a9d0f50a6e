// Runs a task of a custom type through its CGI/1.1 driver (docs/drivers.md): the driver is one contained
// process of the task, started by the step machinery (step-process.ts: same containment, process group, work
// dir, environment, cancel and timeout), with the resolved spec as the request body on stdin. Its stdout is the
// response (cgi-response.ts), its stderr the task's live log.

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AssignedTask } from '../protocol/plan.ts';
import { CgiResponseReader, failureMessage, responseOutputs, type DriverResult } from './cgi-response.ts';
import type { ContainmentPlan } from './containment.ts';
import { evaluateDriverSpec, type EvalScope } from './expressions.ts';
import { formatDuration } from './format.ts';
import type { Masker } from './masker.ts';
import type { StepCgroup, StepFailure } from './run-step.ts';
import { findOnPath } from './shell.ts';
import { buildStepEnv } from './step-env.ts';
import {
  handsOverEnvironment,
  START_NOT_ACKNOWLEDGED,
  startAcknowledged,
  startStepProcess,
  type StepView,
} from './step-process.ts';
import { SYSTEM_PATH } from './system-path.ts';
import type { EngineOptions } from './types.ts';
import type { WorkDir } from './work-dir.ts';

/** The protocol a driver speaks; RFC 3875. */
const GATEWAY_INTERFACE = 'CGI/1.1';

export interface DriverInput {
  task: AssignedTask;
  options: EngineOptions;
  dir: WorkDir;
  containment: ContainmentPlan;
  view?: StepView;
  cgroup?: StepCgroup;
  graceMs: number;
  taskDeadline: number | undefined;
  masker: Masker;
  scope: EvalScope;
  /** Workflow env, task env and imports, evaluated. */
  taskEnv: Record<string, string>;
  system: (text: string) => void;
}

export interface DriverRun {
  failure?: StepFailure;
  exitCode: number | null;
  result: DriverResult;
}

export async function runDriver(input: DriverInput): Promise<DriverRun> {
  const { task, options, dir, masker, system } = input;
  const type = task.spec.type;
  const empty: DriverResult = { outputs: {}, secrets: [] };
  const fail = (reason: StepFailure['reason'], message: string): DriverRun => ({
    failure: { status: 'failed', reason, message },
    exitCode: null,
    result: empty,
  });
  const driver = options.drivers?.get(type);
  if (driver === undefined)
    return fail(
      'setup_failed',
      `runner${options.runnerName === undefined ? '' : ` '${options.runnerName}'`} has no driver for type '${type}'; put an executable '${type}' in its drivers directory (--drivers)`,
    );
  const spec = evaluateDriverSpec(input.scope, task.spec.driverSpec ?? {}, input.taskEnv);
  if ('error' in spec) return fail('setup_failed', spec.error);
  const request = Buffer.from(JSON.stringify(spec.value), 'utf8');
  // In Baton's dir of the task: the driver's process can read it (the namespace binds it back), other tasks cannot.
  const requestFile = join(dir.internal, `driver-request-${randomBytes(4).toString('hex')}.json`);
  writeFileSync(requestFile, request, { mode: 0o600, flag: 'wx' });
  const sh = findOnPath('sh', SYSTEM_PATH) ?? '/bin/sh';
  const env = buildStepEnv({
    baseEnv: options.baseEnv,
    taskEnv: input.taskEnv,
    exported: new Map(),
    stepEnv: cgiEnv(type, request.length),
    paths: [],
    dir,
    ids: {
      runId: task.runId,
      taskId: task.taskId,
      taskName: task.name,
      attempt: task.attempt,
      stepName: type,
    },
  });

  // As a step (run-step.ts): not before the server acknowledged the start, unless the init waits for it.
  if (!handsOverEnvironment(input.containment) && !(await startAcknowledged(options.started)))
    return {
      failure: {
        status: 'cancelled',
        reason: 'cancelled',
        message: `driver '${type}' ${START_NOT_ACKNOWLEDGED}`,
      },
      exitCode: null,
      result: empty,
    };
  system(`driver '${type}' (${driver.version.slice(0, 19)}…): POST ${request.length} bytes`);
  const response = new CgiResponseReader();
  let stopped: StepFailure | undefined;
  // The request arrives on stdin from the file; the containment's init gives the step no stdin of its own.
  const proc = startStepProcess({
    argv: [sh, '-c', 'exec "$0" <"$1"', driver.path, requestFile],
    containment: input.containment,
    ...(input.view === undefined ? {} : { view: input.view }),
    ...(options.deadman === undefined ? {} : { deadman: options.deadman }),
    ...(options.started === undefined ? {} : { started: options.started }),
    ...(input.cgroup === undefined ? {} : { cgroup: input.cgroup.cgroup }),
    cwd: dir.workspace,
    env,
    graceMs: input.graceMs,
    onStdout: () => {},
    onStdoutBytes: (bytes) => {
      if (stopped !== undefined) return;
      const over = response.push(bytes);
      if (over !== undefined) stopFor({ status: 'failed', reason: 'driver_failed', message: over });
    },
    onStderr: (text) => masker.write('stderr', text),
    onSystem: system,
  });
  function stopFor(failure: StepFailure): void {
    stopped ??= failure;
    proc.stop(failure.message);
  }
  const left = input.taskDeadline === undefined ? undefined : input.taskDeadline - performance.now();
  const timer =
    left === undefined
      ? undefined
      : setTimeout(
          () =>
            stopFor({
              status: 'timed_out',
              reason: 'timeout',
              message: `task '${task.name}' timed out after ${formatDuration(task.spec.timeoutMs ?? 0)} waiting for driver '${type}'`,
            }),
          Math.max(0, left),
        );
  const onAbort = (): void =>
    stopFor({ status: 'cancelled', reason: 'cancelled', message: `task '${task.name}' was cancelled` });
  if (options.signal?.aborted === true) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const exit = await proc.done;
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  masker.flush();

  if (exit.spawnError !== undefined)
    return fail('spawn_failed', `driver '${type}' could not start: ${exit.spawnError.message}`);
  if (exit.launchError !== undefined)
    return stopped === undefined
      ? fail('spawn_failed', `driver '${type}' could not start: ${exit.launchError}`)
      : { failure: stopped, exitCode: null, result: empty };
  if (stopped !== undefined) return { failure: stopped, exitCode: exit.exitCode, result: empty };
  const parsed = response.finish();
  const exitCode = exit.exitCode;
  const failed = (reason: StepFailure['reason'], message: string): DriverRun => ({
    failure: { status: 'failed', reason, message: `driver '${type}' ${message}` },
    exitCode,
    result: empty,
  });
  // What the driver said decides when it said something; its exit code only when it did not answer properly.
  if ('value' in parsed) {
    const { headers, body } = parsed.value;
    system(
      `driver '${type}' answered ${headers.status}${headers.reason === '' ? '' : ` ${headers.reason}`} (${headers.contentType ?? 'no content type'}, ${body.length} bytes, exit code ${exitCode ?? exit.signal ?? 'none'})`,
    );
    if (headers.status > 299) return failed('driver_failed', `failed: ${failureMessage(headers, body)}`);
  }
  if (exitCode !== 0)
    return failed(
      'exit_code',
      exitCode === null ? `was killed by ${exit.signal ?? 'a signal'}` : `exited with code ${exitCode}`,
    );
  if ('error' in parsed) return failed('driver_failed', `gave no valid response: ${parsed.error}`);
  const outputs = responseOutputs(parsed.value.headers, parsed.value.body);
  if ('error' in outputs) return failed('driver_failed', `gave no valid response: ${outputs.error}`);
  for (const name of outputs.value.secrets) masker.add(outputs.value.outputs[name] ?? '');
  return { exitCode: 0, result: outputs.value };
}

/**
 * RFC 3875 section 4.1's meta-variables for a POST of the spec. PATH_INFO is `/`, as go-task's CGI driver sends
 * by default (its endpoint `/`); SCRIPT_NAME names the type. RUN_AS_CGI=true as go-task sets it.
 */
function cgiEnv(type: string, length: number): Record<string, string> {
  return {
    GATEWAY_INTERFACE,
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_SOFTWARE: 'baton',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '0',
    REMOTE_ADDR: '127.0.0.1',
    REQUEST_METHOD: 'POST',
    CONTENT_TYPE: 'application/json',
    CONTENT_LENGTH: String(length),
    SCRIPT_NAME: `/${type}`,
    PATH_INFO: '/',
    QUERY_STRING: '',
    REQUEST_URI: `/${type}/`,
    RUN_AS_CGI: 'true',
    BATON_TASK_TYPE: type,
  };
}
