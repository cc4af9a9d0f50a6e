import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../test/helpers/app.ts';

describe('runs API', () => {
  it('rejects an invalid workflow with 422, every issue located, and stores nothing', async () => {
    const t = await createTestApp();
    const res = await t.submit(
      'tasks:\n  a:\n    run: echo\n    depends_on: [missing]\n  b:\n    depends_on: [b]\n    run: x\n',
    );
    expect(res.status).toBe(422);
    const error = res.body.error as {
      code: string;
      issues: Array<{ line: number; column: number; message: string }>;
    };
    expect(error.code).toBe('invalid_workflow');
    expect(error.issues.length).toBeGreaterThanOrEqual(2);
    for (const i of error.issues) expect(i.line).toBeGreaterThan(0);
    const list = await t.app.inject({
      method: 'GET',
      url: '/api/v1/runs',
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(list.json()).toEqual({ runs: [] });
  });

  it('rejects a missing required input with 422 naming it', async () => {
    const t = await createTestApp();
    const res = await t.submit(
      'inputs: { version: { required: true } }\ntasks: { a: { run: "echo ${{ inputs.version }}" } }',
    );
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toContain('version');
  });

  it('answers 401 without a token, with a wrong token, and with a runner token on user routes', async () => {
    const t = await createTestApp();
    const runner = await t.registerRunner();
    for (const authorization of [
      undefined,
      'Bearer nope',
      `Bearer ${runner.token}`,
      `Bearer ${t.registrationToken}`,
    ]) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/api/v1/runs',
        headers: authorization ? { authorization } : {},
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: 'unauthenticated' } });
    }
    const acq = await t.app.inject({
      method: 'POST',
      url: '/api/v1/runner/acquire',
      headers: { authorization: `Bearer ${t.adminToken}` },
      payload: { capacity: 1, waitMs: 0 },
    });
    expect(acq.statusCode).toBe(401);
  });

  it('lists runs newest first with their task counts, and filters by status', async () => {
    const t = await createTestApp();
    await t.submit('name: one\ntasks: { a: { run: "true" } }');
    t.clock.advance(10);
    await t.submit('name: two\ntasks: { a: { run: "true" }, b: { run: "true" } }');
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/runs',
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    const runs = (res.json() as { runs: Array<{ name: string; taskCount: number; status: string }> }).runs;
    expect(runs.map((r) => [r.name, r.taskCount, r.status])).toEqual([
      ['two', 2, 'queued'],
      ['one', 1, 'queued'],
    ]);
    const none = await t.app.inject({
      method: 'GET',
      url: '/api/v1/runs?status=succeeded',
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(none.json()).toEqual({ runs: [] });
  });

  it('filters runs by name on the server: any case, % and _ literal, with the status filter and paging', async () => {
    const t = await createTestApp();
    const ids: Record<string, string> = {};
    for (const name of ['Nightly build', '50% rollout', 'nightly_tests', 'nightlyXtests', 'release']) {
      const res = await t.submit(`name: "${name}"\ntasks: { a: { run: "true" } }`);
      expect(res.status).toBe(201);
      ids[name] = res.body.id as string;
      t.clock.advance(10);
    }
    // One of them finished: the status filter narrows the name filter.
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/runs/${ids['nightlyXtests']}/cancel`,
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    const list = async (query: string) => {
      const res = await t.app.inject({
        url: `/api/v1/runs?${query}`,
        headers: { authorization: `Bearer ${t.adminToken}` },
      });
      expect(res.statusCode, res.body).toBe(200);
      return (res.json() as { runs: Array<{ name: string }> }).runs.map((r) => r.name);
    };
    const q = (name: string, more = '') => `name=${encodeURIComponent(name)}${more}`;
    expect(await list(q('NIGHTLY'))).toEqual(['nightlyXtests', 'nightly_tests', 'Nightly build']);
    expect(await list(q('%'))).toEqual(['50% rollout']);
    expect(await list(q('y_t'))).toEqual(['nightly_tests']);
    expect(await list(q('  release  '))).toEqual(['release']);
    expect(await list(q('nightly', '&status=cancelled'))).toEqual(['nightlyXtests']);
    expect(await list(q('nightly', '&status=queued'))).toEqual(['nightly_tests', 'Nightly build']);
    expect(await list(q('nightly', '&limit=1'))).toEqual(['nightlyXtests']);
    expect(await list(q('nightly', `&limit=1&before=${ids['nightly_tests']}`))).toEqual(['Nightly build']);
    expect(await list(q(''))).toHaveLength(5);
    expect(await list(q('nothing like it'))).toEqual([]);
  });

  it('refuses a name filter over the limit with 400 naming the limit', async () => {
    const t = await createTestApp();
    const res = await t.app.inject({
      url: `/api/v1/runs?name=${'x'.repeat(201)}`,
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: { code: 'bad_request', message: 'the name filter is 201 characters long; the limit is 200' },
    });
    const ok = await t.app.inject({
      url: `/api/v1/runs?name=${'x'.repeat(200)}`,
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(ok.statusCode).toBe(200);
  });

  it('serves health checks and the OpenAPI document without a token', async () => {
    const t = await createTestApp();
    expect((await t.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    const doc = (await t.app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain('/api/v1/runner/acquire');
  });

  it("answers a missing run's event stream with 404 and follows nothing", async () => {
    const t = await createTestApp();
    const res = await t.app.inject({
      url: '/api/v1/runs/no-such-run/events',
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'not_found', message: 'run no-such-run not found' } });
    // The stream subscribes before it reads the run: a refused one must not stay subscribed.
    expect(t.ctx.hub.followed('no-such-run')).toBe(false);
  });

  it('answers unknown routes and bad bodies with the error envelope', async () => {
    const t = await createTestApp();
    const missing = await t.app.inject({
      url: '/api/v1/nope',
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'not_found' } });
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/v1/runs',
      headers: { authorization: `Bearer ${t.adminToken}` },
      payload: { nope: 1 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'bad_request' } });
  });
});
