// Push runners (Automn-compatible), at Automn's own paths and in its answer shapes so that real Automn runners
// and tools work unchanged: the admin API (Baton's user tokens, admin scope) and the runner's
// registration/heartbeat, which the runner authenticates with its secret alone.
import { labelProblem, RUNNER_LABELS_MAX } from '../../protocol/labels.ts';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerContext } from '../context.ts';
import { authenticateUser, scopeFor } from '../auth.ts';
import { createFailureLimiter } from '../rate-limit.ts';
import {
  PUSH_SECRET_MAX_LENGTH,
  PUSH_SECRET_MIN_LENGTH,
  PushSecretVerifier,
  generatePushSecret,
  hashPushSecret,
  openPushSecret,
  sealPushSecret,
} from '../push/secret.ts';
import { isPublicKey } from '../../protocol/sealed.ts';
import {
  AUTOMN_HOST_VERSION,
  AUTOMN_MINIMUM_RUNNER_VERSION,
  PUSH_HEARTBEAT_WINDOW_MS,
  pushRunnerView,
  type PushRunnerInfo,
} from '../push/view.ts';

const BASE = '/api/settings/runner-hosts';
export const PUSH_RUNNER_ID_MAX = 64;
export const PUSH_RUNNER_NAME_MAX = 200;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** A registration body is a few hundred bytes; anything near this is not a runner. */
const REGISTER_BODY_LIMIT = 64 * 1024;
const INFO_STRING_MAX = 200;

type Body = Record<string, unknown>;
const asBody = (b: unknown): Body => (b && typeof b === 'object' && !Array.isArray(b) ? (b as Body) : {});

/** Automn's error shape: `{"error": "…"}`, with a machine-readable `code` where upstream gives one. */
function fail(reply: FastifyReply, status: number, error: string, code?: string) {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send(code === undefined ? { error } : { error, code });
}

