// A Baton task pushed to `baton runner serve` (docs/adr/0013): a Baton host that knows this runner's public key
// sends the AssignedTask a pull runner would get beside the Automn fields of `/api/run`, as `baton: {version: 1,
// task}`. It runs through runTask exactly as the pull agent runs it (secrets unsealed with this runner's private
// key and masked, outputs, confidential exports, imports, expressions, `if`, continue_on_error, working
// directories, step timeouts); each log line is a `log` frame and the result frame carries upstream's fields
// plus `baton: CompleteBody`. Uploads and artifacts need a pull runner: this runner has no token to reach the
// server with, so a task that has them fails naming them.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CompleteBody } from '../../protocol/api.ts';
import type { AssignedTask } from '../../protocol/plan.ts';
import { openSealed, type KeyPair } from '../../protocol/sealed.ts';
import { runTask, removeUpload, type Containment } from '../../engine/index.ts';
import { SECRET_SOURCES } from '../secret-sources/index.ts';
import { Lines, liveDeadman, type AutomnResult } from './execute.ts';

/** The version of the `baton` extension this runner speaks. */
export const BATON_EXTENSION_VERSION = 1;

/** The AssignedTask of a `baton` extension, or why it is not one (answered 400). */
export function batonTaskOf(ext: unknown): { task: AssignedTask } | { error: string } {
  if (ext === null || typeof ext !== 'object' || Array.isArray(ext))
    return { error: 'baton must be an object {version, task}' };
  const { version, task } = ext as { version?: unknown; task?: unknown };
  if (version !== BATON_EXTENSION_VERSION)
    return {
      error: `baton.version ${JSON.stringify(version)} is not supported; this runner speaks version ${BATON_EXTENSION_VERSION}`,
    };
  const t = task as Partial<AssignedTask> | null;
  const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (
    !isObject(t) ||
    typeof t!.runId !== 'string' ||
    typeof t!.taskId !== 'string' ||
    typeof t!.name !== 'string' ||
    typeof t!.attempt !== 'number' ||
    !isObject(t!.workflowEnv) ||
    !isObject(t!.spec) ||
    !Array.isArray(t!.spec!.steps) ||
    !isObject(t!.context) ||
    !Array.isArray(t!.artifacts) ||
    (t!.sealedSecrets !== undefined && typeof t!.sealedSecrets !== 'string')
  )
    return {
      error: 'baton.task is not a Baton task (runId, taskId, name, attempt, workflowEnv, spec, context)',
    };
  return { task: t as AssignedTask };
}

export interface BatonTaskOptions {
  runId: string;
  task: AssignedTask;
  input: unknown;
  keys: KeyPair;
  runnerName: string;
  workRoot: string;
  /** Where the engine keeps what it hands its own processes: inside the hidden state dir. */
  controlDir: string;
  baseEnv: Record<string, string>;
  /** The runner's own secret and reset token: masked in every line besides the task's secrets. */
  mask: string[];
  hide: string[];
  containment?: Containment;
  graceMs: number;
  signal: AbortSignal;
  onLine: (line: string) => void;
}

/** Upstream's result fields (for a host that reads only those) with the Baton outcome as `baton`. */
export type BatonResult = AutomnResult & { baton: CompleteBody };

export async function runBatonTask(o: BatonTaskOptions): Promise<BatonResult> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const spec = o.task.spec;
  const needsPull =
    spec.uploads.length > 0
      ? 'uploads'
      : spec.artifactsFrom.length > 0 || o.task.artifacts.length > 0
        ? 'artifacts_from'
        : undefined;
  let body: CompleteBody;
  if (needsPull !== undefined) {
    const message = `${needsPull} need a pull runner: a push runner has no token to reach the server with`;
    o.onLine(`[baton] ${message}\n`);
    body = failed(message, startedAt);
  } else body = await execute(o, startedAt);
  return {
    runId: o.runId,
    stdout: '',
    stderr: body.status === 'succeeded' ? '' : (body.message ?? body.status),
    code: body.exitCode ?? (body.status === 'succeeded' ? 0 : 1),
    duration: Math.round(performance.now() - t0),
    returnData: null,
    automnLogs: [],
    automnNotifications: [],
    input: o.input,
    baton: body,
  };
}

function failed(message: string, startedAt: string): CompleteBody {
  return {
    status: 'failed',
    reason: 'setup_failed',
    message,
    exitCode: null,
    outputs: {},
    confidential: [],
    steps: [],
    startedAt,
    finishedAt: new Date().toISOString(),
  };
}

async function execute(o: BatonTaskOptions, startedAt: string): Promise<CompleteBody> {
  const out = new Lines(o.onLine);
  const err = new Lines(o.onLine);
  const live = liveDeadman();
  try {
    const secrets = o.task.sealedSecrets
      ? (JSON.parse(await openSealed(o.task.sealedSecrets, o.keys)) as Record<string, string>)
      : {};
    const task: AssignedTask = {
      ...o.task,
      context: {
        ...o.task.context,
        mask: [...o.task.context.mask, ...o.mask.filter((m) => m !== '')],
      },
    };
    await mkdir(o.controlDir, { recursive: true, mode: 0o700 });
    const outcome = await runTask(task, {
      secrets,
      workRoot: o.workRoot,
      controlDir: o.controlDir,
      hide: o.hide,
      deadman: live.deadman,
      ...(o.containment === undefined ? {} : { containment: o.containment }),
      baseEnv: { ...o.baseEnv, BATON_RUNNER_NAME: o.runnerName },
      signal: o.signal,
      cancelGraceMs: o.graceMs,
      // A `secret` task fetches here as on a pull runner: Baton's store (sealed with the task) or Vault.
      secretSources: SECRET_SOURCES,
      runnerName: o.runnerName,
      onLog: (e) => {
        if (e.stream === 'stdout') out.push(e.text);
        else if (e.stream === 'stderr') err.push(e.text);
        else {
          out.flush();
          err.flush();
          o.onLine(`[baton] ${e.text.endsWith('\n') ? e.text : `${e.text}\n`}`);
        }
      },
    });
    // Never declared by a task that reached here (checked above); removed should the engine have made one.
    if (outcome.upload) await removeUpload(outcome.upload.path).catch(() => undefined);
    return {
      status: outcome.status,
      exitCode: outcome.exitCode,
      outputs: outcome.outputs,
      confidential: outcome.confidential,
      steps: outcome.steps,
      startedAt: outcome.startedAt,
      finishedAt: outcome.finishedAt,
      ...(outcome.annotations ? { annotations: outcome.annotations } : {}),
      ...(outcome.summaries ? { summaries: outcome.summaries } : {}),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(outcome.message ? { message: outcome.message } : {}),
    };
  } catch (error) {
    const message = `the runner could not run the task: ${(error as Error).message}`;
    o.onLine(`[baton] ${message}\n`);
    return failed(message, startedAt);
  } finally {
    live.stop();
    out.flush();
    err.flush();
  }
}

/** The engine's control dir of a serve process: inside its state dir, which no step can see. */
export const controlDirOf = (stateDir: string) => join(stateDir, 'engine');
