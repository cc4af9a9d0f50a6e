// Task logs: the stored text of one attempt, or a live follow over SSE that resumes from a byte offset.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BatonError } from '../../protocol/errors.ts';
import { isTerminal } from '../../protocol/status.ts';
import { authenticateUser, scopeFor, userTokenOf } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { openSse } from '../sse.ts';
import type { StoredChunk } from '../../store/logs.ts';

const Params = Type.Object({ id: Type.String({ maxLength: 64 }), task: Type.String({ maxLength: 200 }) });
const Query = Type.Object({
  attempt: Type.Optional(Type.Integer({ minimum: 1 })),
  follow: Type.Optional(
    Type.Union([Type.Literal('1'), Type.Literal('true'), Type.Literal('0'), Type.Literal('false')]),
  ),
  offset: Type.Optional(Type.Integer({ minimum: 0, description: 'Resume after this byte offset (SSE)' })),
});

/** The part of a chunk at or after byte `from` of the attempt log. */
function sliceFrom(c: StoredChunk, from: number): string {
  if (from <= c.offset) return c.bytes.toString('utf8');
  return c.bytes.subarray(Math.min(c.bytes.length, from - c.offset)).toString('utf8');
}

export function logRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.addHook('onRequest', async (req) => {
    await authenticateUser(ctx.store, req, ctx.now(), scopeFor(req.method, 'runs'));
  });

  r.get(
    '/api/v1/runs/:id/tasks/:task/logs',
    { schema: { params: Params, querystring: Query } },
    async (req, reply) => {
      const loaded = await ctx.store.runs.get(req.params.id);
      if (!loaded) throw new BatonError('not_found', `run ${req.params.id} not found`);
      const task = loaded.tasks.find((t) => t.name === req.params.task || t.id === req.params.task);
      if (!task) throw new BatonError('not_found', `run ${req.params.id} has no task '${req.params.task}'`);
      let attempt = req.query.attempt ?? task.attempt;
      if (attempt > task.attempt)
        throw new BatonError('not_found', `task '${task.name}' has no attempt ${attempt}`);
      const follow = req.query.follow === '1' || req.query.follow === 'true';

      if (!follow) {
        reply.type('text/plain; charset=utf-8');
        reply.header('x-baton-log-truncated', String(task.log_truncated === 1));
        if (attempt === 0) return '';
        // The bytes as stored: the runner cut chunks on character boundaries, so their concatenation is the
        // log's UTF-8 with nothing to re-encode.
        const parts: Buffer[] = [];
        let after = -1;
        for (;;) {
          const chunks = await ctx.store.logs.chunks(task.id, attempt, after, 1000, ctx.logFiles);
          if (chunks.length === 0) break;
          for (const c of chunks) parts.push(c.bytes);
          after = chunks[chunks.length - 1]!.seq;
        }
        return Buffer.concat(parts);
      }

      // Follow: replay from the resume offset, then wake on each stored chunk until the task is final.
      const lastEventId = Number(req.headers['last-event-id'] ?? NaN);
      let sentTo = Number.isInteger(lastEventId) && lastEventId >= 0 ? lastEventId : (req.query.offset ?? 0);
      const token = userTokenOf(req);
      const sse = openSse(req, reply);
      // Revoking or expiring the token ends this stream with an `error` event (see stream-guard.ts).
      ctx.streams.watch(token, sse);
      let wake: () => void = () => {};
      const off = ctx.hub.onRun(req.params.id, (m) => {
        if ((m.kind === 'log' && m.log.taskId === task.id) || m.kind === 'event') wake();
      });
      // Several servers on one database: chunks stored through another replica wake nobody here, so re-read
      // every second as well.
      const backstop = ctx.store.dialect.capabilities.multiProcess
        ? setInterval(() => wake(), 1_000)
        : undefined;
      try {
        let after = -1;
        for (;;) {
          const woke = new Promise<void>((resolve) => (wake = resolve));
          // Status first, chunks second: chunks stored before a final status are then always read.
          const current = await ctx.store.runs.get(req.params.id);
          const row = current?.tasks.find((t) => t.id === task.id);
          if (req.query.attempt === undefined && attempt === 0 && row && row.attempt > 0)
            attempt = row.attempt;
          for (;;) {
            if (attempt === 0) break;
            const chunks = await ctx.store.logs.chunks(task.id, attempt, after, 1000, ctx.logFiles);
            if (chunks.length === 0) break;
            for (const c of chunks) {
              after = c.seq;
              const end = c.offset + c.bytes.length;
              if (end <= sentTo) continue;
              sse.send('log', sliceFrom(c, sentTo), end);
              sentTo = end;
            }
          }
          const attemptDone = row !== undefined && (row.attempt > attempt || isTerminal(row.status));
          if (attemptDone || sse.closed) {
            if (attemptDone) sse.send('end', { status: row.status, attempt });
            sse.close();
            break;
          }
          await Promise.race([woke, sse.done]);
        }
      } finally {
        clearInterval(backstop);
        off();
      }
    },
  );
}
