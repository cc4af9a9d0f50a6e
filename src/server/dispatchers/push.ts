// The push dispatcher (DESIGN.md's Remote Dispatcher): beside the long-poll pull, the server itself claims the
// tasks whose `runs_on` selects a push runner (by its name or labels), holds each lease as a pull runner would
// (start, heartbeat, logs, complete through the same store calls), POSTs the task as an Automn `/api/run`
// request, stores the streamed `log` frames as the task's log and maps the `result` frame to the outcome.
// A stream that ends without a result, a runner that goes silent or refuses, or the total deadline ends the
// attempt `runner_lost` (retried only if the task declares it); cancelling the task closes the stream.
//
// A push runner that registered a public key (`baton runner serve`) gets the Baton task itself (docs/adr/0013):
// the AssignedTask a pull runner would get, secrets sealed to its key, as `baton: {version: 1, task}` beside the
// Automn fields; its result frame carries the CompleteBody as `baton`, checked here before it is recorded. A
// runner without a key (a real Automn runner) gets the task as one Automn script (script.ts). A runner at
// capacity (429) gets the offer withdrawn without spending an attempt and is not asked again for a few seconds.
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CompleteBody, MAX_LOG_CHUNK_BYTES, StepResult } from '../../protocol/api.ts';
import type { AssignedTask, Plan, TaskSpec } from '../../protocol/plan.ts';
import { toError } from '../../protocol/errors.ts';
import type { Claimed, ClaimingRunner, PushRunnerRow } from '../../store/index.ts';
import { publishAdvance, wakeAt, type ServerContext } from '../context.ts';
import { SERVER_LOG_LIMIT_BYTES } from '../routes/runner-protocol.ts';
import { assignClaimed } from '../assign.ts';
import { completeLease } from '../runner-calls.ts';
import { PUSH_DEFAULT_TIMEOUT_S, pushScript, type PushScript } from '../push/script.ts';
import { openPushSecret } from '../push/secret.ts';
import { pushRunnerHealthy, pushRunnerView } from '../push/view.ts';
import { pushRunnerAdminRoutes, pushRunnerRegisterRoutes } from '../routes/push-runners.ts';
import type { TaskRow } from '../../store/schema.ts';
import { candidate, missingGifts, plural } from './pending.ts';
import { isCustomTaskType } from '../../protocol/task-types.ts';
import type { DispatcherModule, PendingCandidate, PendingReason } from './types.ts';

/** Attempts of push runners are held under this runner id, so they never mix with a pull runner's. */
export const pushRunnerLeaseId = (id: string) => `push:${id}`;
/** Past the script's own timeout, how long the runner has to send its result before it counts as lost. */
const DEADLINE_GRACE_MS = 30_000;
/** How often the dispatcher looks for work besides the queue events (a runner became healthy, a retry is due). */
const RESCAN_MS = 1_000;
/** The largest returnData kept as the task's `returnData` output. */
const RETURN_DATA_MAX_BYTES = 1_048_576;
/** After a runner answered 429 (at capacity), it is not asked again until one of its tasks ends or this passes. */
export const PUSH_BUSY_BACKOFF_MS = 3_000;
/** The version of the `baton` extension of `/api/run` (docs/adr/0013). */
const BATON_EXTENSION_VERSION = 1;

class Lost extends Error {}

