// Issue 15 end to end: a Baton server is the Automn host of two real `baton runner serve` processes. Each
// registers and heartbeats with the server; the server pushes the tasks whose `runs_on` names a push runner to
// it, stores the streamed log and maps the result. Both halves are Baton's own: this is where they meet.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/cluster.ts';
import { poll, waitForRunEnd, waitForTask } from '../helpers/fault-cluster.ts';
import { stepVisibleDir } from '../helpers/temp.ts';
import { startServeRunner } from '../helpers/automn-runner.ts';

/** A loopback port nothing listens on now: the runner must know its own URL before it starts. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function admin(server: ServerProcess, path: string, body?: unknown): Promise<Response> {
  return fetch(server.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${server.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function servePushRunner(server: ServerProcess, id: string, secret: string) {
  const port = await freePort();
  return startServeRunner({
    AUTOMN_RUNNER_SECRET: secret,
    AUTOMN_HOST_URL: server.url,
    AUTOMN_RUNNER_ID: id,
    AUTOMN_RUNNER_PORT: String(port),
    AUTOMN_RUNNER_PUBLIC_URL: `http://127.0.0.1:${port}`,
    AUTOMN_RUNNER_HEARTBEAT_MS: '1000',
  });
}

describe('push runners: a Baton server dispatching to baton runner serve', () => {
  it('runs a 4-task workflow on two serve processes, each task on the runner its runs_on names', async () => {
    const server = await startServerProcess();
    const secrets = { a: `push-secret-a-${process.pid}-xyz`, b: `push-secret-b-${process.pid}-xyz` };
    expect(
      (await admin(server, '/api/settings/runner-hosts', { id: 'pa', name: 'push-a', secret: secrets.a }))
        .status,
    ).toBe(201);
    expect(
      (await admin(server, '/api/settings/runner-hosts', { id: 'pb', name: 'push-b', secret: secrets.b }))
        .status,
    ).toBe(201);
    await servePushRunner(server, 'pa', secrets.a);
    await servePushRunner(server, 'pb', secrets.b);
    await poll(async () => {
      const list = (await (await admin(server, '/api/settings/runner-hosts')).json()) as {
        runnerHosts: Array<{ id: string; isHealthy: boolean }>;
      };
      return list.runnerHosts.filter((r) => r.isHealthy).length === 2;
    }, 'both push runners to register with the server');

    const run = await server.client.submitRun(`
name: pushed
tasks:
  a1: { runs_on: [push-a], run: 'echo "a1 ran in $(basename "$PWD")"' }
  a2: { runs_on: [push-a], run: 'echo a2; exit 3' }
  b1: { runs_on: [push-b], run: 'echo b1 >&2; echo b1-out' }
  b2: { runs_on: [push-b], depends_on: [b1], run: 'echo b2 after b1' }
`);
    const end = await waitForRunEnd(server.client, run.id);
    expect(end.status).toBe('failed');
    expect(end.results['a1']).toMatchObject({ status: 'succeeded', exitCode: 0, attempt: 1 });
    expect(end.results['a2']).toMatchObject({ status: 'failed', exitCode: 3, attempt: 1 });
    expect(end.results['b1']).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(end.results['b2']).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(await server.client.taskLog(run.id, 'a1')).toMatch(/^a1 ran in \S+/m);
    expect(await server.client.taskLog(run.id, 'a2')).toContain('a2');
    expect(await server.client.taskLog(run.id, 'b1')).toContain('b1-out');
    expect(await server.client.taskLog(run.id, 'b2')).toContain('b2 after b1');
    // No push runner's secret ever reaches a log.
    for (const task of ['a1', 'a2', 'b1', 'b2']) {
      const log = await server.client.taskLog(run.id, task);
      expect(log).not.toContain(secrets.a);
      expect(log).not.toContain(secrets.b);
    }
  });

  it('a push runner killed mid-task: the task ends runner_lost and its retry runs on the other runner with the same label', async () => {
    const server = await startServerProcess();
    const secrets = { a: `push-secret-la-${process.pid}-xyz`, b: `push-secret-lb-${process.pid}-xyz` };
    for (const [id, secret] of [
      ['la', secrets.a],
      ['lb', secrets.b],
    ] as const)
      expect(
        (
          await admin(server, '/api/settings/runner-hosts', {
            id,
            name: `push-${id}`,
            secret,
            labels: ['automn'],
          })
        ).status,
      ).toBe(201);
    const runners = {
      la: await servePushRunner(server, 'la', secrets.a),
      lb: await servePushRunner(server, 'lb', secrets.b),
    };
    await poll(async () => {
      const list = (await (await admin(server, '/api/settings/runner-hosts')).json()) as {
        runnerHosts: Array<{ isHealthy: boolean }>;
      };
      return list.runnerHosts.filter((r) => r.isHealthy).length === 2;
    }, 'both push runners to register with the server');
    // Bad labels are refused by name.
    const bad = await admin(server, '/api/settings/runner-hosts', { name: 'bad', labels: ['$(x)'] });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('$(x)');

    const gate = join(stepVisibleDir(), 'attempt-1-started');
    const run = await server.client.submitRun(`
tasks:
  long:
    runs_on: [automn]
    retries: { max: 1, backoff: 1s }
    run: |
      if [ ! -e ${gate} ]; then touch ${gate}; sleep 600; fi
      echo "done on attempt $AUTOMN_RUN_ID"
`);
    await poll(() => existsSync(gate), 'attempt 1 to start on one of the push runners');
    const first = await waitForTask(server.client, run.id, 'long', (t) => t.status === 'running', 'to run');
    // A push attempt's runner is `push:<id>`.
    const victim = first.runner === 'push:la' ? runners.la : runners.lb;
    victim.proc.child.kill('SIGKILL');
    const end = await waitForRunEnd(server.client, run.id);
    expect(end.results['long'], JSON.stringify(end.results['long'])).toMatchObject({
      status: 'succeeded',
      attempt: 2,
    });
    expect(end.results['long']!.runner).not.toBe(first.runner);
    expect(end.results['long']!.runner).toMatch(/^push:l[ab]$/);
    const attempts = (await server.client.getRun(run.id)).results['long']!;
    expect(attempts.attempt).toBe(2);
  });
});
