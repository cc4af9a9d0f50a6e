// The runner session's transport choice (docs/adr/0023): the round trip of one small JSON call on loopback over
// an HTTP/1.1 keep-alive request (the request/response runner protocol's way), a WebSocket message (`ws`), and
// a message on one long-lived HTTP/2 stream (node:http2), each measured in the same run, in rounds alternating
// the three, with the ratio of each to HTTP/1.1.
//
//   node bench/session-transport.ts [--calls 5000] [--rounds 3]
import { Agent, createServer, request } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';

const { values: args } = parseArgs({
  options: { calls: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '3' } },
});
const CALLS = Number(args.calls);
const WARMUP_CALLS = 200;
const FRAME = JSON.stringify({ t: 'heartbeat', id: 1, lease: 'a'.repeat(32) });
const answer = (text: string) => JSON.stringify({ t: 'ok', id: (JSON.parse(text) as { id: number }).id });

/** Mean ms per call of `one`, after a warm-up. */
async function time(one: () => Promise<void>): Promise<number> {
  for (let i = 0; i < WARMUP_CALLS; i++) await one();
  const start = performance.now();
  for (let i = 0; i < CALLS; i++) await one();
  return (performance.now() - start) / CALLS;
}

async function overHttp1(port: number): Promise<number> {
  const agent = new Agent({ keepAlive: true });
  const ms = await time(
    () =>
      new Promise<void>((resolve, reject) => {
        const req = request(
          {
            port,
            method: 'POST',
            path: '/call',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(FRAME) },
          },
          (res) => {
            res.resume();
            res.on('end', resolve);
          },
        );
        req.on('error', reject);
        req.end(FRAME);
      }),
  );
  agent.destroy();
  return ms;
}

async function overWebSocket(port: number): Promise<number> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  await new Promise((resolve) => ws.once('open', resolve));
  const ms = await time(
    () =>
      new Promise<void>((resolve) => {
        ws.once('message', () => resolve());
        ws.send(FRAME);
      }),
  );
  ws.close();
  return ms;
}

async function overHttp2Stream(port: number): Promise<number> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const stream = session.request({ ':method': 'POST', ':path': '/session' }, { endStream: false });
  const ms = await time(
    () =>
      new Promise<void>((resolve) => {
        stream.once('data', () => resolve());
        stream.write(FRAME + '\n');
      }),
  );
  stream.close();
  session.close();
  return ms;
}

const h1 = createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(answer(body));
  });
});
new WebSocketServer({ server: h1, perMessageDeflate: false }).on('connection', (ws) =>
  ws.on('message', (d) => ws.send(answer(String(d)))),
);
const h2 = http2.createServer();
h2.on('stream', (stream) => {
  stream.respond({ ':status': 200 });
  stream.on('data', (d: Buffer) => stream.write(answer(d.toString()) + '\n'));
});
await new Promise<void>((resolve) => h1.listen(0, '127.0.0.1', resolve));
await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
const h1Port = (h1.address() as AddressInfo).port;
const h2Port = (h2.address() as AddressInfo).port;
const us = (ms: number) => `${Math.round(ms * 1000)} µs`;
for (let round = 1; round <= Number(args.rounds); round++) {
  const http1 = await overHttp1(h1Port);
  const ws = await overWebSocket(h1Port);
  const stream = await overHttp2Stream(h2Port);
  console.log(
    `round ${round}: HTTP/1.1 keep-alive ${us(http1)}, WebSocket ${us(ws)} (${(ws / http1).toFixed(2)}×), HTTP/2 stream ${us(stream)} (${(stream / http1).toFixed(2)}×)`,
  );
}
h1.close();
h2.close();