function startPushDispatcher(ctx: ServerContext): { stop(): Promise<void> } {
  const active = new Map<string, number>();
  /**
   * Push runners whose last dispatch was lost (a refused connection, a cut stream): when, so that no task (a
   * retry included) is sent there again until the runner heartbeats after it — a dead runner still looks healthy
   * for up to 120 s of its last heartbeat.
   */
  const suspended = new Map<string, number>();
  /** Push runners that answered 429: not asked again before this time (or until one of their tasks ends). */
  const busyUntil = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  /** Dispatches that ended in a 429: their end frees no slot of the runner. */
  const refused = new WeakSet<Promise<void>>();
  const stopping = new AbortController();
  let scanning: Promise<void> | undefined;
  let again = false;

  const scan = async () => {
    const now = ctx.now();
    for (const row of await ctx.store.pushRunners.list()) {
      if (stopping.signal.aborted) return;
      if (!pushRunnerHealthy(row, now) || !row.endpoint) continue;
      const lostAt = suspended.get(row.id);
      if (lostAt !== undefined) {
        if ((row.last_seen_at ?? 0) <= lostAt) continue;
        suspended.delete(row.id);
      }
      if ((busyUntil.get(row.id) ?? 0) > now) continue;
      busyUntil.delete(row.id);
      // Kept sealed with the master key once it registered: any replica, and a restarted server, can dispatch.
      const secret = openPushSecret(ctx.masterKey, row.id, row.sealed_secret);
      if (secret === undefined) continue; // it has not registered with its current secret yet
      const capacity = row.max_concurrency ?? 1;
      while ((active.get(row.id) ?? 0) < capacity) {
        const claimed = await ctx.store.leases.claim(claiming(row), ctx.now());
        if (!claimed) break;
        active.set(row.id, (active.get(row.id) ?? 0) + 1);
        const p: Promise<void> = run(row, secret, claimed)
          .then((outcome) => {
            if (outcome === 'busy') refused.add(p);
          })
          .catch((err: unknown) =>
            ctx.log.error({ err: toError(err), runner: row.id }, 'push dispatch failed'),
          )
          .finally(() => {
            active.set(row.id, (active.get(row.id) ?? 1) - 1);
            if (!refused.has(p)) busyUntil.delete(row.id); // a slot of it is free again
            refused.delete(p);
            inFlight.delete(p);
            kick(); // a slot is free
          });
        inFlight.add(p);
      }
    }
  };
  const kick = () => {
    if (stopping.signal.aborted) return;
    if (scanning) {
      again = true;
      return;
    }
    scanning = scan()
      .catch((err: unknown) => ctx.log.error({ err: toError(err) }, 'push dispatcher scan failed; retrying'))
      .finally(() => {
        scanning = undefined;
        if (again) {
          again = false;
          kick();
        }
      });
  };

  function claiming(row: PushRunnerRow): ClaimingRunner {
    return {
      id: pushRunnerLeaseId(row.id),
      name: row.name,
      labels: [row.name, ...(JSON.parse(row.labels) as string[])],
      // A real Automn runner has no key to seal secrets to; `baton runner serve` registers one. Neither reports
      // a sandbox, network isolation or limits.
      canReceiveSecrets: row.public_key !== null,
      gives: { sandbox: false, networkIsolation: false, limits: false, drivers: [] },
      requireRunsOn: true,
    };
  }

  async function run(row: PushRunnerRow, secret: string, claimed: Claimed): Promise<'busy' | undefined> {
    const runnerId = pushRunnerLeaseId(row.id);
    const lease = claimed.attempt.lease_id;
    const task = claimed.task;
    const spec = JSON.parse(task.spec) as TaskSpec;
    const startedAt = new Date(ctx.now()).toISOString();
    const runRow = await ctx.store.runs.runRow(task.run_id);
    const plan = JSON.parse(runRow!.plan) as Plan;
    const inputs = JSON.parse(runRow!.inputs) as Record<string, string>;
    // What to send: the Baton task itself to a runner with a key, else one Automn script.
    let request: { script: PushScript; baton?: AssignedTask } | { unsupported: string };
    if (row.public_key !== null) {
      if (spec.uploads.length > 0)
        request = {
          unsupported: 'uploads need a pull runner (a push runner has no token to send them with)',
        };
      else if (spec.type === 'secret')
        request = {
          unsupported:
            'type: secret needs a pull runner (its values are sealed to the importing runners, docs/adr/0014)',
        };
      else if (spec.artifactsFrom.length > 0)
        request = {
          unsupported: 'artifacts_from needs a pull runner (a push runner has no token to fetch them with)',
        };
      else {
        try {
          const assigned = await assignClaimed(ctx, claimed, {
            id: row.id,
            name: row.name,
            publicKey: row.public_key,
          });
          request = { script: batonScript(spec), baton: assigned };
        } catch (err) {
          request = { unsupported: toError(err).message };
        }
      }
    } else {
      const built = pushScript(spec, plan.env);
      request = 'unsupported' in built ? built : { script: built.script };
    }
    if ('unsupported' in request) {
      await ctx.store.leases.start(lease, runnerId, ctx.now());
      return finish(claimed, {
        status: 'failed',
        reason: 'spawn_failed',
        message: `push runner '${row.name}' cannot run task '${task.name}': ${request.unsupported}`,
        exitCode: null,
        outputs: {},
        steps: [],
        startedAt,
        finishedAt: new Date(ctx.now()).toISOString(),
      }).then(() => undefined);
    }
    const abort = new AbortController();
    let why: 'cancel' | 'lost' | undefined;
    let lostMessage = '';
    const lose = (message: string) => {
      if (why) return;
      why = 'lost';
      lostMessage = message;
      abort.abort(new Lost(message));
    };
    const deadlineMs = request.script.timeoutSeconds * 1000 + DEADLINE_GRACE_MS;
    const deadline = setTimeout(
      () => lose(`push runner '${row.name}' sent no result within ${Math.round(deadlineMs / 1000)}s`),
      deadlineMs,
    );
    const onShutdown = () => abort.abort(new Lost('the server is shutting down'));
    stopping.signal.addEventListener('abort', onShutdown);
    // The lease is renewed while the stream is open; a cancel, a lost lease or a runner that stopped
    // heartbeating ends the stream (closing it is what stops the script on the runner).
    const heartbeat = setInterval(() => {
      void (async () => {
        try {
          const hb = await ctx.store.leases.heartbeat(lease, runnerId, ctx.now());
          if (hb.cancel && !why) {
            why = 'cancel';
            abort.abort(new Lost('cancelled'));
          }
          const now = await ctx.store.pushRunners.get(row.id);
          if (!now || !pushRunnerHealthy(now, ctx.now()))
            lose(`push runner '${row.name}' stopped sending heartbeats (or was disabled or removed)`);
        } catch (err) {
          lose(`the lease could not be renewed: ${toError(err).message}`);
        }
      })();
    }, ctx.config.heartbeatIntervalMs);
    const log = new LogWriter(ctx, {
      lease,
      runnerId,
      runId: task.run_id,
      task: task.name,
      taskId: task.id,
      attempt: claimed.attempt.number,
    });
    let result: AutomnResult | undefined;
    let busy = false;
    try {
      const res = await open(row, secret, request.script, request.baton, claimed, inputs, abort.signal);
      if (res.status === 429) {
        // At capacity: the offer was never started there, so it goes back to the queue as an unconfirmed
        // offer does, without spending an attempt; the runner is left alone for a while.
        busy = true;
        await res.body?.cancel().catch(() => undefined);
      } else {
        // The runner took it: confirm the offer, as a pull runner does with `start`.
        const started = await ctx.store.leases.start(lease, runnerId, ctx.now());
        if (started.cancel && !why) {
          why = 'cancel';
          abort.abort(new Lost('cancelled'));
        }
        ctx.hub.runEvent({
          type: 'task',
          runId: task.run_id,
          task: task.name,
          status: 'running',
          attempt: claimed.attempt.number,
          runner: row.name,
        });
        result = await read(res, log);
        if (!result && !why) lose(`push runner '${row.name}' ended the stream without a result`);
      }
    } catch (err) {
      if (!why) lose(`push runner '${row.name}': ${toError(err).message}`);
    } finally {
      clearTimeout(deadline);
      clearInterval(heartbeat);
      stopping.signal.removeEventListener('abort', onShutdown);
    }
    if (busy) {
      busyUntil.set(row.id, ctx.now() + PUSH_BUSY_BACKOFF_MS);
      ctx.log.warn(
        { runner: row.id, task: task.name },
        'push runner is at capacity (429); the task goes back to the queue',
      );
      if (await ctx.store.leases.withdraw(lease, runnerId, ctx.now())) {
        ctx.hub.runEvent({ type: 'task', runId: task.run_id, task: task.name, status: 'queued' });
        setTimeout(kick, PUSH_BUSY_BACKOFF_MS).unref();
      }
      return 'busy';
    }
    await log.flushed();
    if (stopping.signal.aborted && !result) return; // the reaper of the next start ends it
    const finishedAt = new Date(ctx.now()).toISOString();
    if (why === 'cancel') {
      return finish(claimed, {
        status: 'cancelled',
        reason: 'cancelled',
        exitCode: null,
        outputs: {},
        steps: [],
        startedAt,
        finishedAt,
        ...(log.truncated ? { logTruncated: true } : {}),
      }).then(() => undefined);
    }
    if (why === 'lost' || !result) {
      suspended.set(row.id, ctx.now());
      const res = await ctx.store.leases.lose(lease, runnerId, lostMessage, ctx.now());
      ctx.hub.runEvent({
        type: 'task',
        runId: res.runId,
        task: res.taskName,
        status: res.status,
        message: lostMessage,
      });
      publishAdvance(ctx, res.runId, res.advance);
      if (res.retryAt !== undefined) wakeAt(ctx, res.retryAt);
      return;
    }
    const body =
      request.baton === undefined
        ? outcome(result, startedAt, finishedAt, log.truncated)
        : batonOutcome(row.name, result, startedAt, finishedAt, log.truncated);
    return finish(claimed, body).then(() => undefined);
  }

  async function finish(claimed: Claimed, body: CompleteBody): Promise<void> {
    // Recorded and published exactly as a pull runner's completion (runner-calls.ts).
    await completeLease(ctx, claimed.attempt.lease_id, claimed.attempt.runner_id, body);
  }

  /** POSTs the `/api/run` request; resolves with the response once its headers arrived. */
  async function open(
    row: PushRunnerRow,
    secret: string,
    script: PushScript,
    baton: AssignedTask | undefined,
    claimed: Claimed,
    inputs: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Response> {
    const runId = randomUUID();
    const task = claimed.task;
    // Automn's request: headers naming the runner and its secret, the run id, the script and the caller's input
    // (here the run's inputs, which the script reads as AUTOMN_INPUT_JSON).
    const body = {
      runId,
      script: {
        id: task.id,
        name: task.name,
        endpoint: task.name,
        language: script.language,
        code: script.code,
        timeout: script.timeoutSeconds,
        runner_host_id: row.id,
        script_runner_name: row.name,
        preassignedRunId: runId,
        skipQueue: true,
        triggeredBy: 'baton',
        variables: script.variables,
        jobContext: {
          scriptName: task.name,
          targetRunnerId: row.id,
          targetRunnerName: row.name,
          batonRunId: task.run_id,
          batonAttempt: claimed.attempt.number,
        },
      },
      reqBody: inputs,
      ...(baton === undefined ? {} : { baton: { version: BATON_EXTENSION_VERSION, task: baton } }),
    };
    const res = await fetch(row.endpoint!, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'x-automn-runner-id': row.id,
        'x-automn-runner-name': row.name,
        'x-automn-runner-secret': secret,
      },
      body: JSON.stringify(body),
      signal,
    });
    if ((res.status !== 200 && res.status !== 429) || (res.status === 200 && !res.body)) {
      const text = (await res.text().catch(() => '')).slice(0, 300);
      throw new Error(`its /api/run answered ${res.status}${text ? `: ${text}` : ''}`);
    }
    return res;
  }

  /** Stores the `log` frames of the stream as they arrive; resolves with its `result` frame's data. */
  async function read(res: Response, log: LogWriter): Promise<AutomnResult | undefined> {
    const decoder = new TextDecoder();
    let pending = '';
    let result: AutomnResult | undefined;
    const reader = res.body!.getReader();
    const onLine = (line: string) => {
      if (line.trim() === '') return;
      let frame: { type?: unknown; line?: unknown; data?: unknown };
      try {
        frame = JSON.parse(line) as typeof frame;
      } catch {
        throw new Error(`it sent a line that is not JSON: ${JSON.stringify(line.slice(0, 100))}`);
      }
      if (result !== undefined) throw new Error('it sent a frame after its result');
      if (frame.type === 'log' && typeof frame.line === 'string') log.write(frame.line);
      else if (frame.type === 'result' && frame.data && typeof frame.data === 'object')
        result = frame.data as AutomnResult;
    };
    for (;;) {
      const { done, value } = await reader.read();
      pending += decoder.decode(value, { stream: !done });
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        onLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
      if (done) break;
    }
    onLine(pending);
    return result;
  }

  const offQueued = ctx.hub.onQueuedForDispatcher(() => kick());
  const timer = setInterval(kick, RESCAN_MS);
  timer.unref();
  kick();
  return {
    async stop() {
      clearInterval(timer);
      offQueued();
      stopping.abort();
      await scanning;
      await Promise.all([...inFlight]);
    },
  };
}

