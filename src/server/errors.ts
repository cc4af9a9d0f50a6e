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
    let envelope: ErrorEnvelope;
    let status: number;
    if (err instanceof BatonError) {
      status = err.httpStatus;
      envelope = err.toEnvelope();
      if (typeof err.details.retryAfterSeconds === 'number')
        void reply.header('retry-after', String(err.details.retryAfterSeconds));
    } else if (err.validation) {
      status = 400;
      envelope = { error: { code: 'bad_request', message: `invalid request: ${err.message}` } };
    } else if (err.statusCode === 413) {
      status = 413;
      envelope = {
        error: {
          code: 'payload_too_large',
          message: `request body is larger than the limit of ${app.initialConfig.bodyLimit} bytes`,
        },
      };
    } else if (isStorageFull(err)) {
      onStorageFull(err);
      status = 507;
      envelope = {
        error: {
          code: 'storage_full',
          message: 'the server cannot store data: its disk is full; nothing was written',
        },
      };
      // Logged once when the trouble starts (StorageHealth), not at every request while it lasts.
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      envelope = { error: { code: 'bad_request', message: err.message } };
    } else {
      status = 500;
      envelope = {
        error: { code: 'internal', message: `internal error (request ${req.id}); see the server log` },
      };
      req.log.error({ err }, 'unhandled error');
    }
    void reply.code(status).type('application/json; charset=utf-8').send(envelope);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send({ error: { code: 'not_found', message: `no route for ${req.method} ${req.url.split('?')[0]}` } });
  });
}