export function pushRunnerAdminRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.addHook('onRequest', async (req) => {
    await authenticateUser(ctx.store, req, ctx.now(), scopeFor(req.method, 'admin'));
  });
  const store = ctx.store.pushRunners;
  const notFound = (reply: FastifyReply) => fail(reply, 404, 'Runner host not found');

  /** The secret to set: the one given (checked) or a generated one; a string is an error to answer. */
  function chooseSecret(raw: unknown): { secret: string } | { error: string } {
    if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === ''))
      return { secret: generatePushSecret() };
    if (typeof raw !== 'string') return { error: 'Secret must be a string' };
    if (raw.length < PUSH_SECRET_MIN_LENGTH)
      return { error: `Secret must be at least ${PUSH_SECRET_MIN_LENGTH} characters long` };
    if (raw.length > PUSH_SECRET_MAX_LENGTH)
      return {
        error: `Secret must be at most ${PUSH_SECRET_MAX_LENGTH} characters long (got ${raw.length})`,
      };
    return { secret: raw };
  }

  app.get(BASE, async () => {
    const now = ctx.now();
    const rows = await store.list();
    return {
      runnerHosts: rows.map((r) => pushRunnerView(r, now)),
      heartbeatWindowMs: PUSH_HEARTBEAT_WINDOW_MS,
      // A Baton extension beside upstream's list (each runnerHost keeps upstream's exact fields): each entry's labels by id.
      labels: Object.fromEntries(rows.map((r) => [r.id, JSON.parse(r.labels) as string[]])),
    };
  });

  app.post(BASE, async (req, reply) => {
    const body = asBody(req.body);
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    if (!name) return fail(reply, 400, 'Runner name is required');
    if (name.length > PUSH_RUNNER_NAME_MAX)
      return fail(
        reply,
        400,
        `Runner name must be at most ${PUSH_RUNNER_NAME_MAX} characters (got ${name.length})`,
      );
    let id: string = randomUUID();
    if (
      body.id !== undefined &&
      body.id !== null &&
      !(typeof body.id === 'string' && body.id.trim() === '')
    ) {
      if (
        typeof body.id !== 'string' ||
        !ID_PATTERN.test(body.id.trim()) ||
        body.id.trim().length > PUSH_RUNNER_ID_MAX
      )
        return fail(
          reply,
          400,
          `Runner id ${JSON.stringify(body.id)} is invalid: use at most ${PUSH_RUNNER_ID_MAX} letters, digits, '.', '_' or '-', starting with a letter or digit`,
        );
      id = body.id.trim();
    }
    const chosen = chooseSecret(body.secret);
    if ('error' in chosen) return fail(reply, 400, chosen.error);
    // A Baton extension (upstream selects runners by id only): labels a task's `runs_on` may select it by.
    const labels = body.labels === undefined || body.labels === null ? [] : body.labels;
    if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string'))
      return fail(reply, 400, 'Runner labels must be an array of strings');
    if (labels.length > RUNNER_LABELS_MAX)
      return fail(reply, 400, `Runner labels: ${labels.length} given; the limit is ${RUNNER_LABELS_MAX}`);
    for (const label of labels as string[]) {
      const problem = labelProblem(label);
      if (problem !== undefined)
        return fail(reply, 400, `Runner label ${JSON.stringify(label.slice(0, 60))} ${problem}`);
    }
    const row = await store.create({
      id,
      name,
      labels: labels as string[],
      secretHash: await hashPushSecret(chosen.secret),
      now: ctx.now(),
    });
    if (row === 'exists') return fail(reply, 409, 'Runner name or id already exists');
    // The only time the secret is shown: only its hash is kept.
    return reply.code(201).send({ runnerHost: pushRunnerView(row, ctx.now()), secret: chosen.secret });
  });

  app.post<{ Params: { id: string } }>(`${BASE}/:id/disable`, async (req, reply) => {
    const reason = asBody(req.body).reason;
    const message =
      typeof reason === 'string' && reason.trim() ? reason.trim().slice(0, 500) : 'Disabled by administrator';
    const now = ctx.now();
    const existing = await store.get(req.params.id);
    if (!existing) return notFound(reply);
    const row = await store.setDisabled(req.params.id, existing.disabled_at ?? now, message, now);
    return row ? { runnerHost: pushRunnerView(row, now) } : notFound(reply);
  });

  app.post<{ Params: { id: string } }>(`${BASE}/:id/enable`, async (req, reply) => {
    const existing = await store.get(req.params.id);
    if (!existing) return notFound(reply);
    if (existing.disabled_at === null) return fail(reply, 400, 'Runner host is not disabled');
    const now = ctx.now();
    const row = await store.setDisabled(req.params.id, null, 'Re-enabled by administrator', now);
    return row ? { runnerHost: pushRunnerView(row, now) } : notFound(reply);
  });

  app.post<{ Params: { id: string } }>(`${BASE}/:id/rotate-secret`, async (req, reply) => {
    if (!(await store.get(req.params.id))) return notFound(reply);
    const chosen = chooseSecret(asBody(req.body).secret);
    if ('error' in chosen) return fail(reply, 400, chosen.error);
    const now = ctx.now();
    const row = await store.rotateSecret(req.params.id, await hashPushSecret(chosen.secret), now);
    return row ? { runnerHost: pushRunnerView(row, now), secret: chosen.secret } : notFound(reply);
  });

  app.delete<{ Params: { id: string } }>(`${BASE}/:id`, async (req, reply) => {
    if (!(await store.remove(req.params.id))) return notFound(reply);
    return reply.code(204).send();
  });
}

const str = (v: unknown): string | null =>
  typeof v === 'string' && v.trim() ? v.trim().slice(0, INFO_STRING_MAX) : null;
const positiveInt = (v: unknown): number | null =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : null;

