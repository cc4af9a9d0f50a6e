// Issue 12, finding 7: a runner registered without a public key (the API allows it; `baton runner register`
// always sends one) was offered a task that names secrets, refused it with 403 on every acquire, and each
// refusal consumed an attempt number; "why pending" said it could take the task. Now such a task is never
// offered to it, no attempt is consumed, and "why pending" names the reason; a runner with a key runs it.
// Real server and runner processes; the keyless runner speaks the runner protocol over HTTP from the test,
// since no CLI path registers a runner without a key.
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.ts';
import { startRunnerProcess, startServerProcess, waitForRun } from '../helpers/cluster.ts';

interface PendingAnswer {
  summary: string;
  runners: { name: string; eligible: boolean; reasons: { code: string; message: string }[] }[];
}

describe('a runner without a public key', () => {
  it('is never offered a task that names secrets, consumes no attempt, and why-pending names the reason', async () => {
    const server = await startServerProcess();
    await server.client.setSecret('DEPLOY_KEY', 'deploy-key-0123456789');
    const { token } = await server.client.register(server.registrationToken, {
      name: 'keyless',
      labels: [],
      capacity: 4,
      version: 'test',
    });
    const keyless = createClient({ baseUrl: server.url, token });

    const secretRun = await server.client.submitRun(`
tasks:
  deploy:
    env:
      KEY: \${{ secrets.DEPLOY_KEY }}
    run: test -n "$KEY" && echo deployed
`);
    const plainRun = await server.client.submitRun('tasks:\n  plain:\n    run: echo plain\n');

    // The older task names a secret: the keyless runner is passed over it and offered the plain one.
    const offer = await keyless.acquire(4, 200);
    expect(offer?.task).toMatchObject({ runId: plainRun.id, name: 'plain' });
    for (let i = 0; i < 3; i++) expect(await keyless.acquire(4, 100)).toBeUndefined();
    expect((await server.client.getRun(secretRun.id)).results['deploy']).toMatchObject({
      status: 'queued',
      attempt: 0,
    });

    const res = await fetch(`${server.url}/api/v1/runs/${secretRun.id}/tasks/deploy/pending`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    expect(res.status).toBe(200);
    const pending = (await res.json()) as PendingAnswer;
    const entry = pending.runners.find((r) => r.name === 'keyless')!;
    expect(entry.eligible).toBe(false);
    expect(entry.reasons).toEqual([
      expect.objectContaining({ code: 'no_key', message: expect.stringContaining("'keyless'") }),
    ]);
    expect(pending.summary).toMatch(/no runner can take this task now/);

    // A runner registered by the CLI has a key: it takes the task as its first attempt.
    await startRunnerProcess(server, 'keyed');
    const done = await waitForRun(server.client, secretRun.id);
    expect(done.status).toBe('succeeded');
    expect(done.results['deploy']).toMatchObject({ status: 'succeeded', attempt: 1, runner: 'keyed' });
    expect(await server.client.taskLog(secretRun.id, 'deploy')).toBe('deployed\n');
  });
});