interface AutomnResult {
  code?: unknown;
  stderr?: unknown;
  returnData?: unknown;
  /** The Baton extension: the CompleteBody of a Baton task (docs/adr/0013). */
  baton?: unknown;
}

/**
 * CompleteBody as TypeBox's Value.Check can read it: the wire schema's `exitCode` is one `type` list for Ajv's
 * coercion (protocol/api.ts), which Value.Check does not know; here it is the same set of values as a union.
 */
const CheckedExitCode = Type.Union([Type.Integer(), Type.Null()]);
const PushedCompleteBody = Type.Object(
  {
    ...CompleteBody.properties,
    exitCode: CheckedExitCode,
    steps: Type.Array(Type.Object({ ...StepResult.properties, exitCode: CheckedExitCode }), {
      maxItems: 1000,
    }),
  },
  { additionalProperties: false },
);

/**
 * The Automn fields sent beside a Baton task: a runner that does not read the `baton` extension runs this and
 * fails saying why, instead of doing something else.
 */
function batonScript(spec: TaskSpec): PushScript {
  return {
    language: 'shell',
    code: `echo "this is a Baton task: the runner must read the request's baton field (baton runner serve)" >&2\nexit 1\n`,
    variables: [],
    timeoutSeconds:
      spec.timeoutMs === undefined ? PUSH_DEFAULT_TIMEOUT_S : Math.max(1, Math.ceil(spec.timeoutMs / 1000)),
  };
}

