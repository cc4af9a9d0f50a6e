// Fault: an operator stops a busy runner. One SIGTERM lets the running task finish and report; a second one
// cancels it, kills its whole process tree and keeps its partial log.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitForOutput } from '../helpers/cluster.ts';
import {
  exitWithin,
  poll,
  registerRunner,
  reportTiming,
  startFaultServer,
  startRunner,
  uniqueMarker,
  waitForRunEnd,
  waitForTask,
} from '../helpers/fault-cluster.ts';
import { expectInvariants } from '../helpers/invariants.ts';
import { processesWithArg } from '../helpers/processes.ts';
import { stepVisibleDir } from '../helpers/temp.ts';

describe('graceful stop of a busy runner', () => {
  it('one SIGTERM: the running task finishes and is reported, nothing new is taken, the runner exits 0', async () => {
    const server = await startFaultServer();
    const runner = await startRunner(await registerRunner(server, 'calm'));
    const gate = join(stepVisibleDir(), 'gate');
    const run = await server.client.submitRun(`
tasks:
  busy:
    run: |
      echo "working"
      while [ ! -e ${gate} ]; do sleep 0.05; done
      echo "finished after the signal"
`);
    await waitForTask(server.client, run.id, 'busy', (t) => t.status === 'running', 'to run');
    await poll(
      async () => (await server.client.taskLog(run.id, 'busy')).includes('working'),
      'the task to start working',
    );

    const signalledAt = performance.now();
    process.kill(runner.proc.pid, 'SIGTERM');
    await waitForOutput(runner.proc, runner.output, /received SIGTERM/, 'the runner to take the signal');
    const tookSignalMs = performance.now() - signalledAt;
    // Work submitted while the runner drains must stay queued for another runner.
    const later = await server.client.submitRun('tasks:\n  later:\n    run: echo later\n');
    writeFileSync(gate, '');
    const exit = await exitWithin(runner.proc, 15_000);
    const exitedMs = performance.now() - signalledAt;
    expect(exit).toEqual({ code: 0, signal: null });

    const result = await server.client.getRun(run.id);
    expect(result.results['busy']).toMatchObject({ status: 'succeeded', attempt: 1 });
    expect(await server.client.taskLog(run.id, 'busy')).toBe('working\nfinished after the signal\n');
    expect((await server.client.getRun(later.id)).results['later']).toMatchObject({
      status: 'queued',
      attempt: 0,
    });
    await expectInvariants({
      database: server.database,
      client: server.client,
      serverOutput: server.output(),
    });
    reportTiming('graceful stop (1 SIGTERM)', {
      'signal taken': tookSignalMs,
      'runner exited after task': exitedMs,
    });
  });

  it('two SIGTERMs: the task ends cancelled, its process tree is gone, the partial log is kept, the runner exits', async () => {
    const server = await startFaultServer();
    const runner = await startRunner(await registerRunner(server, 'hasty'));
    const marker = uniqueMarker();
    const run = await server.client.submitRun(`
tasks:
  long:
    run: |
      echo "partial output"
      sleep ${marker} &
      sleep ${marker}
      echo "never printed"
`);
    await waitForTask(server.client, run.id, 'long', (t) => t.status === 'running', 'to run');
    await poll(() => processesWithArg(marker).length === 2, 'both sleeps to run');
    await poll(
      async () => (await server.client.taskLog(run.id, 'long')).includes('partial output'),
      'the first line to be stored',
    );

    const signalledAt = performance.now();
    process.kill(runner.proc.pid, 'SIGTERM');
    await waitForOutput(
      runner.proc,
      runner.output,
      /received SIGTERM/,
      'the runner to take the first signal',
    );
    process.kill(runner.proc.pid, 'SIGTERM');
    await poll(() => processesWithArg(marker).length === 0, 'the task’s processes to be killed', 15_000, 20);
    const treeGoneMs = performance.now() - signalledAt;
    const exit = await exitWithin(runner.proc, 15_000);
    const exitedMs = performance.now() - signalledAt;
    expect(exit).toEqual({ code: 0, signal: null });

    const result = await waitForRunEnd(server.client, run.id, 5_000);
    expect(result.results['long']).toMatchObject({ status: 'cancelled', attempt: 1 });
    const log = await server.client.taskLog(run.id, 'long');
    expect(log).toContain('partial output');
    expect(log).not.toContain('never printed');
    await expectInvariants({
      database: server.database,
      client: server.client,
      serverOutput: server.output(),
      markers: [marker],
    });
    reportTiming('graceful stop (2 SIGTERMs)', {
      'process tree gone': treeGoneMs,
      'runner exited': exitedMs,
    });
  });
});
