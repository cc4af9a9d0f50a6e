// What every route and background loop of one server shares, built once by createServer.
import type { FastifyBaseLogger } from 'fastify';
import type { ServerConfig } from './config.ts';
import type { Store } from '../store/index.ts';
import type { AdvanceResult } from '../store/advance.ts';
import type { Hub } from './hub.ts';
import type { Dispatcher } from './dispatchers/types.ts';
import type { BlobStore } from './blobs.ts';
import type { LogFiles } from '../store/logs.ts';
import type { MasterKey } from './master-key.ts';
import type { StreamGuard } from './stream-guard.ts';
import type { StorageHealth } from './storage-health.ts';
import type { ServerMetrics } from './metrics.ts';
import type { WebhookSender } from './webhooks/sender.ts';

export interface ServerContext {
  config: Readonly<ServerConfig>;
  store: Store;
  hub: Hub;
  /** The configured ways tasks reach executors (dispatchers/index.ts composes them), in start order. */
  dispatchers: Dispatcher[];
  /** Wall clock in ms (injectable for tests). */
  now: () => number;
  log: FastifyBaseLogger;
  /** Aborted when the server starts closing: long polls answer at once. */
  shutdown: AbortSignal;
  blobs: BlobStore;
  /** Task logs' bytes, one file per attempt beside the blobs (docs/adr/0021-log-bytes.md). */
  logFiles: LogFiles;
  masterKey: MasterKey;
  /** Open SSE streams by the user token that opened them: revocation and expiry close them. */
  streams: StreamGuard;
  /** Whether writes are refused for lack of space; while they are, no lease expires (docs/adr/0010). */
  storage: StorageHealth;
  /** Prometheus metrics (set by createServer right after the context is built). */
  metrics?: ServerMetrics;
  /** Sends webhook deliveries (server webhooks and runners' own); kick it after enqueueing. */
  webhooks: WebhookSender;
}

/** Tells waiters and subscribers what a store transition changed. */
export function publishAdvance(ctx: ServerContext, runId: string, advance: AdvanceResult | null): void {
  if (!advance) return;
  for (const task of advance.queued) ctx.hub.runEvent({ type: 'task', runId, task, status: 'queued' });
  for (const task of advance.skipped) ctx.hub.runEvent({ type: 'task', runId, task, status: 'skipped' });
  ctx.hub.tasksQueued(advance.queued.length);
  for (const task of advance.cancelled) ctx.hub.runEvent({ type: 'task', runId, task, status: 'cancelled' });
  if (advance.runStatus) ctx.hub.runEvent({ type: 'run', runId, status: advance.runStatus });
}

/** Wakes long-polling runners when a task queued for later (a retry after its backoff) becomes due. */
export function wakeAt(ctx: ServerContext, at: number): void {
  const timer = setTimeout(() => ctx.hub.tasksQueued(1), Math.max(0, at - ctx.now()) + 5);
  timer.unref();
}
