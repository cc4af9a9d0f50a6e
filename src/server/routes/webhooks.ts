// Admin API for webhooks: server webhooks (run and task events) and a runner's own webhook (the start and finish
// of its tasks), with their delivery logs. Only admins reach these routes: a webhook makes the server send
// requests to a URL of the caller's choosing (see README, "Webhooks", on SSRF), so only http(s) URLs are taken.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomBytes } from 'node:crypto';
import { BatonError } from '../../protocol/errors.ts';
import {
  CreateWebhookBody,
  CreateWebhookResponse,
  SetRunnerWebhookBody,
  SetRunnerWebhookResponse,
  WEBHOOK_DELIVERIES_DEFAULT,
  WEBHOOK_EVENTS,
  WEBHOOK_URL_MAX_CHARS,
  WEBHOOKS_MAX,
  WebhookDeliveriesQuery,
  WebhookDeliveriesResponse,
  WebhookView,
  type WebhookDelivery,
} from '../../protocol/webhooks.ts';
import type { WebhookAttemptRow, WebhookDeliveryRow, WebhookRow } from '../../store/index.ts';
import { newId } from '../../store/ids.ts';
import { authenticateUser } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { iso } from '../views.ts';
import { secretName } from '../webhooks/sender.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/** Refuses anything but an absolute http(s) URL, naming the value and the rule. */
export function checkWebhookUrl(url: string, field = 'url'): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BatonError('bad_request', `${field} ${JSON.stringify(url)} is not an absolute URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new BatonError(
      'bad_request',
      `${field} ${JSON.stringify(url)} uses ${parsed.protocol.replace(/:$/, '')}: only http and https webhooks are sent`,
    );
  if (url.length > WEBHOOK_URL_MAX_CHARS)
    throw new BatonError('bad_request', `${field} is longer than ${WEBHOOK_URL_MAX_CHARS} characters`);
  return parsed.href;
}

export function webhookView(w: WebhookRow): WebhookView {
  return {
    id: w.id,
    url: w.url,
    events: JSON.parse(w.events) as string[],
    createdAt: new Date(w.created_at).toISOString(),
    ...(w.runner_id ? { runnerId: w.runner_id } : {}),
  };
}

function deliveryView(d: WebhookDeliveryRow & { attemptRows: WebhookAttemptRow[] }): WebhookDelivery {
  return {
    id: d.id,
    event: d.event,
    status: d.status as WebhookDelivery['status'],
    createdAt: new Date(d.created_at).toISOString(),
    ...(d.finished_at !== null ? { finishedAt: iso(d.finished_at) ?? undefined } : {}),
    ...(d.status === 'pending' && d.next_attempt_at !== null
      ? { nextAttemptAt: new Date(d.next_attempt_at).toISOString() }
      : {}),
    payload: d.payload,
    attempts: d.attemptRows.map((a) => ({
      attempt: a.attempt,
      at: new Date(a.at).toISOString(),
      ...(a.status_code !== null ? { statusCode: a.status_code } : {}),
      durationMs: a.duration_ms,
      ...(a.error !== null ? { error: a.error } : {}),
    })),
  };
}

/** A new webhook row with its secret (given, or 32 random bytes) sealed under the master key. */
export function newWebhook(
  ctx: ServerContext,
  o: { url: string; events: string[]; secret?: string; runnerId?: string },
): { row: WebhookRow; secret: string } {
  const id = newId(Date.now());
  const secret = o.secret ?? randomBytes(32).toString('base64url');
  return {
    secret,
    row: {
      id,
      url: o.url,
      events: JSON.stringify(o.events),
      sealed_secret: ctx.masterKey.encrypt(secretName(id), secret),
      runner_id: o.runnerId ?? null,
      created_at: Date.now(),
    },
  };
}

export function webhookRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  // Even reading needs admin: URLs may carry credentials of the receiving service.
  r.addHook('onRequest', async (req) => {
    await authenticateUser(ctx.store, req, ctx.now(), 'admin');
  });

  r.get(
    '/api/v1/webhooks',
    { schema: { response: { 200: Type.Object({ webhooks: Type.Array(WebhookView) }) } } },
    async () => ({ webhooks: (await ctx.store.webhooks.list()).map(webhookView) }),
  );

  r.post(
    '/api/v1/webhooks',
    { schema: { body: CreateWebhookBody, response: { 201: CreateWebhookResponse } } },
    async (req, reply) => {
      const url = checkWebhookUrl(req.body.url);
      const unknown = req.body.events.filter((e) => !WEBHOOK_EVENTS.includes(e));
      if (unknown.length > 0)
        throw new BatonError(
          'bad_request',
          `unknown webhook event ${unknown.map((e) => JSON.stringify(e)).join(', ')}; known: ${WEBHOOK_EVENTS.join(', ')}`,
        );
      if ((await ctx.store.webhooks.list()).length >= WEBHOOKS_MAX)
        throw new BatonError('conflict', `a server has at most ${WEBHOOKS_MAX} webhooks; remove one first`);
      const { row, secret } = newWebhook(ctx, {
        url,
        events: [...new Set(req.body.events)],
        ...(req.body.secret !== undefined ? { secret: req.body.secret } : {}),
      });
      await ctx.store.webhooks.create(row);
      reply.code(201);
      return { webhook: webhookView(row), secret };
    },
  );

  const webhook = async (id: string) => {
    const w = await ctx.store.webhooks.get(id);
    if (!w || w.runner_id) throw new BatonError('not_found', `webhook ${id} not found`);
    return w;
  };

  r.get(
    '/api/v1/webhooks/:id',
    { schema: { params: IdParams, response: { 200: WebhookView } } },
    async (req) => webhookView(await webhook(req.params.id)),
  );

  r.delete('/api/v1/webhooks/:id', { schema: { params: IdParams } }, async (req, reply) => {
    if (!(await ctx.store.webhooks.remove(req.params.id)))
      throw new BatonError('not_found', `webhook ${req.params.id} not found`);
    reply.code(204);
  });

  r.get(
    '/api/v1/webhooks/:id/deliveries',
    {
      schema: {
        params: IdParams,
        querystring: WebhookDeliveriesQuery,
        response: { 200: WebhookDeliveriesResponse },
      },
    },
    async (req) => {
      const w = await webhook(req.params.id);
      const rows = await ctx.store.webhooks.deliveries(w.id, req.query.limit ?? WEBHOOK_DELIVERIES_DEFAULT);
      return { deliveries: rows.map(deliveryView) };
    },
  );

  r.put(
    '/api/v1/runners/:id/webhook',
    { schema: { params: IdParams, body: SetRunnerWebhookBody, response: { 200: SetRunnerWebhookResponse } } },
    async (req) => {
      const runner = await ctx.store.credentials.runner(req.params.id);
      if (!runner) throw new BatonError('not_found', `runner ${req.params.id} not found`);
      if (req.body.url === null) {
        await ctx.store.webhooks.setForRunner(runner.id, null);
        return { webhook: null };
      }
      const { row, secret } = newWebhook(ctx, {
        url: checkWebhookUrl(req.body.url),
        events: ['runner.start', 'runner.finish'],
        runnerId: runner.id,
        ...(req.body.secret !== undefined ? { secret: req.body.secret } : {}),
      });
      await ctx.store.webhooks.setForRunner(runner.id, row);
      return { webhook: webhookView(row), secret };
    },
  );

  r.get(
    '/api/v1/runners/:id/webhook/deliveries',
    {
      schema: {
        params: IdParams,
        querystring: WebhookDeliveriesQuery,
        response: { 200: WebhookDeliveriesResponse },
      },
    },
    async (req) => {
      const w = await ctx.store.webhooks.ofRunner(req.params.id);
      if (!w) throw new BatonError('not_found', `runner ${req.params.id} has no webhook`);
      const rows = await ctx.store.webhooks.deliveries(w.id, req.query.limit ?? WEBHOOK_DELIVERIES_DEFAULT);
      return { deliveries: rows.map(deliveryView) };
    },
  );
}
