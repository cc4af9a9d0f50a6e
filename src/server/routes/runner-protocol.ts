// Runner API: register with a registration token, then long-poll acquire, confirm, heartbeat, ship logs and
// complete — every call after acquire names its lease and is fenced against stale attempts.
import { isUtf8 } from 'node:buffer';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BatonError, toError } from '../../protocol/errors.ts';
import { isPublicKey } from '../../protocol/sealed.ts';
import { createFailureLimiter } from '../rate-limit.ts';
import {
  AcquireBody,
  AcquireResponse,
  CompleteBody,
  CompleteResponse,
  LeaseResponse,
  StepsBody,
  LogsBody,
  LogsResponse,
  MAX_LOG_CHUNK_BYTES,
  RegisterRunnerBody,
  RegisterRunnerResponse,
  RunnerSelfResponse,
  RunnerStatusBody,
  RunnerStatusResponse,
} from '../../protocol/api.ts';
import { CacheLookupBody, CacheLookupResponse } from '../../protocol/cache.ts';
import type { TaskSpec } from '../../protocol/plan.ts';
import { authenticateRunner, bearerToken, usableToken } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { isStorageFull } from '../storage-health.ts';
import { generateToken, hashToken } from '../tokens.ts';
import { completeLease, heartbeatLease, offerTo, startLease, type Acquire } from '../runner-calls.ts';
import { checkWebhookUrl, newWebhook } from './webhooks.ts';
import { LAST_SEEN_RESOLUTION_MS, runnerGives, runnerOfflineAfterMs, runnerReport } from '../views.ts';
import type { LogBytesChunk } from '../../store/logs.ts';
import { decodeLogFrames } from '../../protocol/log-frames.ts';
import { pooledBodyParser } from '../body-pool.ts';
import type { RunnerRow } from '../../store/schema.ts';

/** One binary log batch: the JSON call's 1,000 chunks' worth is far more than a runner sends (10 × 100 KiB). */
const MAX_LOG_BATCH_BODY_BYTES = 16 * 1024 * 1024;

/** A runner caps a task's log at 16 MiB; the server refuses anything past 17 MiB. */
export const SERVER_LOG_LIMIT_BYTES = 17 * 1024 * 1024;

const LeaseParams = Type.Object({ lease: Type.String({ pattern: '^[0-9a-f]{32}$' }) });

/** How stale a runner's stored last-seen time may get while it is making requests. */

export type { Acquire } from '../runner-calls.ts';

