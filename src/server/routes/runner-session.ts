// The server's end of the runner session (protocol/session.ts holds the contract): a WebSocket on the HTTP
// listener, authenticated at the upgrade with the runner's token, whose frames call the very functions the HTTP
// runner routes call (runner-calls.ts) — so claims, leases, fencing and idempotency are the same either way.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { TypeRegistry, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CompleteBody } from '../../protocol/api.ts';
import { BatonError, toError, type ErrorEnvelope } from '../../protocol/errors.ts';
import { RUNNER_FRAME_SCHEMAS } from '../../protocol/session-schemas.ts';
import {
  SESSION_CLOSE,
  SESSION_FRAME_TYPES,
  SESSION_PATH,
  SESSION_PROTOCOL,
  type RunnerFrame,
  type ServerFrame,
} from '../../protocol/session.ts';
import type { RunnerRow } from '../../store/schema.ts';
import { hashToken } from '../tokens.ts';
import type { ServerContext } from '../context.ts';
import { errorAnswer } from '../errors.ts';
import { isStorageFull } from '../storage-health.ts';
import { LAST_SEEN_RESOLUTION_MS, runnerOfflineAfterMs } from '../views.ts';
import { completeLease, heartbeatLease, offerTo, startLease, type Acquire } from '../runner-calls.ts';

/**
 * The HTTP routes validate with Fastify's JSON Schema validator; the session with TypeBox's compiler, which
 * knows `Type.Unsafe` schemas only through its registry. The protocol's one Unsafe schema in a runner frame is
 * `type: [..., 'null']` (exitCode): checked here by its JSON Schema `type` list.
 */
function registerUnsafeKind(): void {
  if (TypeRegistry.Has('Unsafe')) return;
  TypeRegistry.Set('Unsafe', (schema: { type?: string | string[] }, value: unknown) => {
    if (schema.type === undefined) return true;
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    return types.some((t) =>
      t === 'null'
        ? value === null
        : t === 'integer'
          ? Number.isInteger(value)
          : t === 'array'
            ? Array.isArray(value)
            : t === 'object'
              ? typeof value === 'object' && value !== null && !Array.isArray(value)
              : typeof value === t,
    );
  });
}

export interface RunnerSessions {
  /** Sessions open now. */
  readonly open: number;
  /** Closes every session (server shutdown): their held acquires end, their runners fall back or reconnect. */
  closeAll(): void;
}

