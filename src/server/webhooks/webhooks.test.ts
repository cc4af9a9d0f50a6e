import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../../test/helpers/app.ts';
import { generateToken, hashToken } from '../tokens.ts';
import { backoffMs, signature } from './sender.ts';

describe('webhooks API', () => {
  it('registers a runner with a webhook and answers its secret once; refuses a non-http(s) one before spending the token', async () => {
    const t = await createTestApp();
    const body = { name: 'od', labels: [], capacity: 1, version: '1', webhook: 'gopher://10.0.0.1/' };
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/v1/runners/register',
      headers: { authorization: `Bearer ${t.registrationToken}` },
      payload: body,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe(
      'webhook "gopher://10.0.0.1/" uses gopher: only http and https webhooks are sent',
    );
    const ok = await t.app.inject({
      method: 'POST',
      url: '/api/v1/runners/register',
      headers: { authorization: `Bearer ${t.registrationToken}` },
      payload: { ...body, webhook: 'https://hooks.example/start' },
    });
    expect(ok.statusCode).toBe(201);
    const { runnerId, webhookSecret } = ok.json() as { runnerId: string; webhookSecret: string };
    expect(webhookSecret.length).toBeGreaterThanOrEqual(32);
    const row = await t.store.webhooks.ofRunner(runnerId);
    expect(row?.url).toBe('https://hooks.example/start');
    // Kept encrypted, never in plain text.
    expect(row?.sealed_secret).not.toContain(webhookSecret);
    // A runner's webhook is not a server webhook.
    const list = await t.app.inject({
      method: 'GET',
      url: '/api/v1/webhooks',
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(list.json()).toEqual({ webhooks: [] });
    // Removing the runner removes its webhook.
    await t.store.credentials.deleteRunner(runnerId);
    expect(await t.store.webhooks.ofRunner(runnerId)).toBeUndefined();
  });

  it('needs an admin token even to read, and names the limits it refuses', async () => {
    const t = await createTestApp();
    const reader = generateToken('user');
    await t.store.credentials.insertToken({
      kind: 'user',
      name: 'reader',
      hash: hashToken(reader),
      created_at: t.clock.now,
      expires_at: null,
      single_use: 0,
      scope: 'read',
    });
    const asReader = await t.app.inject({
      method: 'GET',
      url: '/api/v1/webhooks',
      headers: { authorization: `Bearer ${reader}` },
    });
    expect(asReader.statusCode).toBe(403);
    const short = await t.app.inject({
      method: 'POST',
      url: '/api/v1/webhooks',
      headers: { authorization: `Bearer ${t.adminToken}` },
      payload: { url: 'http://127.0.0.1:9/x', events: ['run.finished'], secret: 'short' },
    });
    expect(short.statusCode).toBe(400);
    expect(short.json().error.message).toContain('secret');
    const none = await t.app.inject({
      method: 'POST',
      url: '/api/v1/webhooks',
      headers: { authorization: `Bearer ${t.adminToken}` },
      payload: { url: 'http://127.0.0.1:9/x', events: [] },
    });
    expect(none.statusCode).toBe(400);
    expect(await t.store.webhooks.list()).toEqual([]);
  });

  it('signs as GitHub-style receivers check it, and backs off exponentially up to a cap', () => {
    // echo -n '{"a":1}' | openssl dgst -sha256 -hmac 'k'
    expect(signature('k', '{"a":1}')).toBe(
      'sha256=c3a92ff9e274cdcce27a58c15a78ec6dcbbdbd0038a87e7a11baef2028fd8bff',
    );
    expect([1, 2, 3, 8].map((n) => backoffMs(n, 5_000))).toEqual([5_000, 10_000, 20_000, 600_000]);
  });
});