/** The Baton outcome in the result frame, checked against CompleteBody; a bad one fails the attempt naming why. */
function batonOutcome(
  runner: string,
  r: AutomnResult,
  startedAt: string,
  finishedAt: string,
  truncated: boolean,
): CompleteBody {
  if (Value.Check(PushedCompleteBody, r.baton))
    return { ...(r.baton as CompleteBody), ...(truncated ? { logTruncated: true } : {}) };
  const first = r.baton === undefined ? undefined : Value.Errors(PushedCompleteBody, r.baton).First();
  const why =
    first === undefined
      ? 'it has no baton field'
      : `its baton field is not a Baton result: ${first.path || '/'} ${first.message}`;
  return {
    status: 'failed',
    reason: 'setup_failed',
    message: `push runner '${runner}' sent a result the server cannot record (${why})`,
    exitCode: null,
    outputs: {},
    steps: [],
    startedAt,
    finishedAt,
    ...(truncated ? { logTruncated: true } : {}),
  };
}

function outcome(r: AutomnResult, startedAt: string, finishedAt: string, truncated: boolean): CompleteBody {
  const code = typeof r.code === 'number' && Number.isInteger(r.code) ? r.code : 1;
  const stderr = typeof r.stderr === 'string' ? r.stderr : '';
  const outputs: Record<string, string> = {};
  let message: string | undefined;
  if (r.returnData !== undefined && r.returnData !== null) {
    const json = JSON.stringify(r.returnData);
    if (Buffer.byteLength(json) <= RETURN_DATA_MAX_BYTES) outputs.returnData = json;
    else
      message = `returnData is ${Buffer.byteLength(json)} bytes; over the limit of ${RETURN_DATA_MAX_BYTES} it is not kept`;
  }
  // Upstream reports its own timeout as exit code 1 with this at the end of stderr.
  const timedOut = code === 1 && stderr.endsWith('Timeout exceeded.');
  const base = {
    exitCode: code,
    outputs,
    steps: [],
    startedAt,
    finishedAt,
    ...(truncated ? { logTruncated: true } : {}),
  };
  if (code === 0) return { status: 'succeeded', ...base, ...(message ? { message } : {}) };
  if (timedOut)
    return {
      status: 'timed_out',
      reason: 'timeout',
      ...base,
      message: 'the push runner timed the script out',
    };
  return { status: 'failed', reason: 'exit_code', ...base, message: message ?? `exit code ${code}` };
}

