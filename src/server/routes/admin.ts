// User API for the fleet and credentials: list, disable, enable and remove runners; create, list, revoke tokens.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BatonError } from '../../protocol/errors.ts';
import {
  CreateTokenBody,
  CreateTokenResponse,
  RUNNER_RECENT_TASKS_DEFAULT,
  RunnerDetail,
  RunnerDetailQuery,
  RunnerView,
} from '../../protocol/api.ts';
import { authenticateUser, scopeFor } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { generateToken, hashToken } from '../tokens.ts';
import { iso, runnerOfflineAfterMs, runnerTask, runnerView } from '../views.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export function adminRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.addHook('onRequest', async (req) => {
    // Tokens are credentials: even listing them needs admin.
    const needs = req.url.startsWith('/api/v1/tokens') ? 'admin' : scopeFor(req.method, 'admin');
    await authenticateUser(ctx.store, req, ctx.now(), needs);
  });

  r.get(
    '/api/v1/runners',
    { schema: { response: { 200: Type.Object({ runners: Type.Array(RunnerView) }) } } },
    async () => {
      const active = await ctx.store.leases.activeByRunner();
      const now = ctx.now();
      const offlineAfter = runnerOfflineAfterMs(ctx.config);
      const runners = await ctx.store.credentials.listRunners();
      return { runners: runners.map((x) => runnerView(x, active.get(x.id) ?? 0, now, offlineAfter)) };
    },
  );

  r.get(
    '/api/v1/runners/:id',
    { schema: { params: IdParams, querystring: RunnerDetailQuery, response: { 200: RunnerDetail } } },
    async (req) => {
      const row = await ctx.store.credentials.runner(req.params.id);
      if (!row) throw new BatonError('not_found', `runner ${req.params.id} not found`);
      const [current, recent] = await Promise.all([
        ctx.store.runnerTasks.current(row.id),
        ctx.store.runnerTasks.recent(row.id, req.query.recent ?? RUNNER_RECENT_TASKS_DEFAULT),
      ]);
      const offlineAfter = runnerOfflineAfterMs(ctx.config);
      return {
        // The attempts it holds are exactly what the list counts as its active tasks.
        runner: runnerView(row, current.length, ctx.now(), offlineAfter),
        current: current.map(runnerTask),
        recent: recent.map(runnerTask),
      };
    },
  );

  const setDisabled = (disabled: boolean) => async (req: { params: { id: string } }) => {
    if (!(await ctx.store.credentials.setRunnerDisabled(req.params.id, disabled))) {
      throw new BatonError('not_found', `runner ${req.params.id} not found`);
    }
    return { id: req.params.id, disabled };
  };
  r.post('/api/v1/runners/:id/disable', { schema: { params: IdParams } }, setDisabled(true));
  r.post('/api/v1/runners/:id/enable', { schema: { params: IdParams } }, setDisabled(false));

  r.delete('/api/v1/runners/:id', { schema: { params: IdParams } }, async (req, reply) => {
    if (!(await ctx.store.credentials.deleteRunner(req.params.id))) {
      throw new BatonError('not_found', `runner ${req.params.id} not found`);
    }
    reply.code(204);
  });

  r.post(
    '/api/v1/tokens',
    { schema: { body: CreateTokenBody, response: { 201: CreateTokenResponse } } },
    async (req, reply) => {
      const now = ctx.now();
      const token = generateToken(req.body.kind);
      const expiresAt =
        req.body.expiresInSeconds === undefined ? null : now + req.body.expiresInSeconds * 1000;
      const row = await ctx.store.credentials.insertToken({
        kind: req.body.kind,
        name: req.body.name ?? null,
        hash: hashToken(token),
        created_at: now,
        expires_at: expiresAt,
        single_use: req.body.singleUse ? 1 : 0,
        scope: req.body.kind === 'user' ? (req.body.scope ?? 'admin') : 'admin',
      });
      reply.code(201);
      return { id: row.id, kind: row.kind, token, expiresAt: iso(expiresAt) };
    },
  );

  r.get('/api/v1/tokens', async () => {
    const rows = await ctx.store.credentials.listTokens();
    return {
      tokens: rows.map((t) => ({
        id: t.id,
        kind: t.kind,
        name: t.name,
        createdAt: iso(t.created_at),
        expiresAt: iso(t.expires_at),
        singleUse: t.single_use === 1,
        ...(t.kind === 'user' ? { scope: t.scope } : {}),
        usedAt: iso(t.used_at),
        revokedAt: iso(t.revoked_at),
      })),
    };
  });

  r.delete('/api/v1/tokens/:id', { schema: { params: IdParams } }, async (req, reply) => {
    if (!(await ctx.store.credentials.revokeToken(req.params.id, ctx.now()))) {
      throw new BatonError('not_found', `token ${req.params.id} not found or already revoked`);
    }
    // Streams this server holds for the token end now; other replicas hear of it from the database.
    ctx.streams.revoked(req.params.id);
    reply.code(204);
  });
}
