// createServer(deps): the HTTP app with every route, testable with inject() and no socket.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Store } from '../store/index.ts';
import type { ServerConfig } from './config.ts';
import type { ServerContext } from './context.ts';
import { Hub } from './hub.ts';
import { createFsBlobStore, type BlobStore } from './blobs.ts';
import { createFsLogFiles } from './log-files.ts';
import type { LogFiles } from '../store/logs.ts';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { composeDispatchers, type DispatchOptions } from './dispatchers/index.ts';
import { installErrorHandler } from './errors.ts';
import { runRoutes } from './routes/runs.ts';
import { logRoutes } from './routes/logs.ts';
import { adminRoutes } from './routes/admin.ts';
import { healthRoutes } from './routes/health.ts';
import { artifactRoutes } from './routes/artifacts.ts';
import { uiRoutes } from './routes/ui.ts';
import { secretRoutes } from './routes/secrets.ts';
import { cacheRoutes } from './routes/cache.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { WebhookSender, type WebhookSenderOptions } from './webhooks/sender.ts';
import { enqueueFor } from './webhooks/events.ts';
import { loadMasterKey } from './master-key.ts';
import { StreamGuard } from './stream-guard.ts';
import { StorageHealth } from './storage-health.ts';
import { ServerMetrics } from './metrics.ts';
import { authenticateUser } from './auth.ts';
import { documentOperations, OPENAPI_BASE } from './openapi.ts';
import type { OpenAPIV3 } from 'openapi-types';

export interface ServerDeps {
  config: Readonly<ServerConfig>;
  store: Store;
  /** Where artifact bytes go (default: `<dataDir>/blobs` on the filesystem). */
  blobs?: BlobStore;
  /** Where task logs' bytes go (default `<blobDir>/logs` on the filesystem). */
  logFiles?: LogFiles;
  now?: () => number;
  /** pino options or false; defaults to JSON logs at config.logLevel on stderr. */
  logger?: boolean | { level: string; stream?: { write(line: string): void } };
  /** What this program hands its dispatchers (`baton run`: the embedded runner of `local`). */
  dispatch?: DispatchOptions;
  /** Webhook delivery settings (tests shorten the backoff); defaults in protocol/webhooks.ts. */
  webhooks?: WebhookSenderOptions;
}

