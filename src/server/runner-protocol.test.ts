import { describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import type { AcquireResponse, RunResult } from '../protocol/api.ts';

const TWO_TASKS = `
name: pair
tasks:
  first:
    run: echo one
  second:
    depends_on: [first]
    env: { GOT: "\${{ tasks.first.outputs.value }}" }
    run: echo "\${{ tasks.first.outputs.value }} and \${{ inputs.who }}"
inputs:
  who: { default: nobody }
`;

async function call(t: TestApp, token: string, method: 'POST' | 'GET', url: string, payload?: unknown) {
  const res = await t.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  return { status: res.statusCode, json: () => res.json() as Record<string, unknown>, body: res.body };
}

async function acquire(t: TestApp, token: string, waitMs = 0) {
  const res = await call(t, token, 'POST', '/api/v1/runner/acquire', { capacity: 1, waitMs });
  return res.status === 204 ? undefined : (res.json() as unknown as AcquireResponse);
}

function done(status: 'succeeded' | 'failed', outputs: Record<string, string> = {}, exitCode = 0) {
  const now = new Date().toISOString();
  return { status, exitCode, outputs, steps: [], startedAt: now, finishedAt: now };
}

async function getRun(t: TestApp, id: string): Promise<RunResult> {
  return (await call(t, t.adminToken, 'GET', `/api/v1/runs/${id}`)).json() as unknown as RunResult;
}

describe('runner protocol', () => {
  it('runs a two-task DAG: the dependent sees the first task outputs and the inputs, resolved', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner();
    const sub = await t.submit(TWO_TASKS, { who: 'alice' });
    expect(sub.status).toBe(201);
    const runId = sub.body.id as string;

    const offer1 = await acquire(t, token);
    expect(offer1?.task.name).toBe('first');
    expect((await call(t, token, 'POST', `/api/v1/runner/leases/${offer1!.lease}/start`, {})).status).toBe(
      200,
    );
    expect(await acquire(t, token)).toBeUndefined();
    const c1 = await call(
      t,
      token,
      'POST',
      `/api/v1/runner/leases/${offer1!.lease}/complete`,
      done('succeeded', { value: '42' }),
    );
    expect(c1.json()).toEqual({ status: 'succeeded' });

    const offer2 = await acquire(t, token);
    expect(offer2?.task.name).toBe('second');
    expect(offer2?.task.context.tasks).toEqual({ first: { outputs: { value: '42' }, result: 'succeeded' } });
    expect(offer2?.task.context.inputs).toEqual({ who: 'alice' });
    expect(offer2?.task.spec.steps[0]?.run).toBe(
      'echo "${{ tasks.first.outputs.value }} and ${{ inputs.who }}"',
    );
    await call(t, token, 'POST', `/api/v1/runner/leases/${offer2!.lease}/start`, {});
    await call(t, token, 'POST', `/api/v1/runner/leases/${offer2!.lease}/complete`, done('succeeded'));

    const run = await getRun(t, runId);
    expect(run.status).toBe('succeeded');
    expect(run.results.first?.outputs).toEqual({ value: '42' });
    expect(run.results.second?.attempt).toBe(1);
  });

  it('a complete with exitCode null (a step that never started) is stored as null, not coerced to 0', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner();
    const sub = await t.submit(TWO_TASKS);
    const offer = await acquire(t, token);
    await call(t, token, 'POST', `/api/v1/runner/leases/${offer!.lease}/start`, {});
    const now = new Date().toISOString();
    const res = await call(t, token, 'POST', `/api/v1/runner/leases/${offer!.lease}/complete`, {
      status: 'failed',
      reason: 'spawn_failed',
      exitCode: null,
      outputs: {},
      steps: [{ name: 'main', status: 'failed', exitCode: null }],
      startedAt: now,
      finishedAt: now,
    });
    expect(res.status).toBe(200);
    const run = await getRun(t, sub.body.id as string);
    expect(run.results.first).toMatchObject({ status: 'failed', reason: 'spawn_failed', exitCode: null });
  });

  it('a failing task skips its dependents and fails the run', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner();
    const sub = await t.submit(TWO_TASKS);
    const offer = await acquire(t, token);
    await call(t, token, 'POST', `/api/v1/runner/leases/${offer!.lease}/start`, {});
    await call(t, token, 'POST', `/api/v1/runner/leases/${offer!.lease}/complete`, done('failed', {}, 3));
    const run = await getRun(t, sub.body.id as string);
    expect(run.status).toBe('failed');
    expect(run.results.first).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(run.results.second).toMatchObject({ status: 'skipped', reason: 'dependency_failed' });
  });

  it('stores each log chunk once and answers a replayed complete with the first answer', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner();
    const sub = await t.submit('tasks: { only: { run: echo hi } }');
    const offer = await acquire(t, token);
    const lease = offer!.lease;
    await call(t, token, 'POST', `/api/v1/runner/leases/${lease}/start`, {});
    const chunks = [
      { seq: 0, offset: 0, data: 'hello ' },
      { seq: 1, offset: 6, data: 'wörld\n' },
    ];
    const a = await call(t, token, 'POST', `/api/v1/runner/leases/${lease}/logs`, { chunks });
    expect(a.json()).toMatchObject({ ackedSeq: 1 });
    const b = await call(t, token, 'POST', `/api/v1/runner/leases/${lease}/logs`, {
      chunks: [chunks[1], { seq: 2, offset: 13, data: 'bye\n' }],
    });
    expect(b.json()).toMatchObject({ ackedSeq: 2 });
    const first = await call(t, token, 'POST', `/api/v1/runner/leases/${lease}/complete`, done('succeeded'));
    const replay = await call(t, token, 'POST', `/api/v1/runner/leases/${lease}/complete`, done('failed'));
    expect(replay.status).toBe(200);
    expect(replay.json()).toEqual(first.json());
    const log = await call(t, t.adminToken, 'GET', `/api/v1/runs/${sub.body.id as string}/tasks/only/logs`);
    expect(log.body).toBe('hello wörld\nbye\n');
    expect((await getRun(t, sub.body.id as string)).results.only?.logBytes).toBe(17);
    const late = await call(t, token, 'POST', `/api/v1/runner/leases/${lease}/logs`, {
      chunks: [{ seq: 3, offset: 17, data: 'late' }],
    });
    expect(late.status).toBe(409);
  });

  it('refuses a log chunk over 1 MiB of UTF-8 with 413 naming the limit, and stores none of its batch', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner();
    const sub = await t.submit('tasks: { only: { run: echo hi } }');
    const lease = (await acquire(t, token))!.lease;
    await call(t, token, 'POST', `/api/v1/runner/leases/${lease}/start`, {});
    // 600,000 characters but 1,200,000 bytes: the limit is on bytes.
    const big = 'é'.repeat(600_000);
    const res = await call(t, token, 'POST', `/api/v1/runner/leases/${lease}/logs`, {
      chunks: [
        { seq: 0, offset: 0, data: 'fine\n' },
        { seq: 1, offset: 5, data: big },
      ],
    });
    expect(res.status).toBe(413);
    expect((res.json() as { error: { message: string } }).error.message).toBe(
      'log chunk 1 is 1200000 bytes; the limit is 1048576 bytes per chunk',
    );
    const log = await call(t, t.adminToken, 'GET', `/api/v1/runs/${sub.body.id as string}/tasks/only/logs`);
    expect(log.body).toBe('');
  });

  it('an offer not confirmed within the acknowledgement window returns to the queue and the stale lease gets 409', async () => {
    const t = await createTestApp({ ackWindowMs: 5_000 });
    const a = await t.registerRunner('a');
    const b = await t.registerRunner('b');
    await t.submit('tasks: { only: { run: echo hi } }');
    const lost = await acquire(t, a.token);
    expect(lost).toBeDefined();
    t.clock.advance(5_001);
    const swept = await t.store.leases.sweep(t.clock.now);
    expect(swept.requeued).toHaveLength(1);
    const again = await acquire(t, b.token);
    expect(again?.task.name).toBe('only');
    expect(again?.task.attempt).toBe(2);
    const stale = await call(t, a.token, 'POST', `/api/v1/runner/leases/${lost!.lease}/start`, {});
    expect(stale.status).toBe(409);
    expect(stale.json()).toMatchObject({ error: { code: 'lease_superseded' } });
  });

  it('a lease not renewed within its TTL is lost with a message naming the silence', async () => {
    const t = await createTestApp({ leaseTtlMs: 10_000, heartbeatIntervalMs: 2_000 });
    const { token } = await t.registerRunner();
    const sub = await t.submit(
      'tasks: { only: { run: sleep 600 }, after: { depends_on: only, run: "true" } }',
    );
    const offer = await acquire(t, token);
    await call(t, token, 'POST', `/api/v1/runner/leases/${offer!.lease}/start`, {});
    t.clock.advance(8_000);
    expect((await call(t, token, 'POST', `/api/v1/runner/leases/${offer!.lease}/heartbeat`, {})).status).toBe(
      200,
    );
    t.clock.advance(10_001);
    await t.store.leases.sweep(t.clock.now);
    const run = await getRun(t, sub.body.id as string);
    expect(run.results.only).toMatchObject({
      status: 'runner_lost',
      message: 'runner lost: no heartbeat for 10s',
    });
    expect(run.results.after?.status).toBe('skipped');
    expect(run.status).toBe('failed');
    const late = await call(
      t,
      token,
      'POST',
      `/api/v1/runner/leases/${offer!.lease}/complete`,
      done('succeeded'),
    );
    expect(late.json()).toMatchObject({ error: { code: 'lease_expired' } });
  });

  it("a runner cannot touch another runner's lease", async () => {
    const t = await createTestApp();
    const a = await t.registerRunner('a');
    const b = await t.registerRunner('b');
    await t.submit('tasks: { only: { run: echo hi } }');
    const offer = await acquire(t, a.token);
    await call(t, a.token, 'POST', `/api/v1/runner/leases/${offer!.lease}/start`, {});
    for (const path of ['heartbeat', 'complete', 'logs']) {
      const payload =
        path === 'complete'
          ? done('succeeded')
          : path === 'logs'
            ? { chunks: [{ seq: 0, offset: 0, data: 'x' }] }
            : {};
      const res = await call(t, b.token, 'POST', `/api/v1/runner/leases/${offer!.lease}/${path}`, payload);
      expect(res.status).toBe(404);
    }
    expect(
      (await call(t, a.token, 'POST', `/api/v1/runner/leases/${offer!.lease}/heartbeat`, {})).status,
    ).toBe(200);
  });

  it('a long-polling acquire is answered as soon as a task is queued', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner();
    const pending = acquire(t, token, 20_000);
    await t.submit('tasks: { only: { run: echo hi } }');
    const offer = await pending;
    expect(offer?.task.name).toBe('only');
  });

  it('offers a task only to a runner carrying every label it asks for', async () => {
    const t = await createTestApp();
    const plain = await t.registerRunner('plain', ['linux']);
    const gpu = await t.registerRunner('gpu', ['linux', 'gpu']);
    await t.submit('tasks: { train: { runs_on: [linux, gpu], run: "true" } }');
    expect(await acquire(t, plain.token)).toBeUndefined();
    expect((await acquire(t, gpu.token))?.task.name).toBe('train');
  });

  it('cancelling a run cancels queued tasks at once and signals running ones through the heartbeat', async () => {
    const t = await createTestApp();
    const { token } = await t.registerRunner();
    const sub = await t.submit('tasks: { a: { run: sleep 600 }, b: { run: sleep 600 } }');
    const offer = await acquire(t, token);
    await call(t, token, 'POST', `/api/v1/runner/leases/${offer!.lease}/start`, {});
    const cancel = await call(t, t.adminToken, 'POST', `/api/v1/runs/${sub.body.id as string}/cancel`, {});
    expect(cancel.status).toBe(200);
    const hb = await call(t, token, 'POST', `/api/v1/runner/leases/${offer!.lease}/heartbeat`, {});
    expect(hb.json()).toMatchObject({ cancel: true });
    await call(t, token, 'POST', `/api/v1/runner/leases/${offer!.lease}/complete`, {
      ...done('failed'),
      status: 'cancelled',
      reason: 'cancelled',
    });
    const run = await getRun(t, sub.body.id as string);
    expect(run.status).toBe('cancelled');
    expect(
      Object.values(run.results)
        .map((r) => r.status)
        .sort(),
    ).toEqual(['cancelled', 'cancelled']);
  });
});
