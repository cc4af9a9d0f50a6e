// A real HTTP server that receives webhook deliveries, verifies each one's X-Baton-Signature against the secret
// it was given, and answers with the statuses a test queues (200 once the queue is empty).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: Record<string, unknown>;
  /** Whether the signature header is the HMAC-SHA256 of the exact body under the receiver's secret. */
  signatureValid: boolean;
  answered: number;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  secret: string;
  /** Statuses to answer next, in order. */
  answers: number[];
  close(): Promise<void>;
  /** Listens again on the same port after close(). */
  reopen(): Promise<void>;
}

export function verify(secret: string, body: string, header: unknown): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const want = Buffer.from(createHmac('sha256', secret).update(body, 'utf8').digest('hex'));
  const got = Buffer.from(header.slice('sha256='.length));
  return got.length === want.length && timingSafeEqual(got, want);
}

export async function startReceiver(secret: string, port = 0): Promise<Receiver> {
  let server: Server | undefined;
  const r: Receiver = {
    url: '',
    port,
    received: [],
    secret,
    answers: [],
    async close() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((done) => s.close(() => done()).closeAllConnections());
    },
    async reopen() {
      await listen(r.port);
    },
  };
  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const answered = r.answers.shift() ?? 200;
          r.received.push({
            headers: req.headers,
            body,
            json: JSON.parse(body) as Record<string, unknown>,
            signatureValid: verify(r.secret, body, req.headers['x-baton-signature']),
            answered,
          });
          res.writeHead(answered).end();
        });
      });
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => {
        server = s;
        r.port = (s.address() as AddressInfo).port;
        r.url = `http://127.0.0.1:${r.port}/hook`;
        resolve();
      });
    });
  await listen(port);
  onTestFinished(() => r.close());
  return r;
}
