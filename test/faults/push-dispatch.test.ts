// Issue 15 (host side): a Baton server dispatches a task whose `runs_on` names a push runner by POSTing an
// Automn `/api/run` request to it and storing what streams back. The runner here is a small HTTP server of the
// test that answers with the frames a real Automn runner sent (runner-run-*.json, recorded upstream); the server
// is a real `baton server` process. Covered: the request's shape and headers, the log stored from the frames,
// the result mapped to status, exit code and the `returnData` output, a stream that ends without a result
// (`runner_lost`, retried when the task declares it), and cancel closing the stream.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/cluster.ts';
import { poll, waitForRunEnd, waitForTask } from '../helpers/fault-cluster.ts';

const FIXTURES = new URL('../../../shared/fixtures/automn', import.meta.url).pathname;
const SECRET = 'push-dispatch-secret-0001';

interface Frame {
  type: string;
  line?: string;
  data?: Record<string, unknown>;
}

function frames(file: string): Frame[] {
  return (JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as { response: { frames: Frame[] } })
    .response.frames;
}

interface Answer {
  frames: Frame[];
  /** true: end the stream; false: hold it open; 'die': cut the connection after the frames. */
  end: boolean | 'die';
}

interface Received {
  headers: IncomingMessage['headers'];
  body: {
    runId: string;
    script: {
      name: string;
      language: string;
      code: string;
      timeout: number;
      variables: Array<{ envName: string; value: string }>;
    };
    reqBody: Record<string, string>;
  };
  closed: Promise<void>;
}

/** A stand-in push runner: each /api/run gets the next answer in `answers` (frames to send, and whether to end). */
async function standIn(answers: Answer[]) {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
      received.push({ headers: req.headers, body: JSON.parse(text) as Received['body'], closed });
      const answer = answers.shift() ?? { frames: frames('runner-run-minimal.json'), end: true };
      res.writeHead(200, { 'content-type': 'application/jsonl; charset=utf-8' });
      for (const f of answer.frames) res.write(`${JSON.stringify(f)}\n`);
      // A runner that dies mid-run: its connection is cut, no end of the chunked body.
      if (answer.end === 'die') setImmediate(() => res.socket?.destroy());
      else if (answer.end) res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}/api/run`,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let baton: ServerProcess | undefined;
let stand: Awaited<ReturnType<typeof standIn>> | undefined;
afterEach(async () => {
  await stand?.close();
  stand = undefined;
});

async function setUp(answers: Answer[]) {
  baton = await startServerProcess();
  stand = await standIn(answers);
  const api = (path: string, body: unknown, auth = true) =>
    fetch(baton!.url + path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(auth ? { authorization: `Bearer ${baton!.adminToken}` } : {}),
      },
      body: JSON.stringify(body),
    });
  expect(
    (await api('/api/settings/runner-hosts', { id: 'p1', name: 'push-one', secret: SECRET })).status,
  ).toBe(201);
  const reg = await api(
    '/api/settings/runner-hosts/p1/register',
    {
      secret: SECRET,
      endpoint: stand.endpoint,
      statusMessage: 'Runner heartbeat (startup)',
      maxConcurrency: 2,
    },
    false,
  );
  expect(reg.status).toBe(200);
  // A runner heartbeats by registering again; after a lost dispatch the server waits for one before it sends it more.
  const heartbeat = async () =>
    expect(
      (
        await api(
          '/api/settings/runner-hosts/p1/register',
          { secret: SECRET, endpoint: stand!.endpoint, statusMessage: 'Runner heartbeat', maxConcurrency: 2 },
          false,
        )
      ).status,
    ).toBe(200);
  return { server: baton, stand, api, heartbeat };
}

describe('push dispatch to an Automn-compatible runner', () => {
  it('sends the fixture-shaped request and maps the recorded shell result: log, exit code, returnData', async () => {
    const { server, stand } = await setUp([{ frames: frames('runner-run-shell.json'), end: true }]);
    const run = await server.client.submitRun(
      `
env:
  GREETING: hello-var
tasks:
  hello:
    runs_on: [push-one]
    run: |
      echo line-1
      echo line-2