/** Serves `GET /api/v1/runner/session` upgrades on `app`'s listener. */
export function runnerSessions(app: FastifyInstance, ctx: ServerContext, acquire: Acquire): RunnerSessions {
  registerUnsafeKind();
  const frameChecks = new Map<string, TypeCheck<TSchema>>(
    Object.entries(RUNNER_FRAME_SCHEMAS).map(([t, schema]) => [t, TypeCompiler.Compile(schema)]),
  );
  const completeCheck = TypeCompiler.Compile(CompleteBody);
  const limitBytes = ctx.config.bodyLimitBytes;
  // The silence after which a runner is offline (views.ts): a session that long without a pong is dropped.
  const silentAfterMs = runnerOfflineAfterMs(ctx.config);
  // Twice the limit: a frame between the two is read and answered with an error frame naming the limit; past
  // it, ws closes the connection itself (1009) without buffering more.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limitBytes * 2,
    handleProtocols: (offered) => (offered.has(SESSION_PROTOCOL) ? SESSION_PROTOCOL : false),
  });
  const sockets = new Set<WebSocket>();

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void upgrade(req, socket, head).catch((err: unknown) => {
      ctx.log.error({ err: toError(err) }, 'runner session upgrade failed');
      refuse(socket, 500, { error: { code: 'internal', message: 'internal error; see the server log' } });
    });
  });

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== SESSION_PATH)
      return refuse(socket, 404, { error: { code: 'not_found', message: `no upgrade at ${path}` } });
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(SESSION_PROTOCOL))
      return refuse(socket, 400, {
        error: {
          code: 'bad_request',
          message: `this server speaks the runner session protocol '${SESSION_PROTOCOL}'; the client offered ${offered.filter(Boolean).join(', ') || 'none'}`,
        },
      });
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer (\S+)$/i.exec(auth)?.[1];
    if (!token)
      return refuse(socket, 401, {
        error: {
          code: 'unauthenticated',
          message: 'missing bearer token: send "Authorization: Bearer <runner token>"',
        },
      });
    const tokenHash = hashToken(token);
    const runner = await ctx.store.credentials.runnerByTokenHash(tokenHash);
    if (!runner)
      return refuse(socket, 401, {
        error: { code: 'unauthenticated', message: 'a valid runner token is required' },
      });
    if (runner.ephemeral === 1)
      return refuse(socket, 409, {
        error: {
          code: 'conflict',
          message: `ephemeral runner '${runner.name}' takes its one task over the HTTP acquire; it has no session`,
        },
      });
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, runner.id, tokenHash));
  }

  function serve(ws: WebSocket, runnerId: string, tokenHash: string): void {
    sockets.add(ws);
    const held = new Set<AbortController>();
    let lastTouch = 0;
    let lastPong = performance.now();
    const pinger = setInterval(() => {
      if (performance.now() - lastPong > silentAfterMs) return ws.terminate();
      ws.ping();
    }, ctx.config.heartbeatIntervalMs);
    // A pong is the runner's event loop answering: it is heard from, as by an HTTP request (see `touch`).
    ws.on('pong', () => {
      lastPong = performance.now();
      void touch(runnerId);
    });
    /** Records the runner's last-seen time, at most once per LAST_SEEN_RESOLUTION_MS. */
    async function touch(id: string, seenAt?: number | null): Promise<void> {
      const now = ctx.now();
      if (now - Math.max(seenAt ?? 0, lastTouch) < LAST_SEEN_RESOLUTION_MS) return;
      lastTouch = now;
      await ctx.store.credentials.touchRunner(id, now).catch((err: unknown) => {
        const e = toError(err);
        if (isStorageFull(e)) return ctx.storage.refused(e);
        ctx.log.warn({ err: e }, 'could not record runner last-seen time');
      });
    }
    ws.on('close', () => {
      clearInterval(pinger);
      sockets.delete(ws);
      for (const a of held) a.abort();
    });
    ws.on('error', (err) => ctx.log.warn({ err, runnerId }, 'runner session error'));
    const send = (f: ServerFrame) => {
      // A frame for a closed connection is dropped: an offer in it is never confirmed and returns to the queue
      // after the ack window, as an HTTP answer lost on the wire does.
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(f));
    };
    const sendError = (id: number | undefined, err: unknown) => {
      const { status, envelope } = errorAnswer(err, {
        bodyLimitBytes: limitBytes,
        requestId: `session-${runnerId}`,
        onStorageFull: (e) => ctx.storage.refused(e),
        onUnexpected: (e) => ctx.log.error({ err: e, runnerId }, 'runner session call failed'),
      });
      send({ t: 'error', ...(id === undefined ? {} : { id }), status, error: envelope.error });
    };
    const closeWith = (code: number, err: BatonError) => {
      sendError(undefined, err);
      ws.close(code, err.message.slice(0, 120));
    };

    /** The runner as stored now: a removed runner or a revoked token ends the session at its next frame. */
    async function current(): Promise<RunnerRow> {
      const row = await ctx.store.credentials.runnerByTokenHash(tokenHash);
      if (!row) {
        const err = new BatonError('unauthenticated', 'the runner token was revoked; the session ends');
        closeWith(SESSION_CLOSE.badFrame, err);
        throw err;
      }
      await touch(row.id, row.last_seen_at);
      return row;
    }

    async function acquireFor(id: number, waitMs: number): Promise<void> {
      const abort = new AbortController();
      held.add(abort);
      try {
        // Read before the runner's row: a report stored after the row was read has moved it on.
        const generation = ctx.hub.queueGeneration;
        const runner = await current();
        const offer =
          runner.disabled === 1
            ? undefined
            : await offerTo(ctx, acquire, runner, { waitMs, signal: abort.signal, generation });
        send(offer ? { t: 'offer', id, offer } : { t: 'idle', id });
      } finally {
        held.delete(abort);
      }
    }

    async function call(frame: RunnerFrame): Promise<void> {
      if (frame.t === 'release') {
        for (const a of held) a.abort();
        return;
      }
      // As every HTTP write (app.ts's preHandler): after a full disk, the lease extension comes first. Without
      // it a session runner's task was lost to the first heartbeat after the outage
      // (test/faults/server-storage-full.test.ts, session variant).
      try {
        await ctx.storage.ensureWritable();
      } catch (err) {
        if (frame.t === 'complete' && frame.next) send({ t: 'idle', id: frame.next.id });
        throw err;
      }
      switch (frame.t) {
        case 'acquire':
          return acquireFor(frame.id, frame.waitMs);
        case 'start': {
          const runner = await current();
          send({ t: 'ok', id: frame.id, body: await startLease(ctx, frame.lease, runner.id) });
          return;
        }
        case 'heartbeat': {
          const runner = await current();
          send({ t: 'ok', id: frame.id, body: await heartbeatLease(ctx, frame.lease, runner.id) });
          return;
        }
        case 'complete': {
          if (!completeCheck.Check(frame.body)) {
            const first = completeCheck.Errors(frame.body).First();
            if (frame.next) send({ t: 'idle', id: frame.next.id });
            throw new BatonError(
              'bad_request',
              `invalid complete body: ${first ? `${first.path || '/'} ${first.message}` : 'does not match the schema'}`,
            );
          }
          let answer;
          try {
            answer = await completeLease(ctx, frame.lease, (await current()).id, frame.body);
          } catch (err) {
            // The acquire that travelled with a refused complete is not made: answered `idle`.
            if (frame.next) send({ t: 'idle', id: frame.next.id });
            throw err;
          }
          send({ t: 'ok', id: frame.id, body: answer });
          if (frame.next) await acquireFor(frame.next.id, frame.next.waitMs);
          return;
        }
      }
    }

    ws.on('message', (data: RawData, isBinary: boolean) => {
      const size = Array.isArray(data)
        ? data.reduce((n, b) => n + b.length, 0)
        : (data as Buffer | ArrayBuffer).byteLength;
      if (size > limitBytes)
        return closeWith(
          SESSION_CLOSE.tooBig,
          new BatonError(
            'payload_too_large',
            `session frame is ${size} bytes; the limit is ${limitBytes} bytes per frame (body_limit_bytes)`,
          ),
        );
      if (isBinary)
        return closeWith(
          SESSION_CLOSE.badFrame,
          new BatonError('bad_request', 'binary session frames are not accepted; send JSON text frames'),
        );
      let frame: unknown;
      try {
        frame = JSON.parse(String(data));
      } catch (err) {
        return closeWith(
          SESSION_CLOSE.badFrame,
          new BatonError('bad_request', `session frame is not JSON: ${toError(err).message}`),
        );
      }
      const problem = frameProblem(frame, frameChecks);
      if (problem) return closeWith(SESSION_CLOSE.badFrame, new BatonError('bad_request', problem));
      const f = frame as RunnerFrame;
      call(f).catch((err: unknown) => {
        if (ws.readyState === ws.OPEN && 'id' in f) sendError(f.id, err);
      });
    });
  }

  return {
    get open() {
      return sockets.size;
    },
    closeAll() {
      for (const ws of sockets) ws.close(SESSION_CLOSE.goingAway, 'the server is shutting down');
    },
  };
}

/** Why a parsed frame is not one a runner may send, or undefined when it is. */
function frameProblem(frame: unknown, checks: Map<string, TypeCheck<TSchema>>): string | undefined {
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame))
    return 'a session frame must be a JSON object with a type "t"';
  const t = (frame as { t?: unknown }).t;
  const check = typeof t === 'string' ? checks.get(t) : undefined;
  if (!check)
    return `unknown session frame type ${JSON.stringify(t)}; this server knows ${SESSION_FRAME_TYPES.join(', ')}`;
  if (check.Check(frame)) return undefined;
  const first = check.Errors(frame).First();
  return `invalid '${String(t)}' frame: ${first ? `${first.path || '/'} ${first.message}` : 'does not match its schema'}`;
}

/** Answers an upgrade request with a plain HTTP error in the error envelope, and closes the socket. */
function refuse(socket: Duplex, status: number, envelope: ErrorEnvelope): void {
  const body = JSON.stringify(envelope);
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 401 ? 'Unauthorized' : status === 409 ? 'Conflict' : status === 400 ? 'Bad Request' : 'Internal Server Error'}\r\n` +
      'Connection: close\r\nContent-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
