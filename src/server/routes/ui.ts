// The web UI's side of the server: the built UI (web/dist) as static files with strict security headers, the
// browser session (a user token in an HttpOnly cookie), and the few read endpoints only the UI needs.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BatonError } from '../../protocol/errors.ts';
import type { TaskSpec } from '../../protocol/plan.ts';
import { PendingExplanation } from '../../protocol/api.ts';
import type { RunStatus } from '../../protocol/status.ts';
import { authenticateUser, SESSION_COOKIE, usableToken } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { hashToken } from '../tokens.ts';

/** web/dist beside src/ or dist/: both are two folders below the package root. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../web/dist', import.meta.url));

/** 7 days: a browser session outlives a restart of the browser; revoking the token ends it at once. */
const SESSION_MAX_AGE_S = 7 * 24 * 3600;

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Client-side routes: each answers with index.html and the UI's router takes over. */
const APP_PATHS = ['/', '/runs', '/runs/*', '/runners', '/runners/*', '/secrets', '/webhooks', '/signin'];

export interface UiRoutesOptions {
  /** Folder of the built UI (default: web/dist of this package). */
  webRoot?: string;
}

function sendFile(reply: FastifyReply, file: string, immutable: boolean): FastifyReply {
  const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
  return reply
    .headers(SECURITY_HEADERS)
    .header('content-type', type)
    .header('content-length', statSync(file).size)
    .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .send(createReadStream(file));
}

function cookie(req: FastifyRequest, value: string, maxAgeS: number): string {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

export function uiRoutes(app: FastifyInstance, ctx: ServerContext, o: UiRoutesOptions = {}): void {
  const root = resolve(o.webRoot ?? DEFAULT_WEB_ROOT);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  const index = async (_req: FastifyRequest, reply: FastifyReply) => {
    const file = join(root, 'index.html');
    if (!existsSync(file)) {
      return reply
        .code(503)
        .headers(SECURITY_HEADERS)
        .type('text/plain; charset=utf-8')
        .send('The web UI is not built. Run `npm run build` (or `vite build web`) and restart the server.\n');
    }
    return sendFile(reply, file, false);
  };
  for (const path of APP_PATHS) r.get(path, { schema: { hide: true } }, index);

  // Hashed bundles and other files at the top of web/dist (favicon); names are allow-listed, never joined raw.
  r.get(
    '/assets/:file',
    { schema: { hide: true, params: Type.Object({ file: Type.String({ pattern: '^[A-Za-z0-9._-]+$' }) }) } },
    async (req, reply) => {
      const file = join(root, 'assets', req.params.file);
      if (!file.startsWith(root + sep) || req.params.file.startsWith('.') || !existsSync(file))
        throw new BatonError('not_found', `no asset ${req.params.file}`);
      return sendFile(reply, file, true);
    },
  );
  r.get('/favicon.svg', { schema: { hide: true } }, async (_req, reply) => {
    const file = join(root, 'favicon.svg');
    if (!existsSync(file)) throw new BatonError('not_found', 'no favicon');
    return sendFile(reply, file, false);
  });

  // ---- session ----

  r.post(
    '/api/v1/session',
    { schema: { body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }) } },
    async (req, reply) => {
      const row = usableToken(
        await ctx.store.credentials.tokenByHash(hashToken(req.body.token.trim())),
        'user',
        ctx.now(),
      );
      reply.header('set-cookie', cookie(req, req.body.token.trim(), SESSION_MAX_AGE_S));
      return { signedIn: true, name: row.name, scope: row.scope ?? 'admin' };
    },
  );

  r.get('/api/v1/session', async (req) => {
    const row = await authenticateUser(ctx.store, req, ctx.now(), 'read');
    return { signedIn: true, name: row.name, scope: row.scope ?? 'admin' };
  });

  r.delete('/api/v1/session', async (req, reply) => {
    reply.header('set-cookie', cookie(req, '', 0)).code(204);
  });

  // ---- read endpoints for the UI ----

  const RunParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
  const TaskParams = Type.Object({
    id: Type.String({ maxLength: 64 }),
    task: Type.String({ maxLength: 200 }),
  });

  /** The workflow text as submitted, so the UI can re-run it (the run result carries only the plan). */
  r.get('/api/v1/runs/:id/workflow', { schema: { params: RunParams } }, async (req) => {
    await authenticateUser(ctx.store, req, ctx.now(), 'read');
    const loaded = await ctx.store.runs.get(req.params.id);
    if (!loaded) throw new BatonError('not_found', `run ${req.params.id} not found`);
    return {
      id: loaded.run.id,
      name: loaded.run.name,
      workflow: loaded.run.workflow,
      inputs: JSON.parse(loaded.run.inputs) as Record<string, string>,
    };
  });

  r.get(
    '/api/v1/runs/:id/tasks/:task/pending',
    { schema: { params: TaskParams, response: { 200: PendingExplanation } } },
    async (req) => {
      await authenticateUser(ctx.store, req, ctx.now(), 'read');
      return explainPending(ctx, req.params.id, req.params.task);
    },
  );
}

/**
 * Why a task is not running: for a `pending` task, the dependencies it waits for; for a `queued` one, every
 * executor each configured dispatcher knows of (pull runners, push runners, …) and why it would pass it over —
 * one code, the first of PENDING_REASON_CODES that applies — and every other that applies too.
 */
export async function explainPending(
  ctx: ServerContext,
  runId: string,
  taskName: string,
): Promise<PendingExplanation> {
  const loaded = await ctx.store.runs.get(runId);
  if (!loaded) throw new BatonError('not_found', `run ${runId} not found`);
  const task = loaded.tasks.find((t) => t.name === taskName || t.id === taskName);
  if (!task) throw new BatonError('not_found', `run ${runId} has no task '${taskName}'`);
  const spec = JSON.parse(task.spec) as TaskSpec;
  const runsOn = JSON.parse(task.runs_on) as string[];
  const runsOnAny = spec.runsOnAny ?? [];
  const dependsOn = JSON.parse(task.depends_on) as string[];
  const waitingFor = loaded.tasks
    .filter((t) => dependsOn.includes(t.name) && ['pending', 'queued', 'running'].includes(t.status))
    .map((t) => ({ task: t.name, status: t.status }));
  const runners = (
    await Promise.all(ctx.dispatchers.map(async (d) => (d.explain ? d.explain(task, spec) : [])))
  ).flat();

  let summary: string;
  if (task.status === 'pending')
    summary =
      waitingFor.length > 0
        ? `waiting for ${waitingFor.map((w) => `'${w.task}' (${w.status})`).join(', ')} to finish`
        : 'waiting to be queued';
  else if (task.status !== 'queued') summary = `the task is ${task.status}, not waiting`;
  else if (runners.length === 0) summary = 'no runner is registered: add one on the Runners page';
  else if (runners.some((x) => x.eligible))
    summary = `${runners.filter((x) => x.eligible).length} runner(s) can take it; it starts when one asks for work (older queued tasks go first)`;
  else summary = 'no runner can take this task now; the reasons per runner are below';

  return {
    task: task.name,
    status: task.status as RunStatus,
    runsOn,
    runsOnAny,
    forwardTo: spec.forwardTo ?? null,
    queuedAt: task.queued_at === null ? null : new Date(task.queued_at).toISOString(),
    waitingFor,
    summary,
    runners,
  };
}