/**
 * Stores log frames in order, each exactly once: chunk `seq` starts where chunk `seq - 1` ended, as a pull
 * runner's chunks do. Writes go one after another in the background so reading the stream is not held up.
 */
interface LogPlace {
  lease: string;
  runnerId: string;
  runId: string;
  task: string;
  taskId: string;
  attempt: number;
}

class LogWriter {
  private seq = 0;
  private offset = 0;
  private chain: Promise<void> = Promise.resolve();
  truncated = false;

  private readonly ctx: ServerContext;
  private readonly at: LogPlace;

  constructor(ctx: ServerContext, at: LogPlace) {
    this.ctx = ctx;
    this.at = at;
  }

  write(text: string): void {
    for (const piece of splitUtf8(text, MAX_LOG_CHUNK_BYTES)) {
      const bytes = Buffer.byteLength(piece);
      if (this.offset + bytes > SERVER_LOG_LIMIT_BYTES) {
        this.truncated = true;
        return;
      }
      const chunk = { seq: this.seq++, offset: this.offset, data: piece };
      this.offset += bytes;
      this.chain = this.chain.then(async () => {
        try {
          await this.ctx.store.leases.appendLogs(
            this.at.lease,
            this.at.runnerId,
            [chunk],
            this.ctx.now(),
            SERVER_LOG_LIMIT_BYTES,
            { files: this.ctx.logFiles },
          );
          this.ctx.hub.log({
            runId: this.at.runId,
            task: this.at.task,
            taskId: this.at.taskId,
            attempt: this.at.attempt,
            ...chunk,
          });
        } catch (err) {
          this.ctx.log.warn(
            { err: toError(err), task: this.at.task },
            'could not store a push runner log chunk',
          );
        }
      });
    }
  }

