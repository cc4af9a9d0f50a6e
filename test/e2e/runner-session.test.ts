// The runner session (protocol/session.ts, docs/adr/0023) between real server and runner processes: offers
// pushed over one WebSocket, completions carrying the next acquisition, the same fencing and idempotency as the
// HTTP calls, a cut or restarted link, a runner on HTTP beside one on the session, and frames the server refuses.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ApiError, createClient } from '../../src/client/index.ts';
import type { AcquireResponse, CompleteBody } from '../../src/protocol/api.ts';
import { SESSION_PATH, SESSION_PROTOCOL, type ServerFrame } from '../../src/protocol/session.ts';
import {
  poll,
  registerRunner,
  restartFaultServer,
  startFaultServer,
  startRunner,
  uniqueMarker,
  waitForRunEnd,
  waitForTask,
  type RegisteredRunner,
} from '../helpers/fault-cluster.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { expectInvariants, storedAttempts } from '../helpers/invariants.ts';
import { processesWithArg } from '../helpers/processes.ts';

const HEARTBEAT_MS = 500;
const TTL_MS = 4_000;
/** The server's default request body limit, which is also its session frame limit. */
const BODY_LIMIT_BYTES = 8 * 1024 * 1024;

/** Turns the runner session on in a registered runner's config (config key `session`). */
function withSession(r: RegisteredRunner): RegisteredRunner {
  const config = JSON.parse(readFileSync(r.config, 'utf8')) as Record<string, unknown>;
  writeFileSync(r.config, JSON.stringify({ ...config, session: true }));
  return r;
}

function tokenOf(r: RegisteredRunner): string {
  return (JSON.parse(readFileSync(r.config, 'utf8')) as { token: string }).token;
}

