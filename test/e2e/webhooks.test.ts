// Webhooks end to end with real processes: a `baton server`, a `baton runner`, the `baton webhooks` CLI, and a
// receiving HTTP server that verifies every X-Baton-Signature. Retries wait the real backoff (5 s).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  startRunnerProcess,
  startServerProcess,
  waitFor,
  waitForRun,
  type ServerProcess,
} from '../helpers/cluster.ts';
import { stopTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

async function cli(
  server: ServerProcess,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [
      BIN,
      ...args,
      '--server',
      server.url,
      '--token',
      server.adminToken,
    ]);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('server webhooks', () => {
  it('delivers signed run and task events, retries a failed attempt with backoff, and logs every attempt', async () => {
    const receiver = await startReceiver('a-shared-secret-of-the-receiver');
    const secretFile = join(tempDir(), 'secret');
    writeFileSync(secretFile, `${receiver.secret}\n`);
    const server = await startServerProcess();
    await startRunnerProcess(server, 'w1');

    const refused = await cli(server, 'webhooks', 'create', 'file:///etc/passwd', '--events', 'run.finished');
    expect(refused.code).toBe(2);
    expect(refused.stderr + refused.stdout).toContain('only http and https');
    const unknown = await cli(server, 'webhooks', 'create', receiver.url, '--events', 'run.exploded');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr + unknown.stdout).toContain('"run.exploded"');

    const created = await cli(
      server,
      'webhooks',
      'create',
      receiver.url,
      '--events',
      'run.finished,task.failed',
      '--secret-file',
      secretFile,
      '--json',
    );
    expect(created.code, created.stderr).toBe(0);
    const { webhook, secret } = JSON.parse(created.stdout) as { webhook: { id: string }; secret: string };
    expect(secret).toBe(receiver.secret);
    const listed = await cli(server, 'webhooks', 'list');
    expect(listed.stdout).toContain(webhook.id);
    expect(listed.stdout).not.toContain(receiver.secret);

    // The first delivery is answered 500: it comes again after the backoff.
    receiver.answers.push(500);
    const run = await server.client.submitRun('tasks:\n  broken:\n    run: exit 3\n');
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('failed');

    const delivered = await waitFor(
      () => {
        const ok = receiver.received.filter((r) => r.answered === 200);
        return ok.length >= 2 && ok;
      },
      'both events delivered',
      40_000,
    );
    for (const r of receiver.received) expect(r.signatureValid).toBe(true);
    const events = delivered.map((r) => r.headers['x-baton-event']).sort();
    expect(events).toEqual(['run.finished', 'task.failed']);
    const taskFailed = delivered.find((r) => r.json.event === 'task.failed')!;
    expect(taskFailed.json).toMatchObject({ runId: run.id, task: 'broken', status: 'failed' });
    expect(delivered.find((r) => r.json.event === 'run.finished')!.json).toMatchObject({
      runId: run.id,
      status: 'failed',
    });
    // Exactly one delivery was retried: three requests for two events, the same body both times.
    expect(receiver.received).toHaveLength(3);
    const retried = receiver.received[0]!;
    expect(receiver.received.filter((r) => r.body === retried.body)).toHaveLength(2);

    const log = await cli(server, 'webhooks', 'deliveries', webhook.id, '--json');
    const { deliveries } = JSON.parse(log.stdout) as {
      deliveries: Array<{
        status: string;
        attempts: Array<{ attempt: number; statusCode?: number; durationMs: number; error?: string }>;
      }>;
    };
    expect(deliveries.map((d) => d.status)).toEqual(['delivered', 'delivered']);
    const twice = deliveries.find((d) => d.attempts.length === 2)!;
    expect(twice.attempts[0]).toMatchObject({
      attempt: 1,
      statusCode: 500,
      error: 'the receiver answered 500',
    });
    expect(twice.attempts[1]).toMatchObject({ attempt: 2, statusCode: 200 });
    expect(twice.attempts[1]!.error).toBeUndefined();
    const human = await cli(server, 'webhooks', 'deliveries', webhook.id);
    expect(human.stdout).toMatch(/#1 \S+ {2}500 {2}\d+ ms {2}the receiver answered 500/);

    expect((await cli(server, 'webhooks', 'remove', webhook.id)).code).toBe(0);
    expect((await cli(server, 'webhooks', 'list')).stdout).toBe('no webhooks\n');
  });
});

describe("a runner's webhook", () => {
  it('gets start and finish of its tasks, signed; a dead receiver delays nothing and its deliveries survive a restart', async () => {
    const receiver = await startReceiver('set below from the server');
    // The receiver is down while the task runs: nothing answers on its port.
    await receiver.close();
    const server = await startServerProcess();
    const runner = await startRunnerProcess(server, 'on-demand');
    const { runners } = await server.client.listRunners();
    const runnerId = runners[0]!.id;

    const set = await cli(server, 'webhooks', 'set-runner', runnerId, receiver.url, '--json');
    expect(set.code, set.stderr).toBe(0);
    receiver.secret = (JSON.parse(set.stdout) as { secret: string }).secret;
    expect(receiver.secret.length).toBeGreaterThanOrEqual(32);

    const run = await server.client.submitRun('tasks:\n  hello:\n    run: echo hi\n');
    expect((await waitForRun(server.client, run.id)).status).toBe('succeeded');
    const { deliveries } = await server.client.runnerWebhookDeliveries(runnerId);
    expect(deliveries.map((d) => d.event).sort()).toEqual(['runner.finish', 'runner.start']);
    await waitFor(
      async () => {
        const d = await server.client.runnerWebhookDeliveries(runnerId);
        return d.deliveries.every((x) => x.attempts.length >= 1 && x.status === 'pending') && d;
      },
      'a first, refused attempt of each',
      30_000,
    );

    await stopTracked(runner.proc);
    await stopTracked(server.proc);
    await receiver.reopen();
    const again = await startServerProcess({
      dataDir: server.dataDir,
      adminToken: server.adminToken,
      registrationToken: server.registrationToken,
    });
    const got = await waitFor(
      () => receiver.received.length >= 2 && receiver.received,
      'both deliveries',
      40_000,
    );
    for (const r of got) expect(r.signatureValid).toBe(true);
    const task = (await again.client.getRun(run.id)).results.hello!;
    const byAction = Object.fromEntries(got.map((r) => [r.json.action, r.json]));
    expect(byAction.start).toEqual({
      action: 'start',
      runId: run.id,
      taskId: task.id,
      runnerId,
      at: expect.any(String),
    });
    expect(byAction.finish).toEqual({
      action: 'finish',
      runId: run.id,
      taskId: task.id,
      runnerId,
      status: 'succeeded',
      at: expect.any(String),
    });
    const after = await again.client.runnerWebhookDeliveries(runnerId);
    expect(after.deliveries.map((d) => d.status)).toEqual(['delivered', 'delivered']);
    expect(after.deliveries[0]!.attempts[0]!.error).toMatch(/ECONNREFUSED|fetch failed/);
  });
});
