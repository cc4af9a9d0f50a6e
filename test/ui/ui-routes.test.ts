// The server side of the UI without a browser: the session cookie, its CSRF guard, the workflow text for
// re-runs, and the reasons a queued task is not taken.
import { describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import type { PendingExplanation } from '../../src/protocol/api.ts';

const ORIGIN = 'http://localhost:80';

async function signIn(t: TestApp): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/session',
    payload: { token: t.adminToken },
  });
  expect(res.statusCode).toBe(200);
  const setCookie = String(res.headers['set-cookie']);
  expect(setCookie).toMatch(/^baton_session=baton_u_\S+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
  return setCookie.split(';')[0]!;
}

async function pending(t: TestApp, runId: string, task: string) {
  const res = await t.app.inject({
    method: 'GET',
    url: `/api/v1/runs/${runId}/tasks/${task}/pending`,
    headers: { authorization: `Bearer ${t.adminToken}` },
  });
  expect(res.statusCode).toBe(200);
  return res.json() as PendingExplanation;
}

const codes = (p: Awaited<ReturnType<typeof pending>>, name: string) =>
  p.runners.find((r) => r.name === name)?.reasons.map((r) => r.code);

describe('UI routes', () => {
  it('a session cookie from a valid user token authenticates user routes, and sign-out clears it', async () => {
    const t = await createTestApp();
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { token: 'baton_u_nope' },
    });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['set-cookie']).toBeUndefined();
    const cookie = await signIn(t);
    const runs = await t.app.inject({ method: 'GET', url: '/api/v1/runs', headers: { cookie } });
    expect(runs.statusCode).toBe(200);
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } });
    expect(me.json()).toMatchObject({ signedIn: true, name: 'admin' });
    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^baton_session=; .*Max-Age=0/);
  });

  it('a change made with the session cookie must come from the same origin', async () => {
    const t = await createTestApp();
    const cookie = await signIn(t);
    const workflow = 'tasks:\n  a:\n    run: echo a\n';
    const crossSite = await t.app.inject({
      method: 'POST',
      url: '/api/v1/runs',
      headers: { cookie, origin: 'https://evil.example' },
      payload: { workflow },
    });
    expect(crossSite.statusCode).toBe(403);
    const noOrigin = await t.app.inject({
      method: 'POST',
      url: '/api/v1/runs',
      headers: { cookie },
      payload: { workflow },
    });
    expect(noOrigin.statusCode).toBe(403);
    const same = await t.app.inject({
      method: 'POST',
      url: '/api/v1/runs',
      headers: { cookie, origin: ORIGIN, host: 'localhost:80' },
      payload: { workflow },
    });
    expect(same.statusCode).toBe(201);
  });

  it('the session cookie never authenticates a runner route', async () => {
    const t = await createTestApp();
    const cookie = await signIn(t);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/runner/acquire',
      headers: { cookie, origin: ORIGIN, host: 'localhost:80' },
      payload: { capacity: 1, waitMs: 0 },
    });
    expect(res.statusCode).toBe(401);
  });

  it('returns the workflow text a run was submitted with, for a re-run', async () => {
    const t = await createTestApp();
    const workflow = 'name: again\ninputs:\n  who: { default: world }\ntasks:\n  a:\n    run: echo hi\n';
    const run = await t.submit(workflow, { who: 'you' });
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/runs/${String(run.body.id)}/workflow`,
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(res.json()).toMatchObject({ name: 'again', workflow, inputs: { who: 'you' } });
  });

  it('explains per runner why a queued task is not taken: labels, forwarding, disabled, offline, capacity', async () => {
    const t = await createTestApp();
    const g1 = await t.registerRunner('g1', ['gpu']);
    await t.registerRunner('plain', ['linux']);
    await t.registerRunner('gone', ['gpu']);
    const dis = await t.registerRunner('dis', ['gpu']);
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/runners/${dis.runnerId}/disable`,
      headers: { authorization: `Bearer ${t.adminToken}` },
    });

    // g1 takes the first gpu task and is then at capacity (1) for the second.
    await t.submit('name: first\ntasks:\n  a:\n    runs_on: [gpu]\n    run: sleep 1\n');
    const acquired = await t.app.inject({
      method: 'POST',
      url: '/api/v1/runner/acquire',
      headers: { authorization: `Bearer ${g1.token}` },
      payload: { capacity: 1, waitMs: 0 },
    });
    expect(acquired.statusCode).toBe(200);
    const second = await t.submit('name: second\ntasks:\n  b:\n    runs_on: [gpu]\n    run: echo b\n');

    // `gone` last polled long ago; g1 polled just now.
    t.clock.advance(3 * t.ctx.config.maxLongPollMs);
    await t.store.credentials.touchRunner(g1.runnerId, t.clock.now);

    const p = await pending(t, String(second.body.id), 'b');
    expect(p.status).toBe('queued');
    expect(codes(p, 'g1')).toEqual(['at_capacity']);
    expect(codes(p, 'plain')).toEqual(['offline', 'tag_mismatch']);
    // One reason decides per runner, with a sentence; the others follow it in the list.
    expect(p.runners.find((r) => r.name === 'plain')!.reason).toEqual({
      code: 'offline',
      message: expect.stringMatching(
        /^runner 'plain' has not been heard from since .* it is offered no task$/,
      ),
    });
    expect(p.runners.find((r) => r.name === 'plain')!.reasons[1]).toEqual({
      code: 'tag_mismatch',
      detail: 'labels_missing',
      message: "runner 'plain' lacks label gpu (the task needs all of gpu)",
    });
    expect(codes(p, 'gone')).toEqual(['offline']);
    expect(codes(p, 'dis')).toEqual(['disabled']);
    expect(p.summary).toContain('no runner can take this task now');

    const forwarded = await t.submit(
      'taskGroup:\n  - name: only\n    type: os_exec\n    spec: { command: "true" }\n    forward: { to: beta }\n',
    );
    const f = await pending(t, String(forwarded.body.id), 'only');
    expect(codes(f, 'g1')).toEqual(expect.arrayContaining(['tag_mismatch']));

    const either = await t.submit(
      'name: either\ntasks:\n  e:\n    runs_on: { any: [arm, gpu] }\n    run: echo e\n',
    );
    const e = await pending(t, String(either.body.id), 'e');
    expect(e.runsOnAny).toEqual(['arm', 'gpu']);
    expect(e.runners.find((r) => r.name === 'plain')!.reasons).toContainEqual({
      code: 'tag_mismatch',
      detail: 'labels_missing',
      message: "runner 'plain' carries none of arm, gpu (the task needs any one of them)",
    });
    expect(codes(e, 'g1')).not.toContain('tag_mismatch');
  });

  it('a pending task waits for its dependencies, and says which', async () => {
    const t = await createTestApp();
    const run = await t.submit(
      'name: dag\ntasks:\n  a:\n    run: echo a\n  b:\n    depends_on: [a]\n    run: echo b\n',
    );
    const p = await pending(t, String(run.body.id), 'b');
    expect(p.status).toBe('pending');
    expect(p.summary).toBe("waiting for 'a' (queued) to finish");
  });
});
