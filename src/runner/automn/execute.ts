// One Automn `/api/run` request executed through Baton's engine (runTask): a one-step task in a fresh work
// dir, with containment, masking, a timeout that signals the process group (SIGTERM, then SIGKILL after a
// grace) and cancel on abort. Output is streamed as whole lines; the result has upstream's field names.

import { makeAssignedTask } from './task.ts';
import { runTask, type Containment, type Deadman } from '../../engine/index.ts';
import { AUTOMN_LANGUAGES, scriptFor } from './helpers.ts';
import { collectApi, StdoutMarkers } from './script-api.ts';

export interface AutomnResult {
  runId: string;
  stdout: string;
  stderr: string;
  code: number;
  duration: number;
  returnData: unknown;
  automnLogs: unknown[];
  automnNotifications: unknown[];
  input: unknown;
}

export interface ExecuteOptions {
  runId: string;
  script: Record<string, unknown>;
  input: unknown;
  workRoot: string;
  /** The runner's environment with every credential already removed. */
  baseEnv: Record<string, string>;
  /** Values never to appear in output (the runner's secret and reset token). */
  mask: string[];
  hide: string[];
  containment?: Containment;
  graceMs: number;
  signal: AbortSignal;
  /** Also read upstream's `__SCRIPT…__` stdout markers (the compatibility switch). */
  stdoutMarkers: boolean;
  onLine: (line: string) => void;
}

/** How long a run's tree outlives a runner that stopped renewing (frozen); a dead runner's tree dies at once. */
const DEADMAN_MS = 60_000;
const RENEW_MS = 15_000;

/**
 * The dead-man's switch of one run: renewed while this process lives. When the runner is killed, the step's
 * watchdog sees its renewal pipe end and kills the tree; when it freezes, the tree dies at the deadline.
 */
export function liveDeadman(): { deadman: Deadman; stop: () => void } {
  let deadline = performance.now() + DEADMAN_MS;
  const listeners = new Set<(d: number) => void>();
  const timer = setInterval(() => {
    deadline = performance.now() + DEADMAN_MS;
    for (const l of listeners) l(deadline);
  }, RENEW_MS);
  timer.unref();
  return {
    deadman: {
      deadline: () => deadline,
      onRenew: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    },
    stop: () => clearInterval(timer),
  };
}

/** Whole lines of one stream; the rest is kept until the next chunk or flush(). */
export class Lines {
  #rest = '';
  readonly #emit: (line: string) => void;
  constructor(emit: (line: string) => void) {
    this.#emit = emit;
  }
  push(text: string): void {
    const all = this.#rest + text;
    const cut = all.lastIndexOf('\n');
    if (cut < 0) {
      this.#rest = all;
      return;
    }
    this.#rest = all.slice(cut + 1);
    this.#emit(all.slice(0, cut + 1));
  }
  flush(): void {
    if (this.#rest !== '') this.#emit(this.#rest);
    this.#rest = '';
  }
}

/** Environment variables a script gets for its input, as upstream sets them. */
export function inputEnv(
  runId: string,
  input: unknown,
  script: Record<string, unknown>,
): Record<string, string> {
  const json = JSON.stringify(input ?? {});
  const env: Record<string, string> = {
    AUTOMN_RUN_ID: runId,
    AUTOMN_INTERNAL_INPUT_JSON: json,
    AUTOMN_INPUT_JSON: json,
    INPUT_JSON: json,
  };
  const variables = Array.isArray(script.variables) ? script.variables : [];
  for (const v of variables as Array<Record<string, unknown>>) {
    if (v === null || typeof v !== 'object') continue;
    const name = v.envName;
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) continue;
    env[name] = typeof v.value === 'string' ? v.value : v.value == null ? '' : JSON.stringify(v.value);
  }
  return env;
}

export async function executeScript(o: ExecuteOptions): Promise<AutomnResult> {
  const language = typeof o.script.language === 'string' ? o.script.language : 'shell';
  const base = { runId: o.runId, input: o.input, returnData: null, automnLogs: [], automnNotifications: [] };
  const shell = AUTOMN_LANGUAGES[language];
  if (shell === undefined)
    return { ...base, stdout: '', stderr: 'Unsupported language', code: 1, duration: 0 };
  if (typeof o.script.code !== 'string')
    return { ...base, stdout: '', stderr: 'Script code must be a string', code: 1, duration: 0 };
  const timeout = Number(o.script.timeout);
  let stdout = '';
  let stderr = '';
  const markers = o.stdoutMarkers ? new StdoutMarkers() : undefined;
  const out = new Lines((text) => {
    o.onLine(text);
    if (markers === undefined) stdout += text;
    else
      for (const line of text.split(/(?<=\n)/))
        if (!markers.consume(line.replace(/\r?\n$/, ''))) stdout += line;
  });
  const err = new Lines((line) => {
    stderr += line;
    o.onLine(line);
  });
  const task = makeAssignedTask({
    runId: o.runId,
    run: scriptFor(language, o.script.code),
    shell,
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? Math.round(timeout * 1000) : undefined,
    mask: o.mask,
  });
  const t0 = performance.now();
  const live = liveDeadman();
  const outcome = await runTask(task, {
    deadman: live.deadman,
    workRoot: o.workRoot,
    baseEnv: { ...o.baseEnv, ...inputEnv(o.runId, o.input, o.script) },
    signal: o.signal,
    cancelGraceMs: o.graceMs,
    hide: o.hide,
    ...(o.containment === undefined ? {} : { containment: o.containment }),
    onLog: (e) => {
      if (e.stream === 'stdout') out.push(e.text);
      else if (e.stream === 'stderr') err.push(e.text);
    },
  }).finally(live.stop);
  out.flush();
  err.flush();
  const duration = Math.round(performance.now() - t0);
  const api = collectApi(outcome.outputs, markers?.entries);
  let code = outcome.exitCode ?? 1;
  if (outcome.reason === 'timeout') {
    code = 1;
    o.onLine('Timeout exceeded.\n');
    stderr += '\nTimeout exceeded.';
  } else if (outcome.reason === 'cancelled') {
    code = 1;
    stderr += '\nRun cancelled.';
  } else if (outcome.reason !== undefined && outcome.reason !== 'exit_code') {
    code = 1;
    if (outcome.exitCode === null)
      stderr += (stderr === '' ? '' : '\n') + (outcome.message ?? outcome.reason);
  }
  if (api.badReturn !== undefined) stderr += `\nBad return JSON: ${api.badReturn}`;
  return {
    runId: o.runId,
    stdout: stdout.trimEnd(),
    stderr,
    code,
    duration,
    returnData: api.returnData,
    automnLogs: api.logs,
    automnNotifications: api.notifications,
    input: o.input,
  };
}
