// Issue 13: a workflow can require `isolation: sandbox`, `network: false` or `limits` of the runner that takes a
// task. A real server and a real host runner (started through the CLI) run the plain task and pass over the others;
// "why pending" names what the host runner lacks; a runner whose status report promises the requirement takes it.
//
// The first two cases speak the runner protocol over HTTP with a runner token, reporting each promise in turn: the
// server's choice sees only that report. The last case runs the same requirements on a real `--isolation
// sandbox` runner process (bubblewrap), where `network: false` really refuses a connection to the server.
import { describe, expect, it } from 'vitest';
import { limitsSupport, sandboxPlan } from '../../src/engine/index.ts';
import type { CompleteBody, RunnerStatusBody } from '../../src/protocol/api.ts';
import { createClient } from '../../src/client/index.ts';
import {
  startRunnerProcess,
  startServerProcess,
  waitFor,
  waitForRun,
  type ServerProcess,
} from '../helpers/cluster.ts';

const sandbox = await sandboxPlan();
const canCutNetwork = !('error' in sandbox) && sandbox.networkIsolation;
const canLimit = (await limitsSupport()).ok;
/** Only where cgroups are writable: elsewhere no runner would ever take it. */
const SANDBOXED_HOG = `  hog:
    isolation: sandbox
    limits: { memory: 64M }
    run: python3 -c "b = bytearray(512 << 20); print(len(b))"
`;

interface PendingAnswer {
  status: string;
  summary: string;
  runners: { name: string; eligible: boolean; reasons: { code: string; message: string }[] }[];
}

