// Server-sent events over a hijacked Fastify reply: headers, framing, keep-alive comments, close detection.
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface SseStream {
  send(event: string, data: unknown, id?: string | number): void;
  close(): void;
  readonly closed: boolean;
  /** Resolves when the client goes away or close() is called. */
  readonly done: Promise<void>;
}

/** Keep-alive comment every 15 s: under typical proxy idle timeouts (60 s). */
const KEEPALIVE_MS = 15_000;

export function openSse(req: FastifyRequest, reply: FastifyReply): SseStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(': connected\n\n');
  let closed = false;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));
  const keepalive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepalive);
    resolveDone();
  };
  // The response's 'close' means the client went away (or we ended it). The request's 'close' fires once its
  // body has been read, which says nothing about the connection.
  res.on('close', finish);
  return {
    send(event, data, id) {
      if (closed) return;
      let frame = '';
      if (id !== undefined) frame += `id: ${id}\n`;
      frame += `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
      res.write(frame);
    },
    close() {
      if (closed) return;
      finish();
      res.end();
    },
    get closed() {
      return closed;
    },
    done,
  };
}
