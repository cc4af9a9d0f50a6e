import { describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';

const HOST = { isolation: 'host', freeDiskBytes: 10 * 1073741824, minFreeDiskBytes: 256 * 1048576 };

async function report(t: TestApp, token: string, body: object) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/runner/status',
    headers: { authorization: `Bearer ${token}` },
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(200);
}

async function statusOf(t: TestApp, name: string) {
  const res = await t.app.inject({
    url: '/api/v1/runners',
    headers: { authorization: `Bearer ${t.adminToken}` },
  });
  const runners = (res.json() as { runners: Array<{ name: string; status: string; activeTasks: number }> })
    .runners;
  const r = runners.find((x) => x.name === name)!;
  return `${r.status} ${r.activeTasks}`;
}

describe('runner status', () => {
  it('a runner that reports a nearly full disk shows it in the fleet list and in why a task is pending', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner('full');
    const report = {
      isolation: 'host',
      freeDiskBytes: 50 * 1048576,
      minFreeDiskBytes: 256 * 1048576,
      refusing: 'only 50 MiB free in /w, below the threshold of 256 MiB',
    };
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/runner/status',
      headers: { authorization: `Bearer ${token}` },
      payload: report,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      heartbeatIntervalMs: expect.any(Number),
      offlineAfterMs: expect.any(Number),
    });
    const list = await t.app.inject({
      url: '/api/v1/runners',
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect((list.json() as { runners: Array<{ name: string; report: unknown }> }).runners).toMatchObject([
      { name: 'full', report },
    ]);
    const sub = await t.submit('tasks: { a: { run: "true" } }');
    const why = await t.app.inject({
      url: `/api/v1/runs/${sub.body.id as string}/tasks/a/pending`,
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(JSON.stringify(why.json())).toContain('"code":"low_disk"');
  });

  it('refuses a status report that is not one', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner('r');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/runner/status',
      headers: { authorization: `Bearer ${token}` },
      payload: { isolation: 'vm', freeDiskBytes: -1 },
    });
    expect(res.statusCode).toBe(400);
  });

  it('a runner that reports it is draining shows as draining while it holds a task, and is a reason a task waits', async () => {
    const t = await createTestApp();
    const { token, runnerId } = await t.registerRunner('calm');
    await report(t, token, HOST);
    expect(await statusOf(t, 'calm')).toBe('idle 0');
    await t.submit('tasks: { first: { run: "true" }, second: { run: "true" } }');
    const acq = await t.app.inject({
      method: 'POST',
      url: '/api/v1/runner/acquire',
      headers: { authorization: `Bearer ${token}` },
      payload: { capacity: 1, waitMs: 0 },
    });
    expect(acq.statusCode).toBe(200);
    const runId = (acq.json() as { task: { runId: string } }).task.runId;
    expect(await statusOf(t, 'calm')).toBe('busy 1');

    await report(t, token, { ...HOST, draining: true });
    expect(await statusOf(t, 'calm')).toBe('draining 1');
    const why = await t.app.inject({
      url: `/api/v1/runs/${runId}/tasks/second/pending`,
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    const runner = (why.json() as { runners: Array<{ eligible: boolean; reasons: Array<{ code: string }> }> })
      .runners[0]!;
    expect(runner.eligible).toBe(false);
    expect(runner.reasons.map((r) => r.code)).toContain('draining');

    // Disabled wins over draining; enabled again, it is draining again.
    const admin = { authorization: `Bearer ${t.adminToken}` };
    await t.app.inject({ method: 'POST', url: `/api/v1/runners/${runnerId}/disable`, headers: admin });
    expect(await statusOf(t, 'calm')).toBe('disabled 1');
    await t.app.inject({ method: 'POST', url: `/api/v1/runners/${runnerId}/enable`, headers: admin });
    expect(await statusOf(t, 'calm')).toBe('draining 1');

    // A restarted runner reports without `draining`: it is busy (or idle) again.
    await report(t, token, HOST);
    expect(await statusOf(t, 'calm')).toBe('busy 1');
  });

  it('a runner that drained and went quiet shows as offline, not draining', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner('gone');
    await report(t, token, { ...HOST, draining: true });
    expect(await statusOf(t, 'gone')).toBe('draining 0');
    // Two long polls and a heartbeat interval without a word: offline.
    t.clock.advance(2 * t.ctx.config.maxLongPollMs + t.ctx.config.heartbeatIntervalMs + 1);
    expect(await statusOf(t, 'gone')).toBe('offline 0');
  });
});
