// The fault proxy itself, against a plain HTTP server: each mode does what the fault tests rely on.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { poll } from '../helpers/fault-cluster.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';

let server: Server | undefined;
let proxy: FaultProxy | undefined;
const hits: string[] = [];

async function setup(body = 'ok'): Promise<FaultProxy> {
  hits.length = 0;
  server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end(body);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  proxy = await startFaultProxy({
    target: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    trickleBytes: 100,
    trickleIntervalMs: 20,
  });
  return proxy;
}

afterEach(async () => {
  await proxy?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  proxy = undefined;
  server = undefined;
});

describe('fault proxy', () => {
  it('passes requests through and records each answer', async () => {
    const p = await setup();
    expect(await (await fetch(`${p.url}/a`)).text()).toBe('ok');
    expect(p.exchanges).toMatchObject([{ path: '/a', status: 200 }]);
  });

  it('blackhole: requests hang without reaching the server; held bytes are delivered once the link is back', async () => {
    const p = await setup();
    p.setMode('blackhole');
    await expect(fetch(`${p.url}/held`, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(hits).toEqual([]);
    expect(p.openConnections).toBeGreaterThan(0);
    p.setMode('pass');
    await poll(() => hits.includes('GET /held'), 'the held request to arrive', 2_000, 10);
    expect(await (await fetch(`${p.url}/after`)).text()).toBe('ok');
  });

  it('reset: existing and new connections get a TCP reset', async () => {
    const p = await setup();
    p.setMode('reset');
    await expect(fetch(`${p.url}/x`)).rejects.toMatchObject({ cause: { code: 'ECONNRESET' } });
    expect(hits).toEqual([]);
  });

  it('trickle: a 2,000-byte answer arrives whole, a hundred bytes per tick', async () => {
    const p = await setup('y'.repeat(2_000));
    p.setMode('trickle');
    const t0 = performance.now();
    expect(await (await fetch(`${p.url}/slow`)).text()).toBe('y'.repeat(2_000));
    // 2,000 bytes of body plus headers at 100 bytes per 20 ms tick: at least 20 ticks.
    expect(performance.now() - t0).toBeGreaterThan(19 * 20);
  });

  it('swallows one acquire offer and resets its connection; the next one passes', async () => {
    const p = await setup('{"lease":"x"}');
    const dropped = p.dropNextOffer();
    await expect(
      fetch(`${p.url}/api/v1/runner/acquire`, { method: 'POST', body: '{}' }),
    ).rejects.toMatchObject({ cause: { code: 'ECONNRESET' } });
    await dropped;
    expect(hits).toEqual(['POST /api/v1/runner/acquire']);
    expect(await (await fetch(`${p.url}/api/v1/runner/acquire`, { method: 'POST', body: '{}' })).text()).toBe(
      '{"lease":"x"}',
    );
    expect(p.events.map((e) => e.what)).toEqual([expect.stringMatching(/swallowed an acquire offer/)]);
  });

  it('close() ends every connection it holds', async () => {
    const p = await setup();
    p.setMode('blackhole');
    const pending = fetch(`${p.url}/never`).catch((e: unknown) => e);
    await poll(() => p.openConnections > 0, 'the connection to be held', 2_000, 10);
    await p.close();
    proxy = undefined;
    expect(await pending).toBeInstanceOf(Error);
  });
});
