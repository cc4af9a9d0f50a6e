// Issue 19: every command that names a runner, token or run takes its name as well as its id; exit codes are
// the same everywhere (0 ok, 1 not found or failed, 2 a usage mistake such as an ambiguous name).
import { describe, expect, it } from 'vitest';
import {
  startRunnerProcess,
  startServerProcess,
  waitFor,
  waitForRun,
  type ServerProcess,
} from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

async function cli(
  server: ServerProcess,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startTracked(`baton ${args.slice(0, 2).join(' ')}`, process.execPath, [BIN, ...args], {
    env: { ...process.env, BATON_SERVER: server.url, BATON_TOKEN: server.adminToken },
  });
  let stdout = '';
  let stderr = '';
  p.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  p.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return { code: (await p.exited).code, stdout, stderr };
}

describe('names or ids', () => {
  it(
    'runners, tokens and runs are found by name; unknown is exit 1, ambiguous exit 2',
    { timeout: 180_000 },
    async () => {
      const server = await startServerProcess();
      const runner = await startRunnerProcess(server, 'build-box');
      await startRunnerProcess(server, 'twin');
      await startRunnerProcess(server, 'twin');

      const shown = await cli(server, ['runners', 'show', 'build-box', '--json']);
      expect(shown.code, shown.stderr).toBe(0);
      const id = (JSON.parse(shown.stdout) as { runner: { id: string; name: string } }).runner;
      expect(id.name).toBe('build-box');
      expect((await cli(server, ['runners', 'disable', 'build-box'])).stdout).toContain(
        `runner ${id.id}: disabled`,
      );
      await waitFor(
        async () =>
          (await server.client.listRunners()).runners.find((r) => r.id === id.id)?.status === 'disabled',
        'the runner to show disabled',
      );
      expect((await cli(server, ['runners', 'enable', id.id])).code).toBe(0);
      const twins = await cli(server, ['runners', 'disable', 'twin']);
      expect(twins.code).toBe(2);
      expect(twins.stderr).toMatch(/2 runners are named 'twin': give one of their ids \(\S+, \S+\)/);
      const none = await cli(server, ['runners', 'remove', 'nobody']);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain("no runner has the id or name 'nobody'; see `baton runners list`");

      const created = await cli(server, ['token', 'create', '--name', 'ci-bot', '--scope', 'read', '--json']);
      expect(created.code, created.stderr).toBe(0);
      const revoked = await cli(server, ['token', 'revoke', 'ci-bot']);
      expect(revoked.code, revoked.stderr).toBe(0);
      const tokens = (await server.client.listTokens()).tokens.find((t) => t.name === 'ci-bot');
      expect(tokens?.revokedAt).toBeTruthy();

      const first = await server.client.submitRun('name: nightly\ntasks:\n  say:\n    run: echo first\n');
      await waitForRun(server.client, first.id);
      const second = await server.client.submitRun('name: nightly\ntasks:\n  say:\n    run: echo second\n');
      await waitForRun(server.client, second.id);
      const latest = await cli(server, ['runs', 'show', 'nightly', '--json']);
      expect(latest.code, latest.stderr).toBe(0);
      expect((JSON.parse(latest.stdout) as { id: string }).id).toBe(second.id);
      const logs = await cli(server, ['runs', 'logs', 'nightly', 'say']);
      expect(logs.stdout).toContain('second');
      expect((await cli(server, ['runs', 'logs', first.id, 'say'])).stdout).toContain('first');
      const missing = await cli(server, ['runs', 'show', 'no-such-workflow']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("no run has the id or workflow name 'no-such-workflow'");
      expect(runner.output()).not.toMatch(/\n\s+at /);
    },
  );
});