async function whyPending(server: ServerProcess, runId: string, task: string): Promise<PendingAnswer> {
  const res = await fetch(`${server.url}/api/v1/runs/${runId}/tasks/${encodeURIComponent(task)}/pending`, {
    headers: { authorization: `Bearer ${server.adminToken}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as PendingAnswer;
}

const WORKFLOW = `
name: requirements
tasks:
  untrusted:
    isolation: sandbox
    run: echo untrusted
  offline:
    network: false
    run: echo offline
  plain:
    run: echo plain
`;

function succeeded(): CompleteBody {
  const now = new Date().toISOString();
  return { status: 'succeeded', exitCode: 0, outputs: {}, steps: [], startedAt: now, finishedAt: now };
}

describe('tasks that require isolation, a network cut or limits', () => {
  it('a host runner takes only the plain task, why-pending names each lack, and a runner that reports it takes each', async () => {
    const server = await startServerProcess();
    const run = await server.client.submitRun(WORKFLOW);
    // The plain task is the newest in the queue: a host runner that ran it was offered it over the three older ones.
    await startRunnerProcess(server, 'host-runner');
    await waitFor(
      async () => (await server.client.getRun(run.id)).results['plain']?.status === 'succeeded',
      'the plain task to succeed on the host runner',
    );
    expect(await server.client.taskLog(run.id, 'plain')).toBe('plain\n');
    const results = (await server.client.getRun(run.id)).results;
    for (const name of ['untrusted', 'offline'])
      expect(results[name]).toMatchObject({ status: 'queued', attempt: 0 });

    const expected: Record<string, { detail: string; text: RegExp }> = {
      untrusted: { detail: 'needs_sandbox', text: /isolation: sandbox.*'host-runner'/ },
      offline: { detail: 'needs_network_isolation', text: /network: false.*'host-runner'.*cut/ },
    };
    for (const [task, want] of Object.entries(expected)) {
      const pending = await whyPending(server, run.id, task);
      expect(pending.status).toBe('queued');
      expect(pending.summary).toMatch(/no runner can take this task now/);
      const host = pending.runners.find((r) => r.name === 'host-runner')!;
      expect(host.eligible).toBe(false);
      expect(host.reasons).toEqual([
        expect.objectContaining({
          code: 'isolation',
          detail: want.detail,
          message: expect.stringMatching(want.text),
        }),
      ]);
    }

    // A runner whose report promises a sandbox only takes the sandboxed task, and nothing else.
    const { token } = await server.client.register(server.registrationToken, {
      name: 'sandboxed',
      labels: [],
      capacity: 4,
      version: 'test',
    });
    const sandboxed = createClient({ baseUrl: server.url, token });
    const status: RunnerStatusBody = { isolation: 'sandbox', freeDiskBytes: 1024 ** 3, minFreeDiskBytes: 0 };
    await sandboxed.reportStatus(status);
    const takeOne = async (name: string) => {
      const offer = await sandboxed.acquire(4, 2_000);
      expect(offer?.task).toMatchObject({ runId: run.id, name, attempt: 1 });
      await sandboxed.start(offer!.lease);
      await sandboxed.complete(offer!.lease, succeeded());
      expect(await sandboxed.acquire(4, 100)).toBeUndefined();
    };
    await takeOne('untrusted');

    // Once it also reports a network cut, "why pending" for the offline task lists it no more among the lacking.
    await sandboxed.reportStatus({ ...status, networkIsolation: true });
    const offline = await whyPending(server, run.id, 'offline');
    expect(offline.runners.find((r) => r.name === 'sandboxed')).toMatchObject({
      eligible: true,
      reasons: [],
    });
    expect(offline.summary).toMatch(/1 runner\(s\) can take it/);
    await takeOne('offline');

    const done = await waitForRun(server.client, run.id);
    expect(done.status).toBe('succeeded');
    expect(done.results['plain']).toMatchObject({ runner: 'host-runner', attempt: 1 });
    for (const name of ['untrusted', 'offline'])
      expect(done.results[name]).toMatchObject({ status: 'succeeded', runner: 'sandboxed', attempt: 1 });
  });

  it('a task that declares limits waits, with the reason, for a runner that reports it enforces them', async () => {
    const server = await startServerProcess();
    const run = await server.client.submitRun(`
tasks:
  limited:
    limits: { memory: 256M, pids: 64, cpu: 0.5 }
    run: echo limited
`);
    const { token } = await server.client.register(server.registrationToken, {
      name: 'unlimited',
      labels: [],
      capacity: 1,
      version: 'test',
    });
    const runner = createClient({ baseUrl: server.url, token });
    const status: RunnerStatusBody = { isolation: 'host', freeDiskBytes: 1024 ** 3, minFreeDiskBytes: 0 };
    await runner.reportStatus(status);
    expect(await runner.acquire(1, 200)).toBeUndefined();
    const pending = await whyPending(server, run.id, 'limited');
    expect(pending.runners.find((r) => r.name === 'unlimited')).toMatchObject({
      eligible: false,
      reasons: [
        expect.objectContaining({
          code: 'isolation',
          detail: 'needs_limits',
          message: expect.stringMatching(/limits.*'unlimited'.*enforce/),
        }),
      ],
    });
    // Limits are a promise of their own: the runner takes the task once it reports it enforces them.
    await runner.reportStatus({ ...status, limits: true });
    const offer = await runner.acquire(1, 2_000);
    expect(offer?.task).toMatchObject({ runId: run.id, name: 'limited', attempt: 1 });
    expect(offer?.task.spec.limits).toEqual({ memoryBytes: 256 * 1024 * 1024, pids: 64, cpu: 0.5 });
    await runner.start(offer!.lease);
    await runner.complete(offer!.lease, succeeded());
    expect((await waitForRun(server.client, run.id)).status).toBe('succeeded');
  });

  it.runIf(canLimit)(
    "a workflow's limits are enforced by a real runner (writable cgroups): over its memory limit a task ends out_of_memory",
    async () => {
      const server = await startServerProcess();
      const run = await server.client.submitRun(`
tasks:
  hog:
    limits: { memory: 64M, pids: 64 }
    run: python3 -c "b = bytearray(512 << 20); print(len(b))"
  modest:
    limits: { memory: 256M, pids: 64, cpu: 0.5 }
    run: echo modest
`);
      await startRunnerProcess(server, 'limiter');
      const done = await waitForRun(server.client, run.id);
      expect(done.status).toBe('failed');
      expect(done.results['hog']).toMatchObject({
        status: 'failed',
        reason: 'out_of_memory',
        runner: 'limiter',
      });
      expect(done.results['hog']!.message).toMatch(/64 MiB/);
      expect(done.results['modest']).toMatchObject({ status: 'succeeded', runner: 'limiter' });
      expect(await server.client.taskLog(run.id, 'modest')).toBe('modest\n');
    },
  );

  it('a runner whose sandbox report lands while its long poll is held is offered the sandboxed task in that same hold', async () => {
    // The runner sends its first status report and its first acquire side by side, so the acquire can reach the
    // server first; the hold must not keep judging the runner by the report it had when the hold began.
    const server = await startServerProcess();
    const run = await server.client.submitRun(
      'tasks:\n  untrusted:\n    isolation: sandbox\n    run: echo hi\n',
    );
    const { token } = await server.client.register(server.registrationToken, {
      name: 'late-report',
      labels: [],
      capacity: 1,
      version: 'test',
    });
    const runner = createClient({ baseUrl: server.url, token });
    const held = runner.acquire(1, 20_000);
    await waitFor(async () => {
      const pending = await whyPending(server, run.id, 'untrusted');
      // The runner counts as online once its acquire was authenticated: its hold has begun.
      return pending.runners
        .find((r) => r.name === 'late-report')
        ?.reasons.every((x) => x.code === 'isolation');
    }, 'the long poll to be held');
    await runner.reportStatus({ isolation: 'sandbox', freeDiskBytes: 1024 ** 3, minFreeDiskBytes: 0 });
    const offer = await held;
    expect(offer?.task).toMatchObject({ runId: run.id, name: 'untrusted', attempt: 1 });
  });

  it.runIf(canCutNetwork)(
    'a real sandboxed runner (bwrap) takes the sandboxed and offline tasks; offline, the server port is refused',
    async () => {
      const server = await startServerProcess();
      const port = new URL(server.url).port;
      // bash's /dev/tcp: a plain connect() to the server that started the task, from inside the step.
      const probe = `if (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; then echo reached; else echo refused; fi`;
      const run = await server.client.submitRun(`
name: real-sandbox
tasks:
  untrusted:
    isolation: sandbox
    run: ${probe}
  offline:
    network: false
    run: ${probe}
${canLimit ? SANDBOXED_HOG : ''}`);
      await startRunnerProcess(server, 'host-runner');
      await startRunnerProcess(server, 'boxed', { extraArgs: ['--isolation', 'sandbox'] });
      const done = await waitForRun(server.client, run.id);
      expect(done.status).toBe(canLimit ? 'failed' : 'succeeded');
      // Limits hold inside the sandbox too, where writable cgroups exist.
      if (canLimit)
        expect(done.results['hog']).toMatchObject({
          status: 'failed',
          reason: 'out_of_memory',
          runner: 'boxed',
        });
      expect(done.results['untrusted']).toMatchObject({ status: 'succeeded', runner: 'boxed' });
      expect(done.results['offline']).toMatchObject({ status: 'succeeded', runner: 'boxed' });
      // With the network (the default) the sandbox reaches the server; with network: false it cannot.
      expect(await server.client.taskLog(run.id, 'untrusted')).toBe('reached\n');
      expect(await server.client.taskLog(run.id, 'offline')).toBe('refused\n');
    },
  );
});
