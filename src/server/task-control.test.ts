import { describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import type { AcquireResponse, RunResult } from '../protocol/api.ts';

async function call(
  t: TestApp,
  token: string,
  method: 'POST' | 'GET' | 'PUT',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await t.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, ...headers },
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  return {
    status: res.statusCode,
    json: () => res.json() as Record<string, unknown>,
    body: res.body,
    raw: res.rawPayload,
  };
}

async function acquire(t: TestApp, token: string): Promise<AcquireResponse | undefined> {
  const res = await call(t, token, 'POST', '/api/v1/runner/acquire', { capacity: 1, waitMs: 0 });
  return res.status === 204 ? undefined : (res.json() as unknown as AcquireResponse);
}

async function finish(
  t: TestApp,
  token: string,
  offer: AcquireResponse,
  status: 'succeeded' | 'failed',
  outputs: Record<string, string> = {},
  confidential: string[] = [],
) {
  await call(t, token, 'POST', `/api/v1/runner/leases/${offer.lease}/start`, {});
  const now = new Date().toISOString();
  return call(t, token, 'POST', `/api/v1/runner/leases/${offer.lease}/complete`, {
    status,
    exitCode: status === 'succeeded' ? 0 : 1,
    outputs,
    confidential,
    steps: [],
    startedAt: now,
    finishedAt: now,
  });
}

async function run(t: TestApp, id: string): Promise<RunResult> {
  return (await call(t, t.adminToken, 'GET', `/api/v1/runs/${id}`)).json() as unknown as RunResult;
}

