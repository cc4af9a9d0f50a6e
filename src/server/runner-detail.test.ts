import { describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import type { RunnerDetail } from '../protocol/api.ts';

const ISO = new Date(0).toISOString();

function runnerCalls(t: TestApp, token: string) {
  const call = async (url: string, payload: object = {}) => {
    const res = await t.app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${token}` },
      payload,
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.statusCode === 204 ? undefined : (res.json() as Record<string, unknown>);
  };
  return {
    async acquire(): Promise<string> {
      const offer = await call('/api/v1/runner/acquire', { capacity: 1, waitMs: 0 });
      return (offer as { lease: string }).lease;
    },
    start: (lease: string) => call(`/api/v1/runner/leases/${lease}/start`),
    complete: (lease: string, status: 'succeeded' | 'failed', exitCode: number) =>
      call(`/api/v1/runner/leases/${lease}/complete`, {
        status,
        exitCode,
        outputs: { secret_looking: 'value-that-must-not-appear' },
        steps: [],
        startedAt: ISO,
        finishedAt: ISO,
      }),
  };
}

async function detail(t: TestApp, id: string, query = '', token = t.adminToken) {
  const res = await t.app.inject({
    url: `/api/v1/runners/${id}${query}`,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.statusCode, body: res.json() as RunnerDetail & { error?: unknown }, raw: res.body };
}

describe("a runner's page (GET /api/v1/runners/:id)", () => {
  it('lists the tasks the runner holds now and those it finished, newest first, and no other runner’s', async () => {
    const t = await createTestApp();
    const r1 = await t.registerRunner('one', ['linux']);
    const r2 = await t.registerRunner('two');
    const sub = await t.submit(
      'name: build-all\ntasks:\n  a: { run: "true" }\n  b: { run: "true" }\n  c: { run: "true" }\n',
    );
    const runId = sub.body.id as string;
    const one = runnerCalls(t, r1.token);
    const two = runnerCalls(t, r2.token);

    const before = await detail(t, r1.runnerId);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({
      runner: {
        id: r1.runnerId,
        name: 'one',
        labels: ['linux'],
        status: 'idle',
        activeTasks: 0,
        capacity: 1,
      },
      current: [],
      recent: [],
    });

    const la = await one.acquire(); // a: offered, not yet confirmed
    const offered = await detail(t, r1.runnerId);
    expect(offered.body.runner).toMatchObject({ status: 'busy', activeTasks: 1 });
    expect(offered.body.current).toEqual([
      {
        runId,
        runName: 'build-all',
        task: 'a',
        attempt: 1,
        status: 'running',
        reason: null,
        exitCode: null,
        offeredAt: new Date(t.clock.now).toISOString(),
        startedAt: null,
        finishedAt: null,
        durationMs: null,
      },
    ]);
    t.clock.advance(100);
    await one.start(la);
    const lb = await two.acquire(); // b, on the other runner
    await two.start(lb);
    const running = await detail(t, r1.runnerId);
    expect(running.body.current.map((x) => [x.task, x.startedAt])).toEqual([
      ['a', new Date(t.clock.now).toISOString()],
    ]);

    t.clock.advance(1_500);
    await one.complete(la, 'succeeded', 0);
    t.clock.advance(10);
    const lc = await one.acquire();
    await one.start(lc);
    t.clock.advance(250);
    await one.complete(lc, 'failed', 3);

    const after = await detail(t, r1.runnerId);
    expect(after.body.runner).toMatchObject({ status: 'idle', activeTasks: 0 });
    expect(after.body.current).toEqual([]);
    expect(after.body.recent.map((x) => [x.task, x.status, x.reason, x.exitCode, x.durationMs])).toEqual([
      ['c', 'failed', 'exit_code', 3, 250],
      ['a', 'succeeded', null, 0, 1_500],
    ]);
    // Outputs are not part of the page (they may be confidential).
    expect(after.raw).not.toContain('value-that-must-not-appear');
    expect((await detail(t, r1.runnerId, '?recent=1')).body.recent.map((x) => x.task)).toEqual(['c']);
    expect((await detail(t, r2.runnerId)).body).toMatchObject({
      runner: { name: 'two', status: 'busy' },
      current: [{ task: 'b' }],
      recent: [],
    });
  });

  it('a lost attempt is listed as runner_lost', async () => {
    const t = await createTestApp();
    const r = await t.registerRunner('flaky');
    await t.submit('tasks: { a: { run: "true" } }');
    const calls = runnerCalls(t, r.token);
    await calls.start(await calls.acquire());
    t.clock.advance(t.ctx.config.leaseTtlMs + 1);
    await t.store.leases.sweep(t.clock.now);
    const page = await detail(t, r.runnerId);
    expect(page.body.current).toEqual([]);
    expect(page.body.recent).toMatchObject([{ task: 'a', status: 'runner_lost', reason: 'runner_lost' }]);
  });

  it('answers 404 in the error envelope for an unknown runner, and 400 for too many recent tasks', async () => {
    const t = await createTestApp();
    const missing = await detail(t, '01m8235cmq1qf7cvpvtk4z0exp');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: { code: 'not_found', message: 'runner 01m8235cmq1qf7cvpvtk4z0exp not found' },
    });
    const r = await t.registerRunner('x');
    const tooMany = await detail(t, r.runnerId, '?recent=101');
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({ error: { code: 'bad_request' } });
  });

  it('a read token may look; no token, or a runner token, gets 401', async () => {
    const t = await createTestApp();
    const r = await t.registerRunner('seen');
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { authorization: `Bearer ${t.adminToken}` },
      payload: { kind: 'user', scope: 'read' },
    });
    const read = (created.json() as { token: string }).token;
    expect((await detail(t, r.runnerId, '', read)).status).toBe(200);
    const anonymous = await t.app.inject({ url: `/api/v1/runners/${r.runnerId}` });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ error: { code: 'unauthenticated' } });
    expect((await detail(t, r.runnerId, '', r.token)).status).toBe(401);
  });
});