export function runnerRoutes(app: FastifyInstance, ctx: ServerContext, acquire: Acquire): void {
  // 10 failed registrations a minute per address: enough for typos, far too few to guess a 192-bit token.
  const registrationFailures = createFailureLimiter({
    maxFailures: 10,
    windowMs: 60_000,
    what: 'registration',
  });
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/api/v1/runners/register',
    { schema: { body: RegisterRunnerBody, response: { 201: RegisterRunnerResponse } } },
    async (req, reply) => {
      const now = ctx.now();
      registrationFailures.check(req.ip, now);
      try {
        const created = await register(bearerToken(req), req.body, now);
        reply.code(201);
        return created;
      } catch (err) {
        if (err instanceof BatonError && err.code === 'unauthenticated')
          registrationFailures.fail(req.ip, now);
        throw err;
      }
    },
  );

  async function register(presented: string | undefined, body: RegisterRunnerBody, now: number) {
    {
      if (!presented)
        throw new BatonError(
          'unauthenticated',
          'send the registration token as "Authorization: Bearer <token>"',
        );
      const token = usableToken(
        await ctx.store.credentials.tokenByHash(hashToken(presented)),
        'registration',
        now,
      );
      // Checked before a single-use token is spent on a request that cannot succeed.
      const webhookUrl = body.webhook === undefined ? undefined : checkWebhookUrl(body.webhook, 'webhook');
      if (token.single_use === 1 && !(await ctx.store.credentials.useToken(token.id, now))) {
        throw new BatonError('unauthenticated', 'this single-use registration token was already used');
      }
      if (body.publicKey !== undefined && !(await isPublicKey(body.publicKey))) {
        throw new BatonError('bad_request', 'publicKey must be a 32-byte X25519 public key in base64');
      }
      const runnerToken = generateToken('runner');
      const runner = await ctx.store.credentials.insertRunner({
        name: body.name,
        labels: JSON.stringify([...new Set(body.labels)]),
        capacity: body.capacity,
        version: body.version,
        token_hash: hashToken(runnerToken),
        public_key: body.publicKey ?? null,
        created_at: now,
        ephemeral: body.ephemeral === true ? 1 : 0,
      });
      ctx.log.info(
        { runnerId: runner.id, name: runner.name, ephemeral: body.ephemeral === true },
        'runner registered',
      );
      if (webhookUrl === undefined) return { runnerId: runner.id, token: runnerToken };
      const hook = newWebhook(ctx, {
        url: webhookUrl,
        events: ['runner.start', 'runner.finish'],
        runnerId: runner.id,
      });
      await ctx.store.webhooks.setForRunner(runner.id, hook.row);
      return { runnerId: runner.id, token: runnerToken, webhookSecret: hook.secret };
    }
  }

  // Ephemeral runners with an acquire in flight on this server: one runner, one long-poll at a time, so two
  // concurrent acquires cannot both claim (a pool slot never sends two; this refuses a runner that tries).
  const ephemeralPolling = new Set<string>();

  /**
   * An ephemeral runner serves one task: once it was offered one, every further acquire is refused. Returns
   * the release of this runner's in-flight mark (taken before the first await, so two concurrent acquires of
   * one runner cannot both pass).
   */
  async function claimOnlyOnce(runner: RunnerRow): Promise<() => void> {
    if (ephemeralPolling.has(runner.id))
      throw new BatonError(
        'conflict',
        `ephemeral runner '${runner.name}' already has an acquire in flight; it may poll for one task at a time`,
      );
    ephemeralPolling.add(runner.id);
    const release = () => ephemeralPolling.delete(runner.id);
    try {
      if (await ctx.store.credentials.runnerHasAttempt(runner.id))
        throw new BatonError(
          'conflict',
          `ephemeral runner '${runner.name}' was already offered its one task; an ephemeral runner serves exactly one task — unregister it and register a new one`,
        );
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }

  app.register(async (scope) => {
    const s = scope.withTypeProvider<TypeBoxTypeProvider>();
    s.decorateRequest('runner', null);
    s.decorateRequest('generation', 0);
    s.decorateRequest('touched', null);
    s.addHook('onRequest', async (req) => {
      // Read before the runner's row: a report stored after the row was read has moved it on (see acquire).
      const generation = ctx.hub.queueGeneration;
      const runner = await authenticateRunner(ctx.store, req);
      (req as unknown as { runner: RunnerRow; generation: number }).runner = runner;
      (req as unknown as { generation: number }).generation = generation;
      // Last-seen is shown to the second: one write per second per runner, not one per request (a busy
      // runner makes several requests per task, and each write is a transaction of its own).
      const now = ctx.now();
      if (now - (runner.last_seen_at ?? 0) >= LAST_SEEN_RESOLUTION_MS) {
        // Awaited only by acquire, whose claim reads it (a runner back from silence is offered nothing before).
        (req as unknown as { touched: Promise<void> }).touched = ctx.store.credentials
          .touchRunner(runner.id, now)
          .catch((err: unknown) => {
            const e = toError(err);
            // A full disk is logged once, by the storage health, not at every request while it lasts.
            if (isStorageFull(e)) return ctx.storage.refused(e);
            ctx.log.warn({ err: e }, 'could not record runner last-seen time');
          });
      }
    });
    const runnerOf = (req: object) => (req as { runner: RunnerRow }).runner;

    s.post(
      '/api/v1/runner/status',
      { schema: { body: RunnerStatusBody, response: { 200: RunnerStatusResponse } } },
      async (req) => {
        const runner = runnerOf(req);
        await ctx.store.credentials.setRunnerStatus(runner.id, JSON.stringify(req.body), ctx.now());
        const before = runnerGives(runnerReport(runner));
        const after = runnerGives(req.body);
        if (JSON.stringify(after) !== JSON.stringify(before)) ctx.hub.runnerChanged(runner.id);
        // The runner repeats its report every heartbeat interval while its long polls wait (a ping): silent for
        // offlineAfterMs, it is offline and offered nothing.
        return {
          heartbeatIntervalMs: ctx.config.heartbeatIntervalMs,
          offlineAfterMs: runnerOfflineAfterMs(ctx.config),
        };
      },
    );

    s.get('/api/v1/runner', { schema: { response: { 200: RunnerSelfResponse } } }, async (req) => {
      const row = runnerOf(req);
      return {
        runnerId: row.id,
        name: row.name,
        labels: JSON.parse(row.labels) as string[],
        capacity: row.capacity,
        hasKey: row.public_key !== null,
      };
    });

    s.delete('/api/v1/runner', async (req, reply) => {
      await ctx.store.credentials.deleteRunner(runnerOf(req).id);
      reply.code(204);
    });

    s.post(
      '/api/v1/runner/acquire',
      { schema: { body: AcquireBody, response: { 200: AcquireResponse, 204: Type.Null() } } },
      async (req, reply) => {
        const runner = runnerOf(req);
        if (runner.disabled === 1) {
          reply.code(204);
          return;
        }
        const release = runner.ephemeral === 1 ? await claimOnlyOnce(runner) : undefined;
        const abort = new AbortController();
        // The response's 'close' fires when the client goes away before we answer. The request's own 'close'
        // must not be used: Node emits it as soon as the body has been read, which ended every hold at once.
        reply.raw.once('close', () => abort.abort());
        let offer;
        try {
          await (req as unknown as { touched: Promise<void> | null }).touched;
          offer = await offerTo(ctx, acquire, runner, {
            waitMs: req.body.waitMs ?? ctx.config.maxLongPollMs,
            signal: abort.signal,
            generation: (req as unknown as { generation: number }).generation,
          });
        } finally {
          release?.();
        }
        if (!offer) {
          reply.code(204);
          return;
        }
        return offer;
      },
    );

    s.post(
      '/api/v1/runner/leases/:lease/start',
      { schema: { params: LeaseParams, response: { 200: LeaseResponse } } },
      async (req) => startLease(ctx, req.params.lease, runnerOf(req).id),
    );

    s.post(
      '/api/v1/runner/leases/:lease/heartbeat',
      { schema: { params: LeaseParams, response: { 200: LeaseResponse } } },
      async (req) => heartbeatLease(ctx, req.params.lease, runnerOf(req).id),
    );

    s.post(
      '/api/v1/runner/leases/:lease/cache',
      {
        schema: { params: LeaseParams, body: CacheLookupBody, response: { 200: CacheLookupResponse } },
      },
      async (req) => {
        // Fenced like heartbeat: only the task's live attempt may read its workflow's cache (protocol/cache.ts).
        const now = ctx.now();
        const { task } = await ctx.store.leases.check(req.params.lease, runnerOf(req).id, now);
        if ((JSON.parse(task.spec) as TaskSpec).cache === undefined)
          throw new BatonError('bad_request', `task '${task.name}' declares no 'cache'`);
        const run = await ctx.store.runs.runRow(task.run_id);
        const hit = run && (await ctx.store.cache.lookup(run.name, req.body.key, now));
        if (!hit) return { hit: false };
        return {
          hit: true,
          outputs: hit.outputs,
          createdAt: new Date(hit.createdAt).toISOString(),
          ageMs: Math.max(0, now - hit.createdAt),
        };
      },
    );

    // Stores chunks (new ones in the attempt's log file, their index in the database) and tells live followers.
    const storeLogs = async (lease: string, runner: RunnerRow, chunks: LogBytesChunk[], attempt?: number) => {
      const res = await ctx.store.leases.appendLogs(
        lease,
        runner.id,
        chunks,
        ctx.now(),
        SERVER_LOG_LIMIT_BYTES,
        { files: ctx.logFiles, ...(attempt === undefined ? {} : { attempt }) },
      );
      // The task's name is read only for a run someone follows: most log calls have no reader waiting.
      if (chunks.length > 0 && ctx.hub.followed(res.runId)) {
        const task = await ctx.store.dialect.db
          .selectFrom('tasks')
          .select('name')
          .where('id', '=', res.taskId)
          .executeTakeFirstOrThrow();
        for (const c of chunks) {
          ctx.hub.log({
            runId: res.runId,
            task: task.name,
            taskId: res.taskId,
            attempt: res.attempt,
            seq: c.seq,
            offset: c.offset,
            data: c.bytes.toString('utf8'),
          });
        }
      }
      return { ackedSeq: res.ackedSeq, cancel: res.cancel };
    };

    // The JSON call, kept for runners of earlier versions: stored the same way as the binary one.
    s.post(
      '/api/v1/runner/leases/:lease/logs',
      { schema: { params: LeaseParams, body: LogsBody, response: { 200: LogsResponse } } },
      async (req) => {
        const chunks = req.body.chunks.map((c) => {
          const bytes = Buffer.from(c.data, 'utf8');
          if (bytes.length > MAX_LOG_CHUNK_BYTES)
            throw new BatonError(
              'payload_too_large',
              `log chunk ${c.seq} is ${bytes.length} bytes; the limit is ${MAX_LOG_CHUNK_BYTES} bytes per chunk`,
            );
          return { seq: c.seq, offset: c.offset, bytes };
        });
        return storeLogs(req.params.lease, runnerOf(req), chunks);
      },
    );

    // The binary call (protocol/log-frames.ts, docs/adr/0021-log-bytes.md): the chunks' bytes as the runner
    // spooled them, nothing to parse but one header line per chunk. Same fencing, idempotency and answer.
    s.register(async (b) => {
      pooledBodyParser(b, 'application/octet-stream', MAX_LOG_BATCH_BODY_BYTES);
      b.withTypeProvider<TypeBoxTypeProvider>().put(
        '/api/v1/runner/leases/:lease/log',
        {
          schema: {
            params: LeaseParams,
            response: { 200: LogsResponse },
            description:
              'Log chunks as raw bytes (Content-Type application/octet-stream): each chunk is a header line "<attempt> <seq> <offset> <length>\\n" and its <length> bytes of UTF-8.',
          },
        },
        async (req) => {
          if (!Buffer.isBuffer(req.body))
            throw new BatonError('bad_request', 'send the log chunks as application/octet-stream');
          const decoded = decodeLogFrames(req.body);
          if (!decoded.ok)
            throw new BatonError(decoded.tooLarge ? 'payload_too_large' : 'bad_request', decoded.message);
          const chunks: LogBytesChunk[] = [];
          const attempt = decoded.frames[0]?.attempt;
          for (const f of decoded.frames) {
            if (f.attempt !== attempt)
              throw new BatonError(
                'bad_request',
                `log chunk ${f.seq} names attempt ${f.attempt}, but the batch's first chunk attempt ${attempt}`,
              );
            // Everything stored and served is valid UTF-8 (RELIABILITY.md); the runner's decoder makes it so.
            if (!isUtf8(f.bytes))
              throw new BatonError('bad_request', `log chunk ${f.seq} is not valid UTF-8`);
            chunks.push({ seq: f.seq, offset: f.offset, bytes: f.bytes });
          }
          return storeLogs(req.params.lease, runnerOf(req), chunks, attempt);
        },
      );
    });

    s.post(
      '/api/v1/runner/leases/:lease/steps',
      { schema: { params: LeaseParams, body: StepsBody, response: { 200: LeaseResponse } } },
      async (req) => {
        const res = await ctx.store.leases.reportSteps(
          req.params.lease,
          runnerOf(req).id,
          req.body.steps,
          ctx.now(),
        );
        ctx.hub.steps({ runId: res.runId, task: res.taskName, attempt: res.attempt, steps: req.body.steps });
        // Answers as heartbeat does, without renewing: the lease keeper keeps its own rhythm.
        return { leaseExpiresAt: new Date(res.leaseExpiresAt).toISOString(), cancel: res.cancel };
      },
    );

    s.post(
      '/api/v1/runner/leases/:lease/complete',
      { schema: { params: LeaseParams, body: CompleteBody, response: { 200: CompleteResponse } } },
      async (req) => completeLease(ctx, req.params.lease, runnerOf(req).id, req.body),
    );
  });
}