/** A raw session for the frame-level tests: send frames, read the answers in order. */
async function rawSession(url: string, token: string) {
  const ws = new WebSocket(new URL(SESSION_PATH, url.replace(/^http/, 'ws')), [SESSION_PROTOCOL], {
    headers: { authorization: `Bearer ${token}` },
  });
  const frames: ServerFrame[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d) => {
    frames.push(JSON.parse(String(d)) as ServerFrame);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    closed,
    send: (frame: unknown) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    /** The first answer (in arrival order) matching `match`. */
    async answer(match: (f: ServerFrame) => boolean): Promise<ServerFrame> {
      for (;;) {
        const f = frames.find(match);
        if (f) return f;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

/** The upgrade's HTTP answer when the server refuses to open a session. */
function refusedUpgrade(url: string, headers: Record<string, string>, protocols: string[]) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const ws = new WebSocket(new URL(SESSION_PATH, url.replace(/^http/, 'ws')), protocols, { headers });
    ws.once('open', () => reject(new Error('the session opened')));
    ws.once('error', () => undefined);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
}

function completeBody(): CompleteBody {
  const now = new Date().toISOString();
  return {
    status: 'succeeded',
    exitCode: 0,
    outputs: {},
    confidential: [],
    steps: [],
    startedAt: now,
    finishedAt: now,
  };
}

describe('runner session', () => {
  it('offers are pushed and completions carry the next acquisition: no HTTP acquire, start, heartbeat or complete', async () => {
    const server = await startFaultServer({ heartbeatMs: HEARTBEAT_MS, leaseTtlMs: TTL_MS });
    const proxy = await startFaultProxy({ target: server.url });
    try {
      const runner = await startRunner(
        withSession(await registerRunner(server, 'framed', { serverUrl: proxy.url })),
      );
      await poll(() => /runner session open/.test(runner.output()), 'the session to open');
      const tasks = Array.from({ length: 6 }, (_, i) => `  t${i}:\n    run: echo "task ${i}"\n`).join('');
      const run = await server.client.submitRun(`tasks:\n${tasks}`);
      const result = await waitForRunEnd(server.client, run.id);
      expect(result.status).toBe('succeeded');
      for (let i = 0; i < 6; i++) {
        expect(result.results[`t${i}`]).toMatchObject({ status: 'succeeded', attempt: 1, runner: 'framed' });
        expect(await server.client.taskLog(run.id, `t${i}`)).toBe(`task ${i}\n`);
      }
      const paths = proxy.exchanges.map((x) => x.path);
      if (paths.filter((p) => p === SESSION_PATH).length !== 1) console.log(runner.output());
      expect(paths.filter((p) => p === SESSION_PATH)).toHaveLength(1);
      expect(
        paths.filter((p) => /\/acquire$|\/leases\/[0-9a-f]{32}\/(start|heartbeat|complete)$/.test(p)),
      ).toEqual([]);
      await expectInvariants({
        database: server.database,
        client: server.client,
        serverOutput: server.output(),
      });
    } finally {
      await proxy.close();
    }
  });

  it('a duplicate complete frame gets the first answer, and a stale lease is refused as over HTTP', async () => {
    const server = await startFaultServer({ heartbeatMs: HEARTBEAT_MS, leaseTtlMs: TTL_MS, sweepMs: 500 });
    const reg = await registerRunner(server, 'raw');
    const token = tokenOf(reg);
    const http = createClient({ baseUrl: server.url, token });
    const s = await rawSession(server.url, token);
    try {
      const run = await server.client.submitRun(`
tasks:
  flaky:
    retries: 1
    run: echo hi
`);
      // Attempt 1: offered over the session, started, then never renewed: the server loses it after the TTL.
      s.send({ t: 'acquire', id: 1, waitMs: 10_000 });
      const first = (await s.answer((f) => f.id === 1)) as { t: 'offer'; offer: AcquireResponse };
      expect(first.t).toBe('offer');
      expect(first.offer.task.attempt).toBe(1);
      s.send({ t: 'start', id: 2, lease: first.offer.lease });
      expect(await s.answer((f) => f.id === 2)).toMatchObject({ t: 'ok', body: { cancel: false } });
      const taskId = first.offer.task.taskId;
      await poll(
        () => storedAttempts(server.database, taskId)[0]?.state === 'lost',
        'attempt 1 to be lost',
        TTL_MS + 5_000,
      );
      // Attempt 2 on the same session; the fencing token of attempt 1 is refused, in HTTP's own terms.
      s.send({ t: 'acquire', id: 3, waitMs: 10_000 });
      const second = (await s.answer((f) => f.id === 3)) as { t: 'offer'; offer: AcquireResponse };
      expect(second.offer.task.attempt).toBe(2);
      s.send({ t: 'start', id: 4, lease: second.offer.lease });
      expect(await s.answer((f) => f.id === 4)).toMatchObject({ t: 'ok' });
      s.send({ t: 'heartbeat', id: 5, lease: first.offer.lease });
      const stale = (await s.answer((f) => f.id === 5)) as Extract<ServerFrame, { t: 'error' }>;
      const overHttp = await http.heartbeat(first.offer.lease).then(
        () => undefined,
        (err: unknown) => err as ApiError,
      );
      expect(overHttp).toBeInstanceOf(ApiError);
      expect(stale).toMatchObject({ t: 'error', status: overHttp!.status, error: { code: overHttp!.code } });
      expect(stale.status).toBe(409);
      s.send({ t: 'complete', id: 6, lease: first.offer.lease, body: completeBody() });
      expect(await s.answer((f) => f.id === 6)).toMatchObject({ t: 'error', status: 409 });
      // The live attempt completes; the same complete again answers the first answer, and nothing changes.
      s.send({ t: 'complete', id: 7, lease: second.offer.lease, body: completeBody() });
      const done = await s.answer((f) => f.id === 7);
      s.send({ t: 'complete', id: 8, lease: second.offer.lease, body: completeBody() });
      const again = await s.answer((f) => f.id === 8);
      expect(done).toMatchObject({ t: 'ok', body: { status: 'succeeded' } });
      expect({ ...again, id: 7 }).toEqual(done);
      const result = await waitForRunEnd(server.client, run.id);
      expect(result.results['flaky']).toMatchObject({ status: 'succeeded', attempt: 2 });
      expect(storedAttempts(server.database, taskId).map((a) => a.state)).toEqual(['lost', 'finished']);
      expect(s.ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      s.ws.terminate();
    }
  });

  it('a completion that travels with an acquisition is answered, then the next offer follows on the same session', async () => {
    const server = await startFaultServer({ heartbeatMs: HEARTBEAT_MS, leaseTtlMs: TTL_MS });
    const reg = await registerRunner(server, 'chained');
    const s = await rawSession(server.url, tokenOf(reg));
    try {
      const run = await server.client.submitRun(`
tasks:
  a:
    run: echo a
  b:
    depends_on: [a]
    run: echo b
`);
      s.send({ t: 'acquire', id: 1, waitMs: 10_000 });
      const a = (await s.answer((f) => f.id === 1)) as { t: 'offer'; offer: AcquireResponse };
      expect(a.offer.task.name).toBe('a');
      s.send({ t: 'start', id: 2, lease: a.offer.lease });
      await s.answer((f) => f.id === 2);
      // b is queued only once a completes: the acquisition in the complete frame is what gets it.
      s.send({
        t: 'complete',
        id: 3,
        lease: a.offer.lease,
        body: completeBody(),
        next: { id: 4, waitMs: 10_000 },
      });
      expect(await s.answer((f) => f.id === 3)).toMatchObject({ t: 'ok', body: { status: 'succeeded' } });
      const b = (await s.answer((f) => f.id === 4)) as { t: 'offer'; offer: AcquireResponse };
      expect(b).toMatchObject({ t: 'offer', offer: { task: { name: 'b', attempt: 1 } } });
      s.send({ t: 'start', id: 5, lease: b.offer.lease });
      await s.answer((f) => f.id === 5);
      // A refused complete answers its travelling acquisition `idle`: the caller acquires on its own.
      s.send({
        t: 'complete',
        id: 6,
        lease: a.offer.lease.replace(/^./, (c) => (c === '0' ? '1' : '0')),
        body: completeBody(),
        next: { id: 7, waitMs: 10_000 },
      });
      expect(await s.answer((f) => f.id === 6)).toMatchObject({ t: 'error' });
      expect(await s.answer((f) => f.id === 7)).toEqual({ t: 'idle', id: 7 });
      s.send({ t: 'complete', id: 8, lease: b.offer.lease, body: completeBody() });
      await s.answer((f) => f.id === 8);
      expect((await waitForRunEnd(server.client, run.id)).status).toBe('succeeded');
    } finally {
      s.ws.terminate();
    }
  });

  it('bad frames are answered with an error naming the problem and the limit, and the connection is closed', async () => {
    const server = await startFaultServer({ heartbeatMs: HEARTBEAT_MS, leaseTtlMs: TTL_MS });
    const reg = await registerRunner(server, 'rude');
    const token = tokenOf(reg);

    const big = await rawSession(server.url, token);
    big.send(JSON.stringify({ t: 'heartbeat', id: 1, lease: 'x'.repeat(BODY_LIMIT_BYTES) }));
    const tooBig = await big.answer((f) => f.t === 'error');
    expect(tooBig).toMatchObject({ status: 413, error: { code: 'payload_too_large' } });
    expect(tooBig.t === 'error' && tooBig.error.message).toMatch(/the limit is 8388608 bytes per frame/);
    expect((await big.closed).code).toBe(1009);

    const garbled = await rawSession(server.url, token);
    garbled.send('{"t": "acquire", ');
    expect(await garbled.answer((f) => f.t === 'error')).toMatchObject({
      status: 400,
      error: { code: 'bad_request', message: expect.stringMatching(/not JSON/) },
    });
    expect((await garbled.closed).code).toBe(1008);

    const unknown = await rawSession(server.url, token);
    unknown.send({ t: 'teleport', id: 1 });
    expect(await unknown.answer((f) => f.t === 'error')).toMatchObject({
      status: 400,
      error: {
        message: expect.stringMatching(
          /unknown session frame type "teleport"; this server knows acquire, start/,
        ),
      },
    });
    expect((await unknown.closed).code).toBe(1008);

    const shapeless = await rawSession(server.url, token);
    shapeless.send({ t: 'heartbeat', id: 1, lease: 'not-a-lease' });
    expect(await shapeless.answer((f) => f.t === 'error')).toMatchObject({
      error: { message: expect.stringMatching(/invalid 'heartbeat' frame: \/lease/) },
    });
    expect((await shapeless.closed).code).toBe(1008);

    expect(await refusedUpgrade(server.url, {}, [SESSION_PROTOCOL])).toMatchObject({ status: 401 });
    expect(
      await refusedUpgrade(server.url, { authorization: 'Bearer nope' }, [SESSION_PROTOCOL]),
    ).toMatchObject({
      status: 401,
    });
    const otherVersion = await refusedUpgrade(server.url, { authorization: `Bearer ${token}` }, [
      'baton.session.v9',
    ]);
    expect(otherVersion.status).toBe(400);
    expect(otherVersion.body).toMatch(/baton\.session\.v1/);
    // The server took no harm: a well-formed session still works.
    const fine = await rawSession(server.url, token);
    fine.send({ t: 'acquire', id: 1, waitMs: 0 });
    expect(await fine.answer((f) => f.id === 1)).toEqual({ t: 'idle', id: 1 });
    fine.ws.terminate();
  });

  it('a session cut for longer than the lease: the runner kills its attempt first, the task is retried, never two attempts at once', async () => {
    const server = await startFaultServer({ heartbeatMs: HEARTBEAT_MS, leaseTtlMs: TTL_MS });
    const proxy = await startFaultProxy({ target: server.url });
    try {
      const runner = await startRunner(
        withSession(await registerRunner(server, 'cut', { serverUrl: proxy.url })),
      );
      await poll(() => /runner session open/.test(runner.output()), 'the session to open');
      const marker = uniqueMarker();
      const run = await server.client.submitRun(`
tasks:
  stranded:
    retries: 1
    run: |
      if [ "$BATON_ATTEMPT" = 1 ]; then sleep ${marker} & sleep ${marker}; fi
      echo "attempt $BATON_ATTEMPT done"
`);
      const task = await waitForTask(
        server.client,
        run.id,
        'stranded',
        (t) => t.status === 'running',
        'to run',
      );
      await poll(() => processesWithArg(marker).length === 2, 'both sleeps to run');
      const cutAt = performance.now();
      proxy.setMode('blackhole');
      let selfKilledMs: number | undefined;
      const lostMs = await poll(
        () => {
          if (selfKilledMs === undefined && processesWithArg(marker).length === 0)
            selfKilledMs = performance.now() - cutAt;
          return storedAttempts(server.database, task.id)[0]?.state === 'lost';
        },
        'the server to mark attempt 1 lost',
        TTL_MS + 4_000,
        20,
      ).then(() => performance.now() - cutAt);
      await poll(
        () => processesWithArg(marker).length === 0,
        'the runner to kill its own attempt',
        5_000,
        20,
      );
      selfKilledMs ??= performance.now() - cutAt;
      expect(selfKilledMs).toBeLessThan(lostMs);
      proxy.setMode('pass');
      const result = await waitForRunEnd(server.client, run.id);
      expect(result.results['stranded']).toMatchObject({ status: 'succeeded', attempt: 2, runner: 'cut' });
      expect(storedAttempts(server.database, task.id).map((a) => a.state)).toEqual(['lost', 'finished']);
      await poll(
        () => /not reporting a result/.test(runner.output()),
        'the runner to give attempt 1 up',
        10_000,
      );
      await expectInvariants({
        database: server.database,
        client: server.client,
        serverOutput: server.output(),
        markers: [marker],
      });
    } finally {
      await proxy.close();
    }
  });

  it('after a server restart the runner opens a new session and takes the next task', async () => {
    const first = await startFaultServer({ heartbeatMs: HEARTBEAT_MS, leaseTtlMs: TTL_MS });
    const runner = await startRunner(withSession(await registerRunner(first, 'loyal')));
    await poll(() => /runner session open/.test(runner.output()), 'the session to open');
    const before = await first.client.submitRun('tasks:\n  one:\n    run: echo one\n');
    expect((await waitForRunEnd(first.client, before.id)).status).toBe('succeeded');
    process.kill(first.proc.pid, 'SIGKILL');
    await first.proc.exited;
    await poll(() => /runner session lost/.test(runner.output()), 'the runner to see the session drop');
    const second = await restartFaultServer(first);
    await poll(
      () => (runner.output().match(/runner session open/g) ?? []).length >= 2,
      'the session to open again',
      15_000,
    );
    const after = await second.client.submitRun('tasks:\n  two:\n    run: echo two\n');
    const result = await waitForRunEnd(second.client, after.id);
    expect(result.results['two']).toMatchObject({ status: 'succeeded', attempt: 1, runner: 'loyal' });
    expect(await second.client.taskLog(after.id, 'two')).toBe('two\n');
  });

  it('a runner on HTTP requests and a runner on the session share one run', async () => {
    const server = await startFaultServer({ heartbeatMs: HEARTBEAT_MS, leaseTtlMs: TTL_MS });
    const framed = await startRunner(withSession(await registerRunner(server, 'framed')));
    await startRunner(await registerRunner(server, 'classic'));
    await poll(() => /runner session open/.test(framed.output()), 'the session to open');
    const tasks = Array.from(
      { length: 8 },
      (_, i) => `  t${i}:\n    run: sleep 0.3; echo "task ${i}"\n`,
    ).join('');
    const run = await server.client.submitRun(`tasks:\n${tasks}`);
    const result = await waitForRunEnd(server.client, run.id);
    expect(result.status).toBe('succeeded');
    const runners = new Set(Object.values(result.results).map((r) => r.runner));
    expect(runners).toEqual(new Set(['framed', 'classic']));
    for (const r of Object.values(result.results)) expect(r.attempt).toBe(1);
    await expectInvariants({
      database: server.database,
      client: server.client,
      serverOutput: server.output(),
    });
  });
});
