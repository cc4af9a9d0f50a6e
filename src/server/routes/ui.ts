// The web UI's side of the server: the built UI (web/dist) as static files with strict security headers, the
// browser session (a user token in an HttpOnly cookie), and the few read endpoints only the UI needs.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { isCustomTaskType } from '../../protocol/task-types.ts';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BatonError } from '../../protocol/errors.ts';
import type { TaskSpec } from '../../protocol/plan.ts';
import { PENDING_REASON_CODES, PendingExplanation, type PendingReason } from '../../protocol/api.ts';
import type { RunStatus } from '../../protocol/status.ts';
import { authenticateUser, SESSION_COOKIE, usableToken } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { hashToken } from '../tokens.ts';
import type { RunnerGives } from '../../store/leases.ts';
import type { TaskRow } from '../../store/schema.ts';
import { runnerGives, runnerOfflineAfterMs, runnerView } from '../views.ts';

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
const APP_PATHS = ['/', '/runs', '/runs/*', '/runners', '/runners/*', '/secrets', '/signin'];

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

/** Each thing the task declares that the runner's last report does not promise (the claim's same three checks). */
function missingGifts(task: TaskRow, runner: string, gives: RunnerGives): PendingReason[] {
  const reasons: PendingReason[] = [];
  if (task.needs_sandbox === 1 && !gives.sandbox)
    reasons.push({
      code: 'isolation',
      detail: 'needs_sandbox',
      message: `the task requires isolation: sandbox and runner '${runner}' does not report sandbox isolation; start a runner with --isolation sandbox`,
    });
  if (task.needs_network_off === 1 && !gives.networkIsolation)
    reasons.push({
      code: 'isolation',
      detail: 'needs_network_isolation',
      message: `the task declares network: false and runner '${runner}' does not report that it can cut a task's network`,
    });
  if (task.needs_limits === 1 && !gives.limits)
    reasons.push({
      code: 'isolation',
      detail: 'needs_limits',
      message: `the task declares limits and runner '${runner}' does not report that it can enforce them (it needs a writable cgroup v2)`,
    });
  return reasons;
}

const plural = (n: number, word: string) => `${word}${n > 1 ? 's' : ''}`;

/**
 * Why a task is not running: for a `pending` task, the dependencies it waits for; for a `queued` one, per
 * runner, the reason the claim (store/placement.ts) passes it over — one code, the first of
 * PENDING_REASON_CODES that applies — and every other that applies too.
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

  const active = await ctx.store.leases.activeByRunner();
  const now = ctx.now();
  const offlineAfter = runnerOfflineAfterMs(ctx.config);
  const runners = (await ctx.store.credentials.listRunners()).map((row) => {
    const view = runnerView(row, active.get(row.id) ?? 0, now, offlineAfter);
    const reasons: PendingReason[] = [];
    const add = (r: PendingReason) => reasons.push(r);
    if (view.status === 'disabled')
      add({
        code: 'disabled',
        message: `runner '${view.name}' is disabled by an admin; enable it to use it`,
      });
    if (view.status === 'offline')
      add({
        code: 'offline',
        message: view.lastSeenAt
          ? `runner '${view.name}' has not been heard from since ${view.lastSeenAt} (offline after ${Math.round(offlineAfter / 1000)} s of silence): it is offered no task`
          : `runner '${view.name}' has never connected`,
      });
    if (view.status === 'draining')
      add({
        code: 'draining',
        message: `runner '${view.name}' is stopping: it finishes its running tasks and takes no new ones`,
      });
    const missing = runsOn.filter((l) => !view.labels.includes(l));
    if (missing.length > 0)
      add({
        code: 'tag_mismatch',
        detail: 'labels_missing',
        message: `runner '${view.name}' lacks ${plural(missing.length, 'label')} ${missing.join(', ')} (the task needs all of ${runsOn.join(', ')})`,
      });
    if (runsOnAny.length > 0 && !runsOnAny.some((l) => view.labels.includes(l)))
      add({
        code: 'tag_mismatch',
        detail: 'labels_missing',
        message: `runner '${view.name}' carries none of ${runsOnAny.join(', ')} (the task needs any one of them)`,
      });
    if (spec.forwardTo !== undefined && spec.forwardTo !== view.name)
      add({
        code: 'tag_mismatch',
        detail: 'forwarded',
        message: `the task is forwarded to runner '${spec.forwardTo}', not '${view.name}'`,
      });
    const gives = runnerGives(view.report);
    if (isCustomTaskType(spec.type) && !gives.drivers.includes(spec.type))
      add({
        code: 'no_driver',
        message: `the task has type '${spec.type}' and runner '${view.name}' has no driver for it; start a runner with --drivers DIR holding an executable '${spec.type}' (docs/drivers.md)`,
      });
    reasons.push(...missingGifts(task, view.name, gives));
    if (task.names_secrets === 1 && row.public_key === null)
      add({
        code: 'no_key',
        message: `the task names secrets and runner '${view.name}' was registered without a public key to seal them to; register it again with \`baton runner register\``,
      });
    if (view.report?.refusing !== undefined)
      add({ code: 'low_disk', message: `runner '${view.name}' takes no tasks: ${view.report.refusing}` });
    if (view.activeTasks >= view.capacity)
      add({
        code: 'at_capacity',
        message: `runner '${view.name}' is running ${view.activeTasks} of its ${view.capacity} ${plural(view.capacity, 'task')}`,
      });
    reasons.sort((x, y) => PENDING_REASON_CODES.indexOf(x.code) - PENDING_REASON_CODES.indexOf(y.code));
    return {
      id: view.id,
      name: view.name,
      status: view.status,
      labels: view.labels,
      eligible: reasons.length === 0,
      reason: reasons[0] ?? null,
      reasons,
    };
  });

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
