// GET /api/v1/runs/:id?shape=task-group: the Harness design's "Task Group Result" — {id, results: {<task>:
// {name, id, status, outputs}}}, outputs the global exports only, a confidential one as ***, statuses mapped.

import { describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import type { AcquireResponse, TaskGroupResult } from '../protocol/api.ts';

const GROUP = `
taskGroup:
  - name: foo
    type: os_exec
    spec: { command: x }
    exports:
      - { name: password, confidential: true, scope: global }
      - { name: user, scope: global }
      - { name: scratch, scope: local }
  - name: bar
    type: os_exec
    spec: { command: y }
    depends_on: [foo]
  - name: baz
    type: os_exec
    spec: { command: z }
    depends_on: [bar]
`;

async function call(t: TestApp, token: string, method: 'POST' | 'GET', url: string, payload?: object) {
  const res = await t.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload }),
  });
  return { status: res.statusCode, json: () => res.json() as Record<string, unknown> };
}

async function runTask(
  t: TestApp,
  token: string,
  status: 'succeeded' | 'failed' | 'timed_out',
  outputs = {},
) {
  const offer = (
    await call(t, token, 'POST', '/api/v1/runner/acquire', { capacity: 1, waitMs: 0 })
  ).json() as unknown as AcquireResponse;
  await call(t, token, 'POST', `/api/v1/runner/leases/${offer.lease}/start`, {});
  const now = new Date().toISOString();
  const exitCode = status === 'succeeded' ? 0 : 1;
  await call(t, token, 'POST', `/api/v1/runner/leases/${offer.lease}/complete`, {
    status,
    exitCode,
    outputs,
    steps: [],
    startedAt: now,
    finishedAt: now,
  });
  return offer.task.taskId;
}

describe('task-group result shape', () => {
  it("gives the seed's table: id, per task name/id/status and only its global exports, confidential ones masked", async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner();
    const sub = await t.submit(GROUP);
    expect(sub.status).toBe(201);
    const runId = sub.body.id as string;
    const fooId = await runTask(t, token, 'succeeded', {
      password: 'hunter2-canary-value',
      user: 'admin',
      scratch: 'tmp',
      undeclared: 'x',
    });
    const running = (await call(t, t.adminToken, 'GET', `/api/v1/runs/${runId}?shape=task-group`)).json();
    expect((running as unknown as TaskGroupResult).results.bar?.status).toBe('pending');
    const barId = await runTask(t, token, 'timed_out');

    const res = await call(t, t.adminToken, 'GET', `/api/v1/runs/${runId}?shape=task-group`);
    expect(res.status).toBe(200);
    const body = res.json() as unknown as TaskGroupResult;
    const bazId = body.results.baz?.id;
    expect(body).toEqual({
      id: runId,
      results: {
        foo: { name: 'foo', id: fooId, status: 'success', outputs: { password: '***', user: 'admin' } },
        bar: { name: 'bar', id: barId, status: 'failed', outputs: {} },
        baz: { name: 'baz', id: bazId, status: 'skipped', outputs: {} },
      },
    });
    expect(JSON.stringify(body)).not.toContain('hunter2-canary-value');
    // The default shape is unchanged.
    const full = (await call(t, t.adminToken, 'GET', `/api/v1/runs/${runId}?shape=run`)).json();
    expect(full).toMatchObject({ id: runId, status: 'failed' });
  });

  it('answers an unknown shape with 400 naming the shapes, and an unknown run with 404', async () => {
    const t = await createTestApp();
    const sub = await t.submit(GROUP);
    const res = await call(t, t.adminToken, 'GET', `/api/v1/runs/${sub.body.id as string}?shape=harness`);
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({
      error: { code: 'bad_request', message: "unknown shape 'harness'; the shapes are run, task-group" },
    });
    const missing = await call(t, t.adminToken, 'GET', '/api/v1/runs/nope?shape=task-group');
    expect(missing.status).toBe(404);
  });

  it('documents the shape parameter and both result schemas in the OpenAPI document', async () => {
    const t = await createTestApp();
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<
        string,
        { get?: { parameters?: Array<{ name: string }>; responses: Record<string, unknown> } }
      >;
    };
    const get = doc.paths['/api/v1/runs/{id}']?.get;
    expect(get?.parameters?.map((p) => p.name)).toContain('shape');
    expect(JSON.stringify(get?.responses['200'])).toContain('success');
  });
});