export async function createServer(
  deps: ServerDeps,
): Promise<{ app: FastifyInstance; ctx: ServerContext; routes: Array<{ method: string; url: string }> }> {
  const app = Fastify({
    logger:
      deps.logger === false
        ? false
        : {
            ...(typeof deps.logger === 'object' ? deps.logger : { level: deps.config.logLevel }),
            // Nothing below logs headers, but an error serializer or a later change might: tokens never reach a line.
            redact: {
              paths: [
                'req.headers.authorization',
                'req.headers.cookie',
                'headers.authorization',
                'headers.cookie',
              ],
              censor: '[redacted]',
            },
          },
    bodyLimit: deps.config.bodyLimitBytes,
    ...(deps.config.tlsCertFile && deps.config.tlsKeyFile
      ? { https: { cert: readFileSync(deps.config.tlsCertFile), key: readFileSync(deps.config.tlsKeyFile) } }
      : {}),
    // Long polls hold requests for up to maxLongPollMs; keep idle sockets a little longer.
    keepAliveTimeout: deps.config.maxLongPollMs + 5_000,
    requestTimeout: 0,
    // On close, cut held connections (SSE followers) instead of waiting for them; long polls are answered first.
    forceCloseConnections: true,
    // Fastify's own two lines per request are replaced by one (the onResponse hook below): id, route, status,
    // duration, and never a header.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const hub = new Hub();
  const shutdown = new AbortController();
  app.addHook('preClose', async () => shutdown.abort());
  const now = deps.now ?? Date.now;
  const streams = new StreamGuard(deps.store, now, (err) =>
    app.log.warn({ err }, 'could not check the tokens of open streams'),
  );
  app.addHook('onClose', async () => streams.stop());
  const storage = new StorageHealth({
    extendLiveLeases: () => deps.store.leases.extendLiveLeases(now()),
    onTrouble: (err) =>
      app.log.error(
        { err },
        'storage full: writes are refused with 507 storage_full; no lease expires until they succeed again',
      ),
    onRecovered: (extended, troubledForMs) =>
      app.log.warn(
        { extended, troubledForMs: Math.round(troubledForMs) },
        'storage writable again: extended the leases of every live attempt',
      ),
  });
  const masterKey = loadMasterKey({
    value: deps.config.masterKey,
    path: join(deps.config.dataDir, 'master.key'),
  });
  const webhooks = new WebhookSender({ store: deps.store, masterKey, log: app.log, ...deps.webhooks });
  const blobDir = deps.config.blobDir ?? join(deps.config.dataDir, 'blobs');
  const ctx: ServerContext = {
    config: deps.config,
    store: deps.store,
    hub,
    dispatchers: [],
    now,
    streams,
    shutdown: shutdown.signal,
    blobs: deps.blobs ?? createFsBlobStore(blobDir),
    logFiles:
      deps.logFiles ??
      createFsLogFiles(join(blobDir, 'logs'), { sync: deps.store.dialect.capabilities.multiProcess }),
    masterKey,
    log: app.log,
    storage,
    webhooks,
  };
  const metrics = new ServerMetrics(ctx);
  ctx.metrics = metrics;
  app.addHook('onClose', async () => metrics.stop());
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url;
    const seconds = reply.elapsedTime / 1000;
    metrics.observeRequest(req.method, route, reply.statusCode, seconds);
    // A 5xx shows even at --log-level warn; everything else is routine.
    req.log[reply.statusCode >= 500 ? 'error' : 'info'](
      {
        method: req.method,
        route: route ?? 'unmatched',
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });
  // Transitions become webhook deliveries (rows first, so a restart loses none), sent in the background.
  hub.onAnyRunEvent((e) => {
    enqueueFor(deps.store, e, Date.now()).then(
      (n) => n > 0 && webhooks.kick(),
      (err: unknown) => app.log.error({ err, runId: e.runId }, 'could not record webhook deliveries'),
    );
  });
  app.addHook('onReady', async () => webhooks.start());
  app.addHook('preClose', async () => webhooks.stop());
  ctx.dispatchers.push(...composeDispatchers(ctx, deps.config.dispatchers, deps.dispatch));
  // The router table, for the route-by-route security tests and anything else that must cover every route.
  const routes: Array<{ method: string; url: string }> = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url });
  });
  installErrorHandler(app, (err) => storage.refused(err));
  // After the disk was full, the first write is the lease extension: no renewal, log chunk or result is judged
  // against a lease that ran out while this server could not record its renewals.
  app.addHook('preHandler', async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') await storage.ensureWritable();
  });
  await app.register(swagger, {
    openapi: OPENAPI_BASE,
    transformObject: (doc) =>
      documentOperations(('openapiObject' in doc ? doc.openapiObject : {}) as OpenAPIV3.Document),
  });
  healthRoutes(app, ctx);
  // Any valid user token may scrape; the unauthenticated listener is a separate port (start.ts, --metrics-port).
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    await authenticateUser(ctx.store, req, ctx.now(), 'read');
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/openapi.json', async () => app.swagger());
  await app.register(async (s) => runRoutes(s, ctx));
  await app.register(async (s) => logRoutes(s, ctx));
  await app.register(async (s) => adminRoutes(s, ctx));
  await app.register(async (s) => artifactRoutes(s, ctx));
  await app.register(async (s) => secretRoutes(s, ctx));
  await app.register(async (s) => cacheRoutes(s, ctx));
  await app.register(async (s) => webhookRoutes(s, ctx));
  // Each way to execute brings its own HTTP face: the runner protocol (pull), push runner hosts (push).
  for (const d of ctx.dispatchers) await d.routes?.(app);
  await app.register(async (s) => uiRoutes(s, ctx));
  return { app, ctx, routes };
}