`,
      { inputs: {} },
    );
    const end = await waitForRunEnd(server.client, run.id);
    expect(end.status).toBe('succeeded');
    const t = end.results.hello!;
    expect(t).toMatchObject({ status: 'succeeded', exitCode: 0, attempt: 1 });
    expect(t.outputs).toEqual({ returnData: '{"ok":true,"n":42}' });

    expect(stand.received).toHaveLength(1);
    const req = stand.received[0]!;
    expect(req.headers['x-automn-runner-id']).toBe('p1');
    expect(req.headers['x-automn-runner-name']).toBe('push-one');
    expect(req.headers['x-automn-runner-secret']).toBe(SECRET);
    expect(req.headers['content-type']).toBe('application/json');
    const want = JSON.parse(readFileSync(join(FIXTURES, 'host-dispatch-request.json'), 'utf8')) as {
      request: { body: { runId: string; script: Record<string, unknown>; reqBody: unknown } };
    };
    expect(Object.keys(req.body).sort()).toEqual(Object.keys(want.request.body).sort());
    expect(typeof req.body.runId).toBe('string');
    for (const k of [
      'id',
      'name',
      'endpoint',
      'language',
      'code',
      'timeout',
      'runner_host_id',
      'variables',
      'jobContext',
    ])
      expect(typeof (req.body.script as unknown as Record<string, unknown>)[k]).toBe(
        typeof want.request.body.script[k],
      );
    expect(req.body.script.language).toBe('shell');
    expect(req.body.script.code).toContain('echo line-1\necho line-2');
    expect(req.body.script.variables).toContainEqual({ envName: 'GREETING', value: 'hello-var' });
    expect(req.body.reqBody).toEqual({});

    // The log is the frames' lines, in order, exactly once.
    const lines = frames('runner-run-shell.json')
      .filter((f) => f.type === 'log')
      .map((f) => f.line)
      .join('');
    expect(await server.client.taskLog(run.id, 'hello')).toBe(lines);
  });

  it('a non-zero exit fails the task with that code; the runner timing the script out is timed_out', async () => {
    const { server } = await setUp([
      { frames: frames('runner-run-exit-nonzero.json'), end: true },
      { frames: frames('runner-run-timeout.json'), end: true },
    ]);
    const run = await server.client.submitRun(`
tasks:
  fails:
    runs_on: [push-one]
    run: exit 3
  slow:
    runs_on: [push-one]
    depends_on: [fails]
    if: always()
    timeout: 1s
    run: sleep 5
`);
    const end = await waitForRunEnd(server.client, run.id);
    expect(end.results.fails).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(end.results.slow).toMatchObject({ status: 'timed_out' });
    expect(await server.client.taskLog(run.id, 'slow')).toBe('tick-1\ntick-2\ntick-3\nTimeout exceeded.\n');
  });

  it('a stream that ends without a result is runner_lost, and the declared retry runs again after the runner heartbeats again', async () => {
    const cut = frames('runner-run-shell.json').filter((f) => f.type === 'log');
    const { server, stand, heartbeat } = await setUp([
      { frames: cut, end: true },
      { frames: frames('runner-run-shell.json'), end: true },
    ]);
    const run = await server.client.submitRun(`
tasks:
  work:
    runs_on: [push-one]
    retries: { max: 1, backoff: 1s, on: [runner_lost] }
    run: echo work
`);
    // Lost: the runner gets nothing more until it heartbeats again (a dead one would not).
    await poll(
      async () =>
        stand.received.length === 1 && (await server.client.getRun(run.id)).results.work?.status === 'queued',
      'attempt 1 to be lost',
    );
    expect(stand.received).toHaveLength(1);
    await heartbeat();
    const end = await waitForRunEnd(server.client, run.id);
    expect(end.results.work).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect(stand.received).toHaveLength(2);
    // The lost attempt's log is kept as it arrived.
    expect(await server.client.taskLog(run.id, 'work', 1)).toBe(cut.map((f) => f.line).join(''));
  });

  it('without declared retries a lost stream ends the task runner_lost', async () => {
    const cut = frames('runner-run-shell.json').filter((f) => f.type === 'log');
    const { server } = await setUp([{ frames: cut, end: true }]);
    const run = await server.client.submitRun(`
tasks:
  work:
    runs_on: [push-one]
    run: echo work
`);
    const end = await waitForRunEnd(server.client, run.id);
    expect(end.results.work).toMatchObject({ status: 'runner_lost', attempt: 1 });
  });

  it('cancelling the task closes the stream to the runner', async () => {
    const first = frames('runner-run-timeout.json').slice(0, 1);
    const { server, stand } = await setUp([{ frames: first, end: false }]);
    const run = await server.client.submitRun(`