  flushed(): Promise<void> {
    return this.chain;
  }
}

/** `text` in pieces of at most `max` UTF-8 bytes, never splitting a character. */
function splitUtf8(text: string, max: number): string[] {
  if (Buffer.byteLength(text) <= max) return [text];
  const out: string[] = [];
  let cur = '';
  let curBytes = 0;
  for (const ch of text) {
    const b = Buffer.byteLength(ch);
    if (curBytes + b > max) {
      out.push(cur);
      cur = '';
      curBytes = 0;
    }
    cur += ch;
    curBytes += b;
  }
  if (cur) out.push(cur);
  return out;
}

export const pushDispatcher: DispatcherModule = {
  kind: 'push',
  description:
    'the server POSTs tasks to push runners (`baton runner serve`, Automn runners) and reads NDJSON back',
  create(ctx) {
    let loop: { stop(): Promise<void> } | undefined;
    return {
      kind: 'push',
      async routes(app) {
        await app.register(async (s) => pushRunnerAdminRoutes(s, ctx));
        await app.register(async (s) => pushRunnerRegisterRoutes(s, ctx));
      },
      async start() {
        loop = startPushDispatcher(ctx);
      },
      async stop() {
        await loop?.stop();
        loop = undefined;
      },
      explain: (task, spec) => explainPush(ctx, task, spec),
    };
  },
};

