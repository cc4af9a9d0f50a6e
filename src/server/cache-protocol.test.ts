// The lease-scoped cache lookup and the admin cache API, through the HTTP app: fenced like heartbeat (another
// runner's lease 404, a finished one 409), refused for a task without `cache`, admin-only listing and clearing.
import { describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import type { AcquireResponse } from '../protocol/api.ts';

const CACHED = `
name: cached
tasks:
  build:
    run: echo hi
    cache: { ttl: 1h }
  plain:
    depends_on: [build]
    run: echo plain
`;

async function call(
  t: TestApp,
  token: string,
  method: 'POST' | 'GET' | 'DELETE',
  url: string,
  payload?: unknown,
) {
  const res = await t.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  return { status: res.statusCode, json: () => res.json() as Record<string, unknown> };
}

async function take(t: TestApp, token: string): Promise<AcquireResponse> {
  const res = await call(t, token, 'POST', '/api/v1/runner/acquire', { capacity: 1, waitMs: 0 });
  expect(res.status).toBe(200);
  const offer = res.json() as unknown as AcquireResponse;
  await call(t, token, 'POST', `/api/v1/runner/leases/${offer.lease}/start`, {});
  return offer;
}

function done(cache?: { key: string; hit: boolean }) {
  const now = new Date().toISOString();
  return {
    status: 'succeeded',
    exitCode: 0,
    outputs: { v: '1' },
    steps: [],
    startedAt: now,
    finishedAt: now,
    ...(cache ? { cache } : {}),
  };
}

describe('cache over the runner protocol', () => {
  it('a miss, then the stored entry is a hit; fenced like heartbeat; a task without cache is refused', async () => {
    const t = await createTestApp();
    const a = await t.registerRunner('a');
    const b = await t.registerRunner('b');
    await t.submit(CACHED);
    const offer = await take(t, a.token);
    const lookup = (token: string, lease: string, key = 'k1') =>
      call(t, token, 'POST', `/api/v1/runner/leases/${lease}/cache`, { key });

    expect((await lookup(a.token, offer.lease)).json()).toEqual({ hit: false });
    expect((await lookup(b.token, offer.lease)).status).toBe(404);
    expect((await lookup(a.token, offer.lease, 'x'.repeat(513))).status).toBe(400);
    await call(
      t,
      a.token,
      'POST',
      `/api/v1/runner/leases/${offer.lease}/complete`,
      done({ key: 'k1', hit: false }),
    );
    expect((await lookup(a.token, offer.lease)).status).toBe(409);

    const plain = await take(t, a.token);
    const refused = await lookup(a.token, plain.lease);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json())).toContain("task 'plain' declares no 'cache'");

    await t.submit(CACHED);
    const again = await take(t, a.token);
    const hit = (await lookup(a.token, again.lease)).json();
    expect(hit).toMatchObject({ hit: true, outputs: { v: '1' } });
    expect(typeof hit.ageMs).toBe('number');

    // The admin API: a read-only token may not list; an admin lists names, never values, and clears.
    const reader = (
      await call(t, t.adminToken, 'POST', '/api/v1/tokens', { kind: 'user', scope: 'read' })
    ).json();
    expect((await call(t, reader.token as string, 'GET', '/api/v1/cache')).status).toBe(403);
    expect((await call(t, reader.token as string, 'DELETE', '/api/v1/cache')).status).toBe(403);
    const list = await call(t, t.adminToken, 'GET', '/api/v1/cache?workflow=cached');
    expect(list.json()).toMatchObject({ entries: [{ workflow: 'cached', key: 'k1', outputNames: ['v'] }] });
    expect(JSON.stringify(list.json())).not.toContain('"1"');
    expect((await call(t, t.adminToken, 'GET', '/api/v1/cache?workflow=other')).json()).toEqual({
      entries: [],
    });
    expect((await call(t, t.adminToken, 'DELETE', '/api/v1/cache?workflow=cached&key=k1')).json()).toEqual({
      removed: 1,
    });
    expect((await lookup(a.token, again.lease)).json()).toEqual({ hit: false });
  });

  it('the cache routes are in the OpenAPI document', async () => {
    const t = await createTestApp();
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths['/api/v1/cache'] ?? {}).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(doc.paths['/api/v1/runner/leases/{lease}/cache'] ?? {})).toEqual(['post']);
  });
});
