// Issue 19, "Steps as first-class": a runner reports each step's status, exit code, times and the byte range of
// the task log it wrote; the server keeps them with the task; the API, `runs show`, `runs logs --step` and the
// live follow show them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp.ts';
import {
  startRunnerProcess,
  startServerProcess,
  waitFor,
  waitForRun,
  type ServerProcess,
} from '../helpers/cluster.ts';
import type { StepRecord } from '../../src/protocol/api.ts';
import { startTracked } from '../helpers/processes.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

async function cli(server: ServerProcess, args: string[]) {
  const p = startTracked(`baton ${args.slice(0, 2).join(' ')}`, process.execPath, [BIN, ...args], {
    env: { ...process.env, BATON_SERVER: server.url, BATON_TOKEN: server.adminToken, NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  p.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  p.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return { code: (await p.exited).code, stdout, stderr };
}

const WORKFLOW = `name: stepped
tasks:
  build:
    steps:
      - name: compile
        run: echo "compiling"; echo "compiled"
      - name: never
        if: \${{ false }}
        run: echo "not printed"
      - name: slow
        timeout: 1s
        run: echo "slow starts"; sleep 30
      - name: after-timeout
        run: echo "not reached"
      - name: cleanup
        if: \${{ always() }}
        run: echo "cleaning"; exit 4
`;

describe('step records', () => {
  it(
    'passing, skipped, timed-out and failing steps reach the API with their log ranges; the CLI shows them',
    { timeout: 180_000 },
    async () => {
      const server = await startServerProcess();
      await startRunnerProcess(server, 'stepper');
      const submitted = await server.client.submitRun(WORKFLOW);
      const run = await waitForRun(server.client, submitted.id);
      expect(run.status).toBe('failed');
      const task = await server.client.getTask(submitted.id, 'build');
      const steps = task.steps ?? [];
      expect(steps.map((s) => [s.name, s.status, s.exitCode])).toEqual([
        ['compile', 'succeeded', 0],
        ['never', 'skipped', null],
        // Killed at its timeout: bash reports the SIGTERM as 143, or the kill leaves no code.
        ['slow', 'timed_out', steps[2]?.exitCode === 143 ? 143 : null],
        ['after-timeout', 'skipped', null],
        ['cleanup', 'failed', 4],
      ]);
      const log = Buffer.from(await server.client.taskLog(submitted.id, 'build'), 'utf8');
      const part = (name: string) => {
        const s = steps.find((x) => x.name === name)!;
        return log.subarray(s.logStart, s.logEnd).toString('utf8');
      };
      expect(part('compile')).toBe('compiling\ncompiled\n');
      expect(part('slow')).toContain('slow starts\n');
      expect(part('slow')).toContain('timed out');
      expect(part('cleanup')).toContain('cleaning\n');
      expect(part('cleanup')).not.toContain('compiling');
      for (const s of steps.filter((x) => x.status !== 'skipped')) {
        expect(s.durationMs).toBeGreaterThanOrEqual(0);
        expect(Date.parse(s.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(s.startedAt!));
      }

      const byName = await cli(server, ['runs', 'logs', submitted.id, 'build', '--step', 'compile']);
      expect(byName.code, byName.stderr).toBe(0);
      expect(byName.stdout).toBe('compiling\ncompiled\n');
      const byNumber = await cli(server, ['runs', 'logs', submitted.id, 'build', '--step', '5']);
      expect(byNumber.stdout).toContain('cleaning');
      const unknown = await cli(server, ['runs', 'logs', submitted.id, 'build', '--step', 'deploy']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain(
        "task 'build' has no step 'deploy'; its steps are 1 compile, 2 never, 3 slow, 4 after-timeout, 5 cleanup",
      );
      const noTask = await cli(server, ['runs', 'logs', submitted.id, '--step', 'compile']);
      expect(noTask.code).toBe(2);

      const shown = await cli(server, ['runs', 'show', submitted.id]);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/✓ compile +\S+/);
      expect(shown.stdout).toMatch(/- never +skipped/);
      expect(shown.stdout).toMatch(/✗ slow +\S+ +timed out/);
      expect(shown.stdout).toMatch(/✗ cleanup +\S+ +exit 4/);

      const file = join(tempDir(), 'stepped.yml');
      writeFileSync(file, WORKFLOW);
      const followed = await cli(server, ['submit', '--follow', file]);
      expect(followed.code).toBe(1);
      expect(followed.stdout).toMatch(
        /✗ build timed_out[^\n]*\n +✓ compile +\S+\n +- never +skipped\n +✗ slow +\S+ +timed out\n/,
      );
      // The runs list: progress (tasks ended of all), who submitted, how long ago.
      const listed = await cli(server, ['runs', 'list']);
      expect(listed.stdout).toMatch(new RegExp(`${submitted.id} .* 1/1 tasks +(just now|\\d+ s ago)`));
      const summary = (await server.client.listRuns()).runs.find((r) => r.id === submitted.id);
      expect(summary).toMatchObject({ tasksDone: 1, taskCount: 1 });
      expect(summary?.submittedBy).toMatch(/\S/);
      const missing = await fetch(`${server.url}/api/v1/runs/${submitted.id}/tasks/nope`, {
        headers: { authorization: `Bearer ${server.adminToken}` },
      });
      expect(missing.status).toBe(404);
    },
  );
});

const LIVE = `name: live-steps
tasks:
  build:
    steps:
      - name: prepare
        run: echo "preparing"
      - name: wait
        run: sleep 1; echo "waiting"; sleep 60
`;

describe('live steps', () => {
  it(
    "a running task's steps reach the API and the run stream while it runs; --follow prints them under the task",
    { timeout: 180_000 },
    async () => {
      const server = await startServerProcess();
      await startRunnerProcess(server, 'live-stepper');
      const file = join(tempDir(), 'live.yml');
      writeFileSync(file, LIVE);
      // The CLI follows in the background while the test watches the same run through the API.
      const followed = cli(server, ['submit', '--follow', file]);
      const runId = await waitFor(async () => (await server.client.listRuns()).runs[0]?.id, 'the run');
      let seen: StepRecord[] | undefined;
      let printed = '';
      for await (const m of server.client.runStream(runId)) {
        if (m.kind === 'steps' && m.steps.some((s) => s.name === 'wait' && s.status === 'running'))
          seen = m.steps;
        if (m.kind === 'log') printed += m.data;
        if (seen !== undefined && printed.includes('waiting\n')) break;
      }
      expect(seen?.map((s) => [s.name, s.status])).toEqual([
        ['prepare', 'succeeded'],
        ['wait', 'running'],
      ]);
      expect(seen?.[1]?.logStart).toBe(Buffer.byteLength('preparing\n'));
      // While it runs, the task's API record has them too (a follower joining late sees them).
      const running = await server.client.getTask(runId, 'build');
      expect(running.status).toBe('running');
      expect(running.steps?.map((s) => s.status)).toEqual(['succeeded', 'running']);
      await server.client.cancelRun(runId);
      const out = await followed;
      expect(out.code).toBe(1);
      // Header when the step starts, its log indented under it, the finished step's line with a duration.
      expect(out.stdout).toMatch(/build +\| ✓ prepare +\S+\n/);
      expect(out.stdout).toMatch(/build +\| ● wait\nbuild +\| {3}waiting\n/);
      const ended = await server.client.getTask(runId, 'build');
      expect(ended.steps?.map((s) => [s.name, s.status])).toEqual([
        ['prepare', 'succeeded'],
        ['wait', 'cancelled'],
      ]);
    },
  );
});
