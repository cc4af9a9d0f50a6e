// Typed HTTP client for the Baton API: used by the CLI, the runner, tests and users' programs.
import { encodeLogFrames, type LogFrame } from '../protocol/log-frames.ts';
import type {
  AcquireResponse,
  CompleteBody,
  CompleteResponse,
  CreateTokenBody,
  CreateTokenResponse,
  ListRunsResponse,
  LeaseResponse,
  LogChunk,
  LogsResponse,
  RegisterRunnerBody,
  RegisterRunnerResponse,
  RunEvent,
  StepsEvent,
  StepRecord,
  RunResult,
  TaskResult,
  TaskGroupResult,
  RunnerDetail,
  RunnerSelfResponse,
  RunnerStatusBody,
  RunnerStatusResponse,
  PendingExplanation,
  RunnerView,
  SubmitRunBody,
} from '../protocol/api.ts';
import type { GitHubFacts } from '../protocol/github-context.ts';
import type { RunStatus } from '../protocol/status.ts';
import type { CacheClearResponse, CacheListResponse, CacheLookupResponse } from '../protocol/cache.ts';
import type { CreateWebhookResponse, WebhookDeliveriesResponse, WebhookView } from '../protocol/webhooks.ts';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request, requestJson, type HttpOptions } from './http.ts';
import { readSse, streamEndedError } from './sse.ts';

export { ApiError, NetworkError, type HttpOptions } from './http.ts';
export { isRetryable, withRetry, createBackoff, delay, type Backoff } from './retry.ts';
export { readSse, streamEndedError, type SseMessage } from './sse.ts';
export { trustCaFile } from './trust.ts';

export type RunStreamMessage =
  | { kind: 'event'; event: RunEvent }
  | { kind: 'log'; task: string; attempt: number; seq: number; offset: number; data: string }
  | ({ kind: 'steps' } & StepsEvent);

const enc = encodeURIComponent;

import type { PushRunnerHost } from '../protocol/push-runners.ts';
export type { PushRunnerHost };

export interface ArtifactView {
  id: string;
  task: string;
  name: string;
  attempt: number;
  sizeBytes: number;
  sha256: string;
  createdAt: string;
}

async function saveBody(res: Response, dest: string): Promise<void> {
  if (!res.body) throw new Error('the server sent no body');
  await pipeline(
    Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>),
    createWriteStream(dest),
  );
}