/** What the runner advertises, kept only where it has the expected type and bounded in size. */
function infoOf(body: Body): PushRunnerInfo {
  const runtimes: Record<string, string> = {};
  const raw = asBody(body.runtimes);
  for (const [k, v] of Object.entries(raw).slice(0, 20)) {
    const s = str(v);
    if (s !== null && k.length <= 64) runtimes[k] = s;
  }
  return {
    version: str(body.version),
    minimumHostVersion: str(body.minimumHostVersion),
    os: str(body.os),
    platform: str(body.platform),
    arch: str(body.arch),
    uptime: typeof body.uptime === 'number' && Number.isFinite(body.uptime) ? body.uptime : null,
    runtimes,
  };
}

export function pushRunnerRegisterRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const verifier = new PushSecretVerifier();
  const limiter = createFailureLimiter({
    maxFailures: 20,
    windowMs: 60_000,
    what: 'push runner registration',
  });

  app.post<{ Params: { id: string } }>(
    `${BASE}/:id/register`,
    { bodyLimit: REGISTER_BODY_LIMIT },
    async (req, reply) => {
      // Upstream's order: the request's own faults (400) before anything about the entry (404, 403, 401).
      const id = req.params.id.trim();
      if (!id) return fail(reply, 400, 'Runner host id is required');
      const body = asBody(req.body);
      const secret = typeof body.secret === 'string' ? body.secret : '';
      if (!secret.trim()) return fail(reply, 400, 'Runner secret is required');
      const endpointRaw = typeof body.endpoint === 'string' ? body.endpoint.trim() : '';
      if (!endpointRaw) return fail(reply, 400, 'Runner endpoint is required');
      let endpoint: URL;
      try {
        endpoint = new URL(endpointRaw);
      } catch {
        return fail(reply, 400, 'Runner endpoint must be a valid http(s) URL');
      }
      if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:')
        return fail(reply, 400, 'Runner endpoint must be a valid http(s) URL');
      // A Baton extension (docs/adr/0013): `baton runner serve` sends the key its tasks' secrets are sealed to.
      const publicKey = body.batonPublicKey;
      if (publicKey !== undefined && (typeof publicKey !== 'string' || !(await isPublicKey(publicKey))))
        return fail(
          reply,
          400,
          `batonPublicKey ${JSON.stringify(typeof publicKey === 'string' ? publicKey.slice(0, 60) : publicKey)} is not an X25519 public key (32 bytes, base64)`,
        );
      limiter.check(req.ip, ctx.now());
      const row = await ctx.store.pushRunners.get(id);
      if (!row) {
        limiter.fail(req.ip, ctx.now());
        return fail(reply, 404, 'Runner host not found');
      }
      if (row.disabled_at !== null) return fail(reply, 403, 'Runner host is disabled', 'runner_disabled');
      if (!(await verifier.verify(secret, row.secret_hash))) {
        limiter.fail(req.ip, ctx.now());
        return fail(reply, 401, 'Invalid runner secret', 'invalid_secret');
      }
      const now = ctx.now();
      const updated = await ctx.store.pushRunners.registered(
        id,
        {
          endpoint: endpoint.toString(),
          statusMessage: str(body.statusMessage) ?? `Heartbeat from ${req.ip}`,
          maxConcurrency: positiveInt(body.maxConcurrency),
          timeoutMs: positiveInt(body.timeoutMs),
          infoJson: JSON.stringify(infoOf(body)),
          publicKey: typeof publicKey === 'string' ? publicKey : null,
          // Sealed again only when it changed: a heartbeat with the same secret writes nothing new.
          ...(openPushSecret(ctx.masterKey, id, row.sealed_secret) === secret
            ? {}
            : { sealedSecret: sealPushSecret(ctx.masterKey, id, secret) }),
        },
        now,
      );
      if (!updated) return fail(reply, 404, 'Runner host not found');
      return {
        runnerHost: pushRunnerView(updated, now),
        registered: true,
        hostVersion: AUTOMN_HOST_VERSION,
        minimumRunnerVersion: AUTOMN_MINIMUM_RUNNER_VERSION,
      };
    },
  );
}
