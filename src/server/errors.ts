// The one place where a thrown error becomes an HTTP answer in the error envelope.
import type { FastifyError, FastifyInstance } from 'fastify';
import { BatonError, toError, type ErrorEnvelope } from '../protocol/errors.ts';
import { isStorageFull } from './storage-health.ts';

/** `onStorageFull`: a write was refused because the server's disk is full (see StorageHealth). */
export function installErrorHandler(
  app: FastifyInstance,
  onStorageFull: (err: Error) => void = (err) => app.log.error({ err }, 'storage full'),
): void {
  app.setErrorHandler((raw: unknown, req, reply) => {
    const err = toError(raw) as FastifyError & { code?: unknown };
    if (err instanceof BatonError && typeof err.details.retryAfterSeconds === 'number')
      void reply.header('retry-after', String(err.details.retryAfterSeconds));
    const { status, envelope } = errorAnswer(err, {
      bodyLimitBytes: app.initialConfig.bodyLimit ?? 0,
      requestId: req.id,
      onStorageFull,
      onUnexpected: (e) => req.log.error({ err: e }, 'unhandled error'),
    });
    void reply.code(status).type('application/json; charset=utf-8').send(envelope);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send({ error: { code: 'not_found', message: `no route for ${req.method} ${req.url.split('?')[0]}` } });
  });
}

export interface ErrorAnswerOptions {
  bodyLimitBytes: number;
  /** Named in the message of an unexpected error (500), to find it in the server log. */
  requestId: string;
  onStorageFull: (err: Error) => void;
  /** An error no code describes: log it (the answer says only where to look). */
  onUnexpected: (err: Error) => void;
}

/**
 * The status and envelope a thrown error is answered with: used by the HTTP error handler above and by the
 * runner session's error frames (routes/runner-session.ts), so both faces answer a failure alike.
 */
export function errorAnswer(
  raw: unknown,
  o: ErrorAnswerOptions,
): { status: number; envelope: ErrorEnvelope } {
  const err = toError(raw) as FastifyError & { code?: unknown };
  if (err instanceof BatonError) return { status: err.httpStatus, envelope: err.toEnvelope() };
  if (err.validation)
    return {
      status: 400,
      envelope: { error: { code: 'bad_request', message: `invalid request: ${err.message}` } },
    };
  if (err.statusCode === 413)
    return {
      status: 413,
      envelope: {
        error: {
          code: 'payload_too_large',
          message: `request body is larger than the limit of ${o.bodyLimitBytes} bytes`,
        },
      },
    };
  if (isStorageFull(err)) {
    // Logged once when the trouble starts (StorageHealth), not at every request while it lasts.
    o.onStorageFull(err);
    return {
      status: 507,
      envelope: {
        error: {
          code: 'storage_full',
          message: 'the server cannot store data: its disk is full; nothing was written',
        },
      },
    };
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
    return { status: err.statusCode, envelope: { error: { code: 'bad_request', message: err.message } } };
  o.onUnexpected(err);
  return {
    status: 500,
    envelope: {
      error: { code: 'internal', message: `internal error (request ${o.requestId}); see the server log` },
    },
  };
}
