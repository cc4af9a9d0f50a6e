// A real server process and real runner processes, started through the CLI, executing real workflows.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  launchRunner,
  startRunnerProcess,
  startServerProcess,
  waitFor,
  waitForOutput,
  waitForRun,
} from '../helpers/cluster.ts';
import { processesWithArg, stopTracked } from '../helpers/processes.ts';
import { stepVisibleDir, tempDir } from '../helpers/temp.ts';

const DAG = `
name: six-task-dag
tasks:
  checkout:
    runs_on: [alpha]
    run: |
      echo "sha=abc123" >> "$BATON_OUTPUT"
      echo "checked out on $BATON_RUNNER_NAME"
  build-linux:
    depends_on: checkout
    runs_on: [beta]
    run: |
      echo "building \${{ tasks.checkout.outputs.sha }} for linux on $BATON_RUNNER_NAME"
      echo "bin=app-linux-\${{ tasks.checkout.outputs.sha }}" >> "$BATON_OUTPUT"
  build-mac:
    depends_on: checkout
    runs_on: [alpha]
    run: echo "bin=app-mac-\${{ tasks.checkout.outputs.sha }}" >> "$BATON_OUTPUT"
  test-linux:
    depends_on: build-linux
    runs_on: [beta]
    run: test "\${{ tasks.build-linux.outputs.bin }}" = app-linux-abc123
  test-mac:
    depends_on: build-mac
    run: test "\${{ tasks.build-mac.outputs.bin }}" = app-mac-abc123
  release:
    depends_on: [test-linux, test-mac, build-linux, build-mac]
    run: |
      echo "releasing \${{ tasks.build-linux.outputs.bin }} and \${{ tasks.build-mac.outputs.bin }}"
      echo "done=yes" >> "$BATON_OUTPUT"
`;

describe('server and runners as separate processes', () => {
  it('two runners execute a six-task DAG, outputs flow to dependents, and the run succeeds', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'alpha', { labels: ['alpha'] });
    await startRunnerProcess(server, 'beta', { labels: ['beta'] });
    const run = await server.client.submitRun(DAG);
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('succeeded');
    expect(result.results['checkout']?.runner).toBe('alpha');
    expect(result.results['build-linux']?.runner).toBe('beta');
    expect(result.results['release']?.outputs).toEqual({ done: 'yes' });
    const log = await server.client.taskLog(run.id, 'release');
    expect(log).toContain('releasing app-linux-abc123 and app-mac-abc123');
    expect(await server.client.taskLog(run.id, 'build-linux')).toContain('building abc123 for linux on beta');
  });

  it('a failing task skips its dependents, its sibling branch still runs, and the run fails', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'solo', { parallel: 2 });
    const run = await server.client.submitRun(
      readFileSync(new URL('../../examples/failing.yml', import.meta.url), 'utf8'),
    );
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('failed');
    expect(result.results['migrate']).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(result.results['deploy']?.status).toBe('skipped');
    expect(result.results['notify']?.status).toBe('skipped');
    expect(result.results['docs']?.status).toBe('succeeded');
    expect(await server.client.taskLog(run.id, 'migrate')).toContain('migration 0042 failed');
  });

  it('cancel stops a running sleep 600 within a heartbeat interval and leaves no process of it', async () => {
    const server = await startServerProcess({ heartbeatMs: 500 });
    await startRunnerProcess(server, 'solo');
    // A unique sleep length marks this test's processes, so they can be found in /proc whatever their PID namespace.
    const marker = `600.${process.pid}${Date.now() % 100000}`;
    const run = await server.client.submitRun(`
tasks:
  long:
    run: |
      sleep ${marker} &
      echo started
      sleep ${marker}
`);
    await waitFor(() => processesWithArg(marker).length === 2, 'both sleeps to run');
    await server.client.cancelRun(run.id);
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('cancelled');
    expect(result.results['long']?.status).toBe('cancelled');
    expect(processesWithArg(marker)).toEqual([]);
    expect(await server.client.taskLog(run.id, 'long')).toContain('started');
  });

  it('a runner stopped mid-queue shows as draining until its task ends, and picks up the remaining tasks when restarted', async () => {
    const server = await startServerProcess();
    const dir = tempDir();
    const runner = await startRunnerProcess(server, 'phoenix', { dir });
    const gate = join(stepVisibleDir(), 'gate');
    const run = await server.client.submitRun(`
tasks:
  one: { run: "echo one" }
  two: { depends_on: one, run: "while [ ! -e ${gate} ]; do sleep 0.05; done; echo two" }
  three: { depends_on: two, run: "echo three" }
  four: { depends_on: two, run: "echo four" }
`);
    await waitFor(
      async () => (await server.client.getRun(run.id)).results['two']?.status === 'running',
      'task two to start',
    );
    // First SIGTERM: the runner finishes the running task, takes nothing new, and exits 0.
    runner.proc.child.kill('SIGTERM');
    await waitForOutput(runner.proc, runner.output, /received SIGTERM/, 'the runner to take the signal');
    // The runner says so at once: the fleet shows it draining while the task (held by the gate) still runs.
    const phoenix = async () => (await server.client.listRunners()).runners.find((r) => r.name === 'phoenix');
    await waitFor(async () => (await phoenix())?.status === 'draining', 'the runner to show as draining');
    expect((await server.client.getRun(run.id)).results['two']?.status).toBe('running');
    expect(await phoenix()).toMatchObject({ activeTasks: 1, report: { draining: true } });
    writeFileSync(gate, '');
    const exit = await runner.proc.exited;
    expect(exit.code).toBe(0);
    const mid = await server.client.getRun(run.id);
    expect(mid.results['two']?.status).toBe('succeeded');
    expect(mid.results['three']?.status).toBe('queued');
    await launchRunner('phoenix', runner.config);
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('succeeded');
    expect(await server.client.taskLog(run.id, 'four')).toBe('four\n');
    // The restarted process reported afresh: no longer draining.
    expect((await phoenix())?.status).toBe('idle');
    await stopTracked(runner.proc);
  });
});