export function createClient(http: HttpOptions) {
  const sendLogBody = (lease: string, body: Buffer, timeoutMs?: number) =>
    requestJson<LogsResponse>(http, `api/v1/runner/leases/${lease}/log`, {
      method: 'PUT',
      bytes: body,
      timeoutMs,
    });
  return {
    http,

    // ---- user API ----
    submitRun(
      workflow: string,
      o: {
        inputs?: Record<string, string>;
        fileName?: string;
        jobs?: string[];
        actions?: SubmitRunBody['actions'];
        github?: GitHubFacts;
        vars?: Record<string, string>;
      } = {},
    ) {
      return requestJson<RunResult>(http, 'api/v1/runs', { body: { workflow, ...o } });
    },
    getRun(id: string) {
      return requestJson<RunResult>(http, `api/v1/runs/${enc(id)}`);
    },
    /** One task of a run, with the steps of its latest attempt once it ended. */
    getTask(runId: string, task: string) {
      return requestJson<TaskResult>(http, `api/v1/runs/${enc(runId)}/tasks/${enc(task)}`);
    },
    /** The run in the Harness design's task-group shape (`?shape=task-group`). */
    getTaskGroupResult(id: string) {
      return requestJson<TaskGroupResult>(http, `api/v1/runs/${enc(id)}?shape=task-group`);
    },
    /** Why a task is not running: per runner, each reason it cannot take it (GET …/tasks/:task/pending). */
    whyPending(runId: string, task: string) {
      return requestJson<PendingExplanation>(http, `api/v1/runs/${enc(runId)}/tasks/${enc(task)}/pending`);
    },
    listRuns(o: { status?: RunStatus; name?: string; limit?: number; before?: string } = {}) {
      const q = new URLSearchParams();
      if (o.status) q.set('status', o.status);
      if (o.name) q.set('name', o.name);
      if (o.limit) q.set('limit', String(o.limit));
      if (o.before) q.set('before', o.before);
      const qs = q.toString();
      return requestJson<ListRunsResponse>(http, `api/v1/runs${qs ? `?${qs}` : ''}`);
    },
    cancelRun(id: string) {
      return requestJson<RunResult>(http, `api/v1/runs/${enc(id)}/cancel`, { method: 'POST', body: {} });
    },
    async taskLog(runId: string, task: string, attempt?: number): Promise<string> {
      const q = attempt ? `?attempt=${attempt}` : '';
      const res = await request(http, `api/v1/runs/${enc(runId)}/tasks/${enc(task)}/logs${q}`, {
        accept: 'text/plain',
      });
      return res.text();
    },
    /** Live log of one task: yields text as it is stored, ends when the attempt is final. */
    async *followTaskLog(
      runId: string,
      task: string,
      o: { offset?: number; signal?: AbortSignal } = {},
    ): AsyncGenerator<string> {
      const q = o.offset ? `&offset=${o.offset}` : '';
      const res = await request(http, `api/v1/runs/${enc(runId)}/tasks/${enc(task)}/logs?follow=1${q}`, {
        accept: 'text/event-stream',
        timeoutMs: 2 ** 31 - 1,
        signal: o.signal,
      });
      for await (const m of readSse(res)) {
        if (m.event === 'log') yield JSON.parse(m.data) as string;
        if (m.event === 'end') return;
        // The token was revoked or expired: the server closed the stream for good.
        if (m.event === 'error') throw streamEndedError(m);
      }
    },
    /** Every status transition and log chunk of a run, from the start, until the run is final. */
    async *runStream(runId: string, o: { signal?: AbortSignal } = {}): AsyncGenerator<RunStreamMessage> {
      const res = await request(http, `api/v1/runs/${enc(runId)}/events`, {
        accept: 'text/event-stream',
        timeoutMs: 2 ** 31 - 1,
        signal: o.signal,
      });
      for await (const m of readSse(res)) {
        if (m.event === 'log')
          yield {
            kind: 'log',
            ...(JSON.parse(m.data) as Omit<Extract<RunStreamMessage, { kind: 'log' }>, 'kind'>),
          };
        else if (m.event === 'step') yield { kind: 'steps', ...(JSON.parse(m.data) as StepsEvent) };
        else if (m.event === 'run' || m.event === 'task')
          yield { kind: 'event', event: JSON.parse(m.data) as RunEvent };
        else if (m.event === 'error') throw streamEndedError(m);
      }
    },
    setSecret(name: string, value: string) {
      return requestJson<{ name: string; result: 'created' | 'updated' }>(
        http,
        `api/v1/secrets/${enc(name)}`,
        { method: 'PUT', body: { value } },
      );
    },
    listSecrets() {
      return requestJson<{ secrets: Array<{ name: string; createdAt: string; updatedAt: string }> }>(
        http,
        'api/v1/secrets',
      );
    },
    removeSecret(name: string) {
      return requestJson<void>(http, `api/v1/secrets/${enc(name)}`, { method: 'DELETE' });
    },
    /** Live cache entries (admin), optionally of one workflow. */
    listCache(o: { workflow?: string } = {}) {
      const q = new URLSearchParams();
      if (o.workflow !== undefined) q.set('workflow', o.workflow);
      const qs = q.toString();
      return requestJson<CacheListResponse>(http, `api/v1/cache${qs ? `?${qs}` : ''}`);
    },
    /** Removes cache entries (admin): all, or those of a workflow and/or with a key. */
    clearCache(o: { workflow?: string; key?: string } = {}) {
      const q = new URLSearchParams();
      if (o.workflow !== undefined) q.set('workflow', o.workflow);
      if (o.key !== undefined) q.set('key', o.key);
      const qs = q.toString();
      return requestJson<CacheClearResponse>(http, `api/v1/cache${qs ? `?${qs}` : ''}`, { method: 'DELETE' });
    },
    listWebhooks() {
      return requestJson<{ webhooks: WebhookView[] }>(http, 'api/v1/webhooks');
    },
    /** The signing secret is in the answer only now (the one given, or one the server made). */
    createWebhook(body: { url: string; events: string[]; secret?: string }) {
      return requestJson<CreateWebhookResponse>(http, 'api/v1/webhooks', { body });
    },
    removeWebhook(id: string) {
      return requestJson<void>(http, `api/v1/webhooks/${enc(id)}`, { method: 'DELETE' });
    },
    webhookDeliveries(id: string, o: { limit?: number } = {}) {
      const q = o.limit === undefined ? '' : `?limit=${o.limit}`;
      return requestJson<WebhookDeliveriesResponse>(http, `api/v1/webhooks/${enc(id)}/deliveries${q}`);
    },
    /** Sets (or with `url: null` removes) a runner's own webhook; a new one's secret is in the answer, once. */
    setRunnerWebhook(runnerId: string, body: { url: string | null; secret?: string }) {
      return requestJson<{ webhook: WebhookView | null; secret?: string }>(
        http,
        `api/v1/runners/${enc(runnerId)}/webhook`,
        { method: 'PUT', body },
      );
    },
    runnerWebhookDeliveries(runnerId: string, o: { limit?: number } = {}) {
      const q = o.limit === undefined ? '' : `?limit=${o.limit}`;
      return requestJson<WebhookDeliveriesResponse>(
        http,
        `api/v1/runners/${enc(runnerId)}/webhook/deliveries${q}`,
      );
    },
    listRunners() {
      return requestJson<{ runners: RunnerView[] }>(http, 'api/v1/runners');
    },
    /** A runner with the tasks it holds now and the last `recent` it finished (server default 20). */
    getRunner(id: string, o: { recent?: number } = {}) {
      const q = o.recent === undefined ? '' : `?recent=${o.recent}`;
      return requestJson<RunnerDetail>(http, `api/v1/runners/${enc(id)}${q}`);
    },
    removeRunner(id: string) {
      return requestJson<void>(http, `api/v1/runners/${enc(id)}`, { method: 'DELETE' });
    },
    listPushRunners() {
      return requestJson<{ runnerHosts: PushRunnerHost[]; heartbeatWindowMs: number }>(
        http,
        'api/settings/runner-hosts',
      );
    },
    /** The secret is in the answer only now: the server keeps a hash. */
    createPushRunner(body: { id?: string; name: string; secret?: string; labels?: string[] }) {
      return requestJson<{ runnerHost: PushRunnerHost; secret: string }>(http, 'api/settings/runner-hosts', {
        method: 'POST',
        body,
      });
    },
    rotatePushRunnerSecret(id: string, secret?: string) {
      return requestJson<{ runnerHost: PushRunnerHost; secret: string }>(
        http,
        `api/settings/runner-hosts/${enc(id)}/rotate-secret`,
        { method: 'POST', body: secret === undefined ? {} : { secret } },
      );
    },
    setPushRunnerDisabled(id: string, disabled: boolean, reason?: string) {
      return requestJson<{ runnerHost: PushRunnerHost }>(
        http,
        `api/settings/runner-hosts/${enc(id)}/${disabled ? 'disable' : 'enable'}`,
        { method: 'POST', body: disabled && reason !== undefined ? { reason } : {} },
      );
    },
    removePushRunner(id: string) {
      return requestJson<void>(http, `api/settings/runner-hosts/${enc(id)}`, { method: 'DELETE' });
    },
    setRunnerDisabled(id: string, disabled: boolean) {
      return requestJson<unknown>(http, `api/v1/runners/${enc(id)}/${disabled ? 'disable' : 'enable'}`, {
        method: 'POST',
        body: {},
      });
    },
    createToken(body: CreateTokenBody) {
      return requestJson<CreateTokenResponse>(http, 'api/v1/tokens', { body });
    },
    listTokens() {
      return requestJson<{ tokens: Array<Record<string, unknown>> }>(http, 'api/v1/tokens');
    },
    revokeToken(id: string) {
      return requestJson<void>(http, `api/v1/tokens/${enc(id)}`, { method: 'DELETE' });
    },

    // ---- runner API ----
    register(registrationToken: string, body: RegisterRunnerBody) {
      return requestJson<RegisterRunnerResponse>(http, 'api/v1/runners/register', {
        body,
        token: registrationToken,
      });
    },
    /** Tells the server about this runner: isolation, free disk, and why it takes no tasks (if so). */
    reportStatus(status: RunnerStatusBody) {
      // An older server answers 204 (undefined): the runner then does not ping while it waits.
      return requestJson<RunnerStatusResponse | undefined>(http, 'api/v1/runner/status', {
        body: status,
        timeoutMs: 10_000,
      });
    },
    unregister() {
      return requestJson<void>(http, 'api/v1/runner', { method: 'DELETE' });
    },
    /** Who this client's runner token belongs to. */
    runnerSelf() {
      return requestJson<RunnerSelfResponse>(http, 'api/v1/runner', { method: 'GET' });
    },
    /** Long-poll: resolves with an offer, or undefined when the hold ended with nothing to do. */
    acquire(capacity: number, waitMs: number, signal?: AbortSignal) {
      return requestJson<AcquireResponse | undefined>(http, 'api/v1/runner/acquire', {
        body: { capacity, waitMs },
        timeoutMs: waitMs + 10_000,
        signal,
      });
    },
    start(lease: string, timeoutMs?: number) {
      return requestJson<LeaseResponse>(http, `api/v1/runner/leases/${lease}/start`, {
        method: 'POST',
        body: {},
        timeoutMs,
      });
    },
    heartbeat(lease: string, timeoutMs?: number) {
      return requestJson<LeaseResponse>(http, `api/v1/runner/leases/${lease}/heartbeat`, {
        method: 'POST',
        body: {},
        timeoutMs,
      });
    },
    /** A running attempt's steps so far (live step view); fenced like heartbeat, does not renew the lease. */
    reportSteps(lease: string, steps: StepRecord[], timeoutMs?: number) {
      return requestJson<LeaseResponse>(http, `api/v1/runner/leases/${lease}/steps`, {
        method: 'POST',
        body: { steps },
        timeoutMs,
      });
    },
    /** The cache entry for `key` in the lease's workflow (protocol/cache.ts); fenced like heartbeat. */
    cacheLookup(lease: string, key: string, timeoutMs?: number) {
      return requestJson<CacheLookupResponse>(http, `api/v1/runner/leases/${lease}/cache`, {
        body: { key },
        timeoutMs,
      });
    },
    sendLogs(lease: string, chunks: LogChunk[], timeoutMs?: number) {
      return requestJson<LogsResponse>(http, `api/v1/runner/leases/${lease}/logs`, {
        body: { chunks },
        timeoutMs,
      });
    },
    /**
     * Log chunks as raw bytes (protocol/log-frames.ts): the runner's call. Same answer, fencing and
     * idempotency as `sendLogs`, which stays for tools and older servers.
     */
    sendLogBytes(lease: string, frames: readonly LogFrame[], timeoutMs?: number) {
      return sendLogBody(lease, encodeLogFrames(frames), timeoutMs);
    },
    /** sendLogBytes with the batch already encoded (protocol/log-frames.ts): the runner reads its journal into it. */
    sendLogBody,
    /** Streams a zip file to the server as this attempt's artifact `name`. */
    async uploadArtifact(lease: string, name: string, path: string, timeoutMs = 10 * 60_000) {
      const { size } = await stat(path);
      return requestJson<{ id: string; sizeBytes: number; sha256: string }>(
        http,
        `api/v1/runner/leases/${lease}/artifacts/${enc(name)}`,
        {
          method: 'PUT',
          rawBody: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
          headers: { 'content-type': 'application/zip', 'content-length': String(size) },
          timeoutMs,
        },
      );
    },
    /** Downloads a dependency's artifact (runner side) into `dest`. */
    async downloadRunnerArtifact(lease: string, id: string, dest: string, timeoutMs = 10 * 60_000) {
      const res = await request(http, `api/v1/runner/leases/${lease}/artifacts/${enc(id)}`, {
        accept: 'application/zip',
        timeoutMs,
      });
      await saveBody(res, dest);
    },
    listArtifacts(runId: string) {
      return requestJson<{ artifacts: ArtifactView[] }>(http, `api/v1/runs/${enc(runId)}/artifacts`);
    },
    /** Downloads one of a run's artifacts (a zip) into `dest`. */
    async downloadArtifact(runId: string, id: string, dest: string) {
      const res = await request(http, `api/v1/runs/${enc(runId)}/artifacts/${enc(id)}`, {
        accept: 'application/zip',
        timeoutMs: 60 * 60_000,
      });
      await saveBody(res, dest);
    },
    complete(lease: string, body: CompleteBody, timeoutMs?: number) {
      return requestJson<CompleteResponse>(http, `api/v1/runner/leases/${lease}/complete`, {
        body,
        timeoutMs,
      });
    },
  };
}

export type BatonClient = ReturnType<typeof createClient>;

/** The answer of GET /api/v1/runs/:id/tasks/:task/pending (server/routes/ui.ts explainPending). */
export type { PendingExplanation } from '../protocol/api.ts';