tasks:
  long:
    runs_on: [push-one]
    run: sleep 100
`);
    await waitForTask(server.client, run.id, 'long', (t) => t.status === 'running', 'to run');
    await poll(() => stand.received.length === 1, 'the runner to get the request');
    await poll(
      async () => (await server.client.taskLog(run.id, 'long')) === 'tick-1\n',
      'the first log line',
    );
    await server.client.cancelRun(run.id);
    await stand.received[0]!.closed;
    const end = await waitForRunEnd(server.client, run.id);
    expect(end.results.long).toMatchObject({ status: 'cancelled' });
  });

  it('takes only tasks that ask for it, and fails one that needs a pull runner with the reason', async () => {
    const { server, stand } = await setUp([{ frames: frames('runner-run-minimal.json'), end: true }]);
    const run = await server.client.submitRun(`
inputs:
  who: { default: world }
tasks:
  free:
    run: echo for a pull runner
  pushed:
    runs_on: [push-one]
    run: echo pushed
  templated:
    runs_on: [push-one]
    run: echo \${{ inputs.who }}
`);
    await waitForTask(server.client, run.id, 'pushed', (t) => t.status === 'succeeded', 'to succeed');
    const templated = await waitForTask(
      server.client,
      run.id,
      'templated',
      (t) => t.status === 'failed',
      'to fail',
    );
    expect(templated.message).toBe(
      "push runner 'push-one' cannot run task 'templated': the expression in step 'templated' needs a pull runner",
    );
    // Only `pushed` reached the runner; the task without runs_on waits for a pull runner.
    expect(stand.received.map((r) => r.body.script.name)).toEqual(['pushed']);
    expect((await server.client.getRun(run.id)).results.free!.status).toBe('queued');
    await server.client.cancelRun(run.id);
  });

  it('a runner that dies mid-run (connection cut) is runner_lost at once and the retry goes to it once it heartbeats again', async () => {
    const cut = frames('runner-run-timeout.json').slice(0, 2);
    const { server, stand, heartbeat } = await setUp([
      { frames: cut, end: 'die' },
      { frames: frames('runner-run-minimal.json'), end: true },
    ]);
    const run = await server.client.submitRun(`
tasks:
  work:
    runs_on: [push-one]
    retries: { max: 1, backoff: 1s, on: [runner_lost] }
    run: echo work
`);
    // Lost: the runner gets nothing more until it heartbeats again (a dead one would not).
    await poll(
      async () =>
        stand.received.length === 1 && (await server.client.getRun(run.id)).results.work?.status === 'queued',
      'attempt 1 to be lost',
    );
    expect(stand.received).toHaveLength(1);
    await heartbeat();
    const end = await waitForRunEnd(server.client, run.id);
    expect(end.results.work).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect(stand.received).toHaveLength(2);
    expect(await server.client.taskLog(run.id, 'work', 1)).toBe('tick-1\ntick-2\n');
  });

  it('after a secret rotation nothing is sent until the runner registers with the new secret, which is then sent', async () => {
    const { server, stand, api } = await setUp([{ frames: frames('runner-run-minimal.json'), end: true }]);
    const rotated = await api('/api/settings/runner-hosts/p1/rotate-secret', {
      secret: 'push-rotated-secret-02',
    });
    expect(rotated.status).toBe(200);
    const run = await server.client.submitRun(`
tasks:
  after:
    runs_on: [push-one]
    run: echo after
`);
    // The rotation dropped the endpoint: the task waits, queued, for the runner to come back.
    await waitForTask(server.client, run.id, 'after', (t) => t.status === 'queued', 'to be queued');
    expect(stand.received).toHaveLength(0);
    const old = await api(
      '/api/settings/runner-hosts/p1/register',
      { secret: SECRET, endpoint: stand.endpoint },
      false,
    );
    expect(old.status).toBe(401);
    const again = await api(
      '/api/settings/runner-hosts/p1/register',
      { secret: 'push-rotated-secret-02', endpoint: stand.endpoint },
      false,
    );
    expect(again.status).toBe(200);
    const end = await waitForRunEnd(server.client, run.id);
    expect(end.results.after!.status).toBe('succeeded');
    expect(stand.received.map((r) => r.headers['x-automn-runner-secret'])).toEqual([
      'push-rotated-secret-02',
    ]);
  });
});
