// Fault (issue 12, finding 8a): a step whose shell cannot be started (not installed on the runner, or a path
// that does not exist) was reported with `exitCode: 0` and a message that printed the runner's whole PATH.
// It must end `failed` with `exitCode: null` and a message naming the shell and the runner, not the PATH.
import { describe, expect, it } from 'vitest';
import { startRunnerProcess, startServerProcess, waitForRun } from '../helpers/cluster.ts';

describe('a step whose shell cannot be started', () => {
  it('fails with exitCode null and a message naming the shell and the runner, not the PATH', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'shell-less');
    const run = await server.client.submitRun(`
tasks:
  missing-program:
    steps:
      - run: echo never
        shell: no-such-shell-${process.pid} {0}
  missing-path:
    steps:
      - run: echo never
        shell: /opt/baton-no-such-dir/fish {0}
`);
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('failed');
    const path = process.env.PATH ?? '';
    for (const [task, shell] of [
      ['missing-program', `no-such-shell-${process.pid}`],
      ['missing-path', '/opt/baton-no-such-dir/fish'],
    ] as const) {
      const t = result.results[task]!;
      expect({ task, status: t.status, exitCode: t.exitCode, reason: t.reason }).toEqual({
        task,
        status: 'failed',
        exitCode: null,
        reason: 'spawn_failed',
      });
      expect(t.message).toContain(`'${shell}'`);
      expect(t.message).toContain("runner 'shell-less'");
      expect(t.message).not.toContain(path);
      expect(t.message).not.toMatch(/\/usr\/bin:|:\/bin/);
      const log = await server.client.taskLog(run.id, task);
      expect(log).not.toContain(path);
      expect(log).not.toContain('never');
    }
  });
});