describe('task control on the server', () => {
  it('retries a failed task after its backoff, up to its limit, and records why', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner();
    const sub = await t.submit('tasks: { flaky: { run: "false", retries: { max: 1, backoff: 30s } } }');
    const first = await acquire(t, token);
    expect((await finish(t, token, first!, 'failed')).json()).toEqual({ status: 'queued' });
    let r = await run(t, sub.body.id as string);
    expect(r.results.flaky).toMatchObject({ status: 'queued', attempt: 1 });
    expect(r.results.flaky?.message).toMatch(/attempt 1 failed.*retry 1 of 1 in 30s/);
    expect(await acquire(t, token)).toBeUndefined();
    t.clock.advance(30_000);
    const second = await acquire(t, token);
    expect(second?.task.attempt).toBe(2);
    await finish(t, token, second!, 'failed');
    r = await run(t, sub.body.id as string);
    expect(r.results.flaky).toMatchObject({ status: 'failed', attempt: 2 });
    expect(r.status).toBe('failed');
  });

  it('retries a task whose runner was lost only when it declares retries', async () => {
    const t = await createTestApp({ leaseTtlMs: 10_000, heartbeatIntervalMs: 2_000 });
    const { token } = await t.registerRunner();
    const sub = await t.submit('tasks: { deploy: { run: "true" }, build: { run: "true", retries: 2 } }');
    for (let i = 0; i < 2; i++) {
      const offer = await acquire(t, token);
      await call(t, token, 'POST', `/api/v1/runner/leases/${offer!.lease}/start`, {});
    }
    t.clock.advance(10_001);
    await t.store.leases.sweep(t.clock.now);
    const r = await run(t, sub.body.id as string);
    expect(r.results.deploy?.status).toBe('runner_lost');
    expect(r.results.build?.status).toBe('queued');
  });

  it('publishes global exports in the run result and hides confidential values', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner();
    const sub = await t.submit(`
tasks:
  foo:
    run: "true"
    exports:
      - { name: version, scope: global }
      - { name: password, confidential: true, scope: global }
      - { name: note }
  bar:
    depends_on: [foo]
    imports: [{ from: foo, variable: password }]
    run: "true"
`);
    const foo = await acquire(t, token);
    await finish(t, token, foo!, 'succeeded', { version: '1.2.3', password: 's3cret-value', note: 'hi' });
    const bar = await acquire(t, token);
    expect(bar?.task.context.imports).toEqual({ password: 's3cret-value' });
    expect(bar?.task.context.mask).toEqual(['s3cret-value']);
    const r = await run(t, sub.body.id as string);
    expect(r.outputs).toEqual({ version: '1.2.3', password: '***' });
    expect(r.results.foo?.outputs).toEqual({ version: '1.2.3', password: '***', note: 'hi' });
    expect(JSON.stringify(r)).not.toContain('s3cret-value');
  });

  it('runs a task with if: always() after its dependency failed, and skips one without', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner();
    const sub = await t.submit(`
tasks:
  build: { run: "false" }
  cleanup: { depends_on: build, if: always(), run: "true" }
  ship: { depends_on: build, run: "true" }
  report: { depends_on: build, if: failure(), run: "true" }
`);
    await finish(t, token, (await acquire(t, token))!, 'failed');
    const r = await run(t, sub.body.id as string);
    expect(r.results.cleanup?.status).toBe('queued');
    expect(r.results.report?.status).toBe('queued');
    expect(r.results.ship?.status).toBe('skipped');
  });

  it('a continue_on_error task that fails lets its dependents run and the run succeed', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner();
    const sub = await t.submit(
      'tasks: { lint: { run: "false", continue_on_error: true }, next: { depends_on: lint, run: "true" } }',
    );
    await finish(t, token, (await acquire(t, token))!, 'failed');
    await finish(t, token, (await acquire(t, token))!, 'succeeded');
    const r = await run(t, sub.body.id as string);
    expect(r.results.lint?.status).toBe('failed');
    expect(r.status).toBe('succeeded');
  });

  it('offers a forwarded task only to the runner it names', async () => {
    const t = await createTestApp();
    const a = await t.registerRunner('alpha');
    const b = await t.registerRunner('beta');
    await t.submit(
      'taskGroup:\n  - name: only\n    type: os_exec\n    spec: { command: "true" }\n    forward: { to: beta }\n',
    );
    expect(await acquire(t, a.token)).toBeUndefined();
    expect((await acquire(t, b.token))?.task.name).toBe('only');
  });

  it('holds a matrix to max_parallel and cancels the rest of a fail-fast matrix after a failure', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner();
    const sub = await t.submit(
      'tasks:\n  test:\n    strategy: { matrix: { n: [1, 2, 3] }, max_parallel: 2 }\n    run: "echo ${{ matrix.n }}"\n',
    );
    const one = await acquire(t, token);
    const two = await acquire(t, token);
    expect(one?.task.context.matrix).toEqual({ n: 1 });
    expect(two?.task.context.matrix).toEqual({ n: 2 });
    expect(await acquire(t, token)).toBeUndefined();
    await finish(t, token, one!, 'failed');
    const hb = await call(t, token, 'POST', `/api/v1/runner/leases/${two!.lease}/heartbeat`, {});
    expect(hb.json()).toMatchObject({ cancel: true });
    const r = await run(t, sub.body.id as string);
    expect(r.results['test (3)']?.status).toBe('cancelled');
  });

  it("stores an uploaded artifact, serves it to the run's users and to a dependent declaring it, and to no one else", async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner();
    const sub = await t.submit(
      'tasks:\n  make: { run: "true", uploads: [out.txt] }\n  use: { depends_on: make, artifacts: { from: make }, run: "true" }\n  other: { depends_on: make, run: "true" }\n',
    );
    const make = await acquire(t, token);
    await call(t, token, 'POST', `/api/v1/runner/leases/${make!.lease}/start`, {});
    const zip = Buffer.from('PK\u0005\u0006' + '\u0000'.repeat(18), 'binary');
    const up = await call(t, token, 'PUT', `/api/v1/runner/leases/${make!.lease}/artifacts/uploads`, zip, {
      'content-type': 'application/zip',
    });
    expect(up.status).toBe(201);
    const bad = await call(t, token, 'PUT', `/api/v1/runner/leases/${make!.lease}/artifacts/..%2Fetc`, zip, {
      'content-type': 'application/zip',
    });
    expect(bad.status).toBe(400);
    await finish(t, token, make!, 'succeeded');
    const list = (
      await call(t, t.adminToken, 'GET', `/api/v1/runs/${sub.body.id as string}/artifacts`)
    ).json() as { artifacts: Array<{ id: string; task: string; sizeBytes: number }> };
    expect(list.artifacts).toMatchObject([{ task: 'make', sizeBytes: 22 }]);
    const id = list.artifacts[0]!.id;
    const dl = await call(t, t.adminToken, 'GET', `/api/v1/runs/${sub.body.id as string}/artifacts/${id}`);
    expect(Buffer.compare(dl.raw, zip)).toBe(0);
    const offers = [await acquire(t, token), await acquire(t, token)];
    const use = offers.find((o) => o?.task.name === 'use')!;
    const other = offers.find((o) => o?.task.name === 'other')!;
    expect(use.task.artifacts).toMatchObject([{ id, task: 'make', name: 'uploads' }]);
    expect((await call(t, token, 'GET', `/api/v1/runner/leases/${use.lease}/artifacts/${id}`)).status).toBe(
      200,
    );
    expect((await call(t, token, 'GET', `/api/v1/runner/leases/${other.lease}/artifacts/${id}`)).status).toBe(
      404,
    );
  });
});