/** Per push runner, each reason its claim (`claiming` above, and the store's claim query) would pass the task over. */
async function explainPush(ctx: ServerContext, task: TaskRow, spec: TaskSpec): Promise<PendingCandidate[]> {
  const runsOn = JSON.parse(task.runs_on) as string[];
  const runsOnAny = spec.runsOnAny ?? [];
  const active = await ctx.store.leases.activeByRunner();
  const now = ctx.now();
  return (await ctx.store.pushRunners.list()).map((row) => {
    const view = pushRunnerView(row, now);
    const labels = [row.name, ...(JSON.parse(row.labels) as string[])];
    const reasons: PendingReason[] = [];
    const add = (r: PendingReason) => reasons.push(r);
    if (row.disabled_at !== null)
      add({
        code: 'disabled',
        message: `push runner '${row.name}' is disabled by an admin; enable it to use it`,
      });
    else if (row.endpoint === null || row.sealed_secret === null)
      add({
        code: 'offline',
        detail: 'not_registered',
        message: `push runner '${row.name}' has not registered its endpoint and current secret yet`,
      });
    else if (!view.isHealthy)
      add({
        code: 'offline',
        message: view.lastSeenAt
          ? `push runner '${row.name}' has sent no heartbeat since ${view.lastSeenAt}`
          : `push runner '${row.name}' never sent a heartbeat`,
      });
    if (runsOn.length === 0 && runsOnAny.length === 0)
      add({
        code: 'tag_mismatch',
        detail: 'no_runs_on',
        message: `a push runner takes only tasks whose runs_on names it or its labels (e.g. runs_on: [${row.name}])`,
      });
    const missing = runsOn.filter((l) => !labels.includes(l));
    if (missing.length > 0)
      add({
        code: 'tag_mismatch',
        detail: 'labels_missing',
        message: `push runner '${row.name}' lacks ${plural(missing.length, 'label')} ${missing.join(', ')} (the task needs all of ${runsOn.join(', ')})`,
      });
    if (runsOnAny.length > 0 && !runsOnAny.some((l) => labels.includes(l)))
      add({
        code: 'tag_mismatch',
        detail: 'labels_missing',
        message: `push runner '${row.name}' carries none of ${runsOnAny.join(', ')} (the task needs any one of them)`,
      });
    if (spec.forwardTo !== undefined && spec.forwardTo !== row.name)
      add({
        code: 'tag_mismatch',
        detail: 'forwarded',
        message: `the task is forwarded to runner '${spec.forwardTo}', not '${row.name}'`,
      });
    if (isCustomTaskType(spec.type))
      add({
        code: 'no_driver',
        message: `the task has type '${spec.type}' and push runner '${row.name}' runs no custom drivers; it needs a pull runner started with --drivers (docs/drivers.md)`,
      });
    reasons.push(
      ...missingGifts(task, row.name, {
        sandbox: false,
        networkIsolation: false,
        limits: false,
        drivers: [],
      }),
    );
    if (task.relay_to !== null)
      add({
        code: 'no_key',
        detail: 'not_a_relay_recipient',
        message: `the task imports values a secret task sealed to pull runners only; push runner '${row.name}' cannot open them`,
      });
    if (task.names_secrets === 1 && row.public_key === null)
      add({
        code: 'no_key',
        message: `the task names secrets and push runner '${row.name}' has no public key to seal them to (a \`baton runner serve\` runner registers one)`,
      });
    const running = active.get(pushRunnerLeaseId(row.id)) ?? 0;
    const capacity = row.max_concurrency ?? 1;
    if (running >= capacity)
      add({
        code: 'at_capacity',
        message: `push runner '${row.name}' is running ${running} of its ${capacity} ${plural(capacity, 'task')}`,
      });
    return candidate(
      { id: row.id, name: row.name, status: view.status, labels, dispatcher: 'push' },
      reasons,
    );
  });
}
