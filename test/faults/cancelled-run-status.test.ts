// Fault (issue 12, finding 2): a runner stopped with two SIGTERMs cancels its only task. The run must not be
// reported green, and `baton submit --follow` must exit non-zero, as for every outcome but success.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitForOutput } from '../helpers/cluster.ts';
import {
  BIN,
  exitWithin,
  poll,
  registerRunner,
  startFaultServer,
  startRunner,
  uniqueMarker,
  waitForRunEnd,
  waitForTask,
} from '../helpers/fault-cluster.ts';
import { processesWithArg, startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

describe('a run whose only task was cancelled by a stopping runner', () => {
  it('ends cancelled, not succeeded, and `baton submit --follow` exits 1', async () => {
    const server = await startFaultServer();
    const runner = await startRunner(await registerRunner(server, 'stopped'));
    const marker = uniqueMarker();
    const workflow = join(tempDir('baton-cancelled-run-'), 'wf.yml');
    writeFileSync(workflow, `tasks:\n  only:\n    run: |\n      echo "started"\n      sleep ${marker}\n`);

    const submit = startTracked(
      'baton submit --follow',
      process.execPath,
      [BIN, 'submit', workflow, '--server', server.url, '--token', server.adminToken, '--follow'],
      {},
      true,
    );
    let out = '';
    submit.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    submit.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const runId = (await waitForOutput(submit, () => out, /^run (\S+) /m, 'the run id'))[1]!;
    await waitForTask(server.client, runId, 'only', (t) => t.status === 'running', 'to run');
    await poll(() => processesWithArg(marker).length === 1, 'the step to run');

    process.kill(runner.proc.pid, 'SIGTERM');
    await waitForOutput(
      runner.proc,
      runner.output,
      /received SIGTERM/,
      'the runner to take the first signal',
    );
    process.kill(runner.proc.pid, 'SIGTERM');
    await exitWithin(runner.proc, 15_000);

    const result = await waitForRunEnd(server.client, runId, 15_000);
    expect(result.results['only']).toMatchObject({ status: 'cancelled' });
    expect(result.status).toBe('cancelled');
    const exit = await exitWithin(submit, 15_000);
    expect({ exit, out }).toMatchObject({ exit: { code: 1, signal: null } });
    expect(out).toMatch(/run \S+ \(.*\) cancelled/);
  });
});
