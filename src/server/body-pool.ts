// Request bodies of the binary log call read into reused buffers. Fastify's `parseAs: 'buffer'` collects the
// socket's pieces and concatenates them into a new Buffer per request: for a runner shipping 1 MiB batches,
// a megabyte of fresh external memory per call, to which V8 answered with a full mark-compact every few calls
// (`--trace-gc` while storing 100 MB: 12–14 of them, ~25 ms each, a third of the server's CPU per MB; 9–11
// with reused buffers, docs/performance.md). A body is read into a free buffer of the pool when its declared
// length fits one, and the buffer goes back once the response is sent, when nothing of the request's handling
// holds the bytes any more (the handler writes them to the log file and the database synchronously, and
// copies what it hands to live followers).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BatonError } from '../protocol/errors.ts';

/** Each pooled buffer: a runner's batch is 10 chunks of at most 100 KiB plus their header lines. */
export const POOLED_BODY_BYTES = 2 * 1024 * 1024;
/** Buffers kept between requests; more concurrent bodies get buffers of their own. */
const KEPT = 8;

const pooledOf = new WeakMap<FastifyRequest, Buffer>();

/**
 * Registers `contentType` on `app` to give handlers the body as one Buffer, read into a pooled buffer when it
 * fits, else collected as Fastify would. A body over `limit` bytes (declared, or counted as it arrives) is
 * refused with 413 naming both.
 */
export function pooledBodyParser(app: FastifyInstance, contentType: string, limit: number): void {
  const free: Buffer[] = [];
  app.addContentTypeParser(contentType, (req, payload, done) => {
    const declared = Number(req.headers['content-length']);
    const tooLarge = (bytes: number) =>
      new BatonError(
        'payload_too_large',
        `the request body is ${bytes} bytes; the limit is ${limit} bytes per request`,
      );
    if (Number.isSafeInteger(declared) && declared > limit) {
      payload.resume();
      done(tooLarge(declared), undefined);
      return;
    }
    let pooled =
      Number.isSafeInteger(declared) && declared <= POOLED_BODY_BYTES
        ? (free.pop() ?? Buffer.allocUnsafeSlow(POOLED_BODY_BYTES))
        : undefined;
    const pieces: Buffer[] = [];
    let total = 0;
    let failed = false;
    payload.on('data', (piece: Buffer) => {
      if (failed) return;
      if (total + piece.length > limit) {
        failed = true;
        done(tooLarge(total + piece.length), undefined);
        return;
      }
      if (pooled !== undefined && total + piece.length <= pooled.length) piece.copy(pooled, total);
      else {
        // More than it declared: what was copied so far becomes the first piece of a collected body.
        if (pooled !== undefined) pieces.push(Buffer.from(pooled.subarray(0, total)));
        pooled = undefined;
        pieces.push(piece);
      }
      total += piece.length;
    });
    payload.on('error', (err: Error) => {
      if (failed) return;
      failed = true;
      done(err, undefined);
    });
    payload.on('end', () => {
      if (failed) return;
      if (pooled === undefined) {
        done(null, pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, total));
        return;
      }
      pooledOf.set(req, pooled);
      done(null, pooled.subarray(0, total));
    });
  });
  app.addHook('onResponse', async (req) => {
    const buffer = pooledOf.get(req);
    if (buffer === undefined) return;
    pooledOf.delete(req);
    if (free.length < KEPT) free.push(buffer);
  });
}
