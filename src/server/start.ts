// Starts a listening server: open and migrate the store, make sure the configured tokens exist, listen,
// run the reaper; close() undoes all of it in reverse order.
import { warmUpSealing } from '../protocol/sealed.ts';
import { openStore, type Store } from '../store/index.ts';
import type { ServerConfig } from './config.ts';
import { createServer, type ServerDeps } from './app.ts';
import { startReaper } from './reaper.ts';
import { WORKFLOW_POLICY } from './policy.ts';
import { generateToken, hashToken } from './tokens.ts';
import type { ServerContext } from './context.ts';
import { createServer as createHttpServer, type Server } from 'node:http';

export interface StartedServer {
  url: string;
  port: number;
  ctx: ServerContext;
  /** The unauthenticated metrics listener's URL (`--metrics-port`), when configured. */
  metricsUrl?: string;
  /** The admin token generated at this first start (never stored in plain form); undefined otherwise. */
  generatedAdminToken?: string;
  close(): Promise<void>;
}

async function ensureToken(
  store: Store,
  kind: 'user' | 'registration',
  token: string,
  name: string,
  now: number,
) {
  const hash = hashToken(token);
  if (await store.credentials.tokenByHash(hash)) return;
  try {
    await store.credentials.insertToken({
      kind,
      name,
      hash,
      created_at: now,
      expires_at: null,
      single_use: 0,
    });
  } catch (err) {
    // Replicas starting together with the same configured token race between the check and the insert: the
    // one that lost finds the token the other stored, which is what it wanted.
    if (await store.credentials.tokenByHash(hash)) return;
    throw err;
  }
}

export async function startServer(
  config: Readonly<ServerConfig>,
  options: Pick<ServerDeps, 'logger' | 'now' | 'dispatch'> = {},
): Promise<StartedServer> {
  const store = await openStore({
    database: config.database,
    timings: { leaseTtlMs: config.leaseTtlMs, ackWindowMs: config.ackWindowMs },
    policy: WORKFLOW_POLICY,
  });
  const now = options.now ?? Date.now;
  let generatedAdminToken: string | undefined;
  if (config.adminToken) await ensureToken(store, 'user', config.adminToken, 'admin', now());
  else if ((await store.credentials.countTokens('user')) === 0) {
    generatedAdminToken = generateToken('user');
    await ensureToken(store, 'user', generatedAdminToken, 'admin', now());
  }
  if (config.registrationToken)
    await ensureToken(store, 'registration', config.registrationToken, 'configured', now());

  const extended = await store.leases.extendLiveLeases(now());
  let built;
  try {
    built = await createServer({ config, store, ...options });
  } catch (err) {
    await store.close();
    throw err;
  }
  const { app, ctx } = built;
  if (extended > 0)
    ctx.log.info({ extended }, 'extended the leases of attempts that were running while the server was down');
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const reaper = startReaper(ctx);
  // The first task that names secrets would otherwise wait for libsodium to start while being assigned.
  void warmUpSealing().catch((err: unknown) => ctx.log.warn({ err }, 'could not load libsodium'));
  // Tasks queued through other replicas sharing the database wake this one's long-polling runners; tokens
  // revoked through them close this one's streams.
  const stopListening = store.dialect.listen
    ? await store.dialect.listen(
        () => ctx.hub.tasksQueued(1),
        (tokenId) => ctx.streams.revoked(tokenId),
      )
    : undefined;
  const url = `${config.tlsCertFile ? 'https' : 'http'}://${host}:${port}`;
  let metricsServer: Server | undefined;
  let metricsUrl: string | undefined;
  const closeMetrics = () =>
    new Promise<void>((resolve) => {
      if (!metricsServer) return resolve();
      metricsServer.closeAllConnections();
      metricsServer.close(() => resolve());
    });
  if (config.metricsPort !== undefined) {
    try {
      const started = await listenMetrics(ctx, config.metricsHost ?? '127.0.0.1', config.metricsPort);
      metricsServer = started.server;
      metricsUrl = started.url;
      ctx.log.info({ url: metricsUrl }, 'metrics served without authentication (for a private network only)');
    } catch (err) {
      await reaper.stop();
      await stopListening?.();
      await app.close();
      await store.close();
      throw err;
    }
  }
  // The configured ways to execute, in order; stopped in reverse before anything they use goes away.
  const started: typeof ctx.dispatchers = [];
  const stopDispatchers = async () => {
    for (const d of started.reverse()) await d.stop?.();
    started.length = 0;
  };
  try {
    for (const d of ctx.dispatchers) {
      started.push(d);
      await d.start?.({ url });
    }
  } catch (err) {
    await stopDispatchers().catch(() => undefined);
    await closeMetrics();
    await reaper.stop();
    await stopListening?.();
    await app.close();
    await store.close();
    throw err;
  }
  return {
    url,
    port,
    ctx,
    generatedAdminToken,
    ...(metricsUrl === undefined ? {} : { metricsUrl }),
    async close() {
      await closeMetrics();
      await reaper.stop();
      await stopDispatchers();
      await stopListening?.();
      await app.close();
      await store.close();
    },
  };
}

/**
 * A second, plain-HTTP listener that answers `GET /metrics` and nothing else, without a token: for a scraper
 * inside a private network (bind it to a private address, never a public one).
 */
async function listenMetrics(
  ctx: ServerContext,
  host: string,
  port: number,
): Promise<{ server: Server; url: string }> {
  const registry = ctx.metrics?.registry;
  if (!registry) throw new Error('the server has no metrics registry');
  const server = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => {
        ctx.log.error({ err }, 'metrics: could not collect');
        res.writeHead(503, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics` };
}
