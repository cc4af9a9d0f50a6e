// Route by route from the router table: no token, a malformed one, a wrong one, an expired, a revoked and a
// wrong-kind token all get 401 and no data; scopes limit what a user token may do; registration is
// rate-limited. Public routes are listed explicitly, so a new route is protected unless someone says otherwise.
import { describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { generateToken, hashToken } from '../../src/server/index.ts';

/**
 * Routes that answer without a token: health checks, the API description, signing in and out, and the UI's
 * pages and static files (every GET outside /api/; the data behind them all comes from /api/ routes).
 */
const PUBLIC = [
  /^GET \/healthz$/,
  /^GET \/readyz$/,
  /^GET \/openapi\.json$/,
  /^POST \/api\/v1\/session$/,
  /^DELETE \/api\/v1\/session$/,
  /^GET \/(?!api\/)/,
  // A push runner's registration and heartbeat (Automn's route): authenticated by the runner's own secret, not
  // by a token (test/security/push-runner-register.test.ts replays every refusal).
  /^POST \/api\/settings\/runner-hosts\/:id\/register$/,
];

function concrete(url: string): string {
  return url
    .replace(':lease', '0123456789abcdef0123456789abcdef')
    .replace(':artifact', '01m8235cmq1qf7cvpvtk4z0exp')
    .replace(/:id/g, '01m8235cmq1qf7cvpvtk4z0exp')
    .replace(/:[a-z]+/g, 'x')
    .replace('*', 'x');
}

async function tokensOfEveryKind(t: TestApp) {
  const runner = await t.registerRunner('r');
  const expired = generateToken('user');
  await t.store.credentials.insertToken({
    kind: 'user',
    name: 'old',
    hash: hashToken(expired),
    created_at: t.clock.now - 10,
    expires_at: t.clock.now - 1,
    single_use: 0,
  });
  const revoked = generateToken('user');
  const row = await t.store.credentials.insertToken({
    kind: 'user',
    name: 'gone',
    hash: hashToken(revoked),
    created_at: t.clock.now,
    expires_at: null,
    single_use: 0,
  });
  await t.store.credentials.revokeToken(row.id, t.clock.now);
  return { runner: runner.token, expired, revoked };
}

describe('authentication, route by route', () => {
  it('every non-public route answers 401 with no data to a missing, malformed, wrong, expired, revoked or wrong-kind token', async () => {
    const t = await createTestApp();
    const k = await tokensOfEveryKind(t);
    const routes = t.routes.filter((r) => !PUBLIC.some((p) => p.test(`${r.method} ${r.url}`)));
    expect(routes.length).toBeGreaterThan(20);
    const userRoute = (url: string) =>
      !url.startsWith('/api/v1/runner/') && url !== '/api/v1/runner' && url !== '/api/v1/runners/register';
    const failures: string[] = [];
    for (const r of routes) {
      const wrongKind = userRoute(r.url) ? k.runner : t.adminToken;
      const headers: Array<Record<string, string>> = [
        {},
        { authorization: 'Bearer' },
        { authorization: 'Basic Zm9vOmJhcg==' },
        { authorization: `Bearer ${generateToken('user')}` },
        { authorization: `Bearer ${k.expired}` },
        { authorization: `Bearer ${k.revoked}` },
        { authorization: `Bearer ${wrongKind}` },
      ];
      for (const h of headers) {
        // A well-formed body, so that only the token decides the answer.
        const payload =
          r.method === 'GET' || r.method === 'DELETE'
            ? undefined
            : r.url.endsWith('/register')
              ? { name: 'x', labels: [], capacity: 1, version: 't' }
              : {};
        const res = await t.app.inject({
          method: r.method as 'GET',
          url: concrete(r.url),
          headers: h,
          payload,
        });
        const body = res.body;
        if (res.statusCode !== 401 || !body.includes('"unauthenticated"') || body.length > 300) {
          failures.push(
            `${r.method} ${r.url} with ${JSON.stringify(h).slice(0, 40)} → ${res.statusCode} ${body.slice(0, 80)}`,
          );
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('a revoked token stops working on the very next request', async () => {
    const t = await createTestApp();
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { authorization: `Bearer ${t.adminToken}` },
      payload: { kind: 'user', scope: 'read' },
    });
    const { id, token } = created.json() as { id: string; token: string };
    expect(
      (await t.app.inject({ url: '/api/v1/runs', headers: { authorization: `Bearer ${token}` } })).statusCode,
    ).toBe(200);
    await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${id}`,
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(
      (await t.app.inject({ url: '/api/v1/runs', headers: { authorization: `Bearer ${token}` } })).statusCode,
    ).toBe(401);
  });

  it('a read token can look but not submit; a submit token can run workflows but not manage runners, tokens or secrets', async () => {
    const t = await createTestApp();
    const make = async (scope: string) =>
      (
        (
          await t.app.inject({
            method: 'POST',
            url: '/api/v1/tokens',
            headers: { authorization: `Bearer ${t.adminToken}` },
            payload: { kind: 'user', scope },
          })
        ).json() as { token: string }
      ).token;
    const read = await make('read');
    const submit = await make('submit');
    const as = (token: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
      t.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(payload ? { payload } : {}),
      });
    expect((await as(read, 'GET', '/api/v1/runs')).statusCode).toBe(200);
    const denied = await as(read, 'POST', '/api/v1/runs', { workflow: 'tasks: { a: { run: "true" } }' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect(
      (await as(submit, 'POST', '/api/v1/runs', { workflow: 'tasks: { a: { run: "true" } }' })).statusCode,
    ).toBe(201);
    expect((await as(submit, 'POST', '/api/v1/tokens', { kind: 'registration' })).statusCode).toBe(403);
    expect((await as(submit, 'GET', '/api/v1/tokens')).statusCode).toBe(403);
    expect((await as(submit, 'PUT', '/api/v1/secrets/X', { value: 'long-enough-value' })).statusCode).toBe(
      403,
    );
  });

  it('rate-limits failed registrations per address with 429 and Retry-After, and says why a used token fails', async () => {
    const t = await createTestApp();
    const body = { name: 'r', labels: [], capacity: 1, version: 't' };
    const single = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { authorization: `Bearer ${t.adminToken}` },
      payload: { kind: 'registration', singleUse: true },
    });
    const once = (single.json() as { token: string }).token;
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/runners/register',
          headers: { authorization: `Bearer ${once}` },
          payload: body,
        })
      ).statusCode,
    ).toBe(201);
    const reused = await t.app.inject({
      method: 'POST',
      url: '/api/v1/runners/register',
      headers: { authorization: `Bearer ${once}` },
      payload: body,
    });
    expect(reused.statusCode).toBe(401);
    expect(reused.json()).toMatchObject({ error: { message: expect.stringContaining('already used') } });
    let last = reused;
    for (let i = 0; i < 12; i++) {
      last = await t.app.inject({
        method: 'POST',
        url: '/api/v1/runners/register',
        headers: { authorization: `Bearer ${generateToken('registration')}` },
        payload: body,
      });
    }
    expect(last.statusCode).toBe(429);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right token waits out the limit: the limit is on the address, not the guess.
    const right = await t.app.inject({
      method: 'POST',
      url: '/api/v1/runners/register',
      headers: { authorization: `Bearer ${t.registrationToken}` },
      payload: body,
    });
    expect(right.statusCode).toBe(429);
    t.clock.advance(61_000);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/runners/register',
          headers: { authorization: `Bearer ${t.registrationToken}` },
          payload: body,
        })
      ).statusCode,
    ).toBe(201);
  });
});
