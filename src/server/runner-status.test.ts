import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../test/helpers/app.ts';

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
    expect(res.statusCode).toBe(204);
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
});
