// Fault: a runner SIGKILLed by PID in the middle of a task. The server must notice the silence within the lease
// TTL and one sweep, retry the task elsewhere when it declares retries, and keep what was acknowledged.
import { describe, expect, it } from 'vitest';
import {
  poll,
  registerRunner,
  reportTiming,
  startFaultServer,
  startRunner,
  uniqueMarker,
  waitForRunEnd,
  waitForTask,
} from '../helpers/fault-cluster.ts';
import { expectInvariants, storedAttempts, storedLog } from '../helpers/invariants.ts';
import { processesWithArg } from '../helpers/processes.ts';

describe('runner killed mid-task', () => {
  it('the attempt is runner_lost within TTL + one sweep, the retry succeeds on another runner, nothing of the killed attempt survives', async () => {
    const server = await startFaultServer({ heartbeatMs: 500, leaseTtlMs: 4_000, sweepMs: 1_000 });
    const marker = uniqueMarker();
    const alpha = await startRunner(await registerRunner(server, 'alpha'));
    const betaReg = await registerRunner(server, 'beta');
    // `retries: 1` in its map form, to keep the retry backoff (default 10 s) short.
    const run = await server.client.submitRun(`
tasks:
  work:
    retries: { max: 1, backoff: 1s }
    run: |
      echo "attempt $BATON_ATTEMPT on $BATON_RUNNER_NAME"
      if [ "$BATON_ATTEMPT" = 1 ]; then
        i=0; while [ $i -lt 20 ]; do echo "progress $i"; i=$((i+1)); done
        sleep ${marker} &
        sleep ${marker}
      fi
      echo "finished attempt $BATON_ATTEMPT"
`);
    const running = await waitForTask(
      server.client,
      run.id,
      'work',
      (t) => t.status === 'running' && t.runner === 'alpha',
      'to run on alpha',
    );
    await poll(() => processesWithArg(marker).length === 2, 'both sleeps of attempt 1 to run');
    // What the server acknowledged before the kill: it must all still be there afterwards.
    const acked = await poll(() => {
      const log = storedLog(server.database, running.id, 1);
      return log.includes('progress 19') && log;
    }, 'the progress lines to be acknowledged');
    const beta = await startRunner(betaReg);

    const killedAt = performance.now();
    process.kill(alpha.proc.pid, 'SIGKILL');
    await alpha.proc.exited;
    await poll(
      () => processesWithArg(marker).length === 0,
      'the killed attempt’s processes to die',
      5_000,
      20,
    );
    const treeGoneMs = performance.now() - killedAt;

    const lost = await waitForTask(
      server.client,
      run.id,
      'work',
      (t) => /runner lost: no heartbeat for \d+s/.test(t.message ?? ''),
      'to be marked lost',
      15_000,
    );
    const detectMs = performance.now() - killedAt;
    expect(storedAttempts(server.database, running.id)[0]?.state).toBe('lost');
    expect(lost.message).toMatch(/runner_lost: runner lost: no heartbeat for \d+s/);
    // TTL + one sweep, and a little for two processes sharing two cores.
    expect(detectMs).toBeLessThan(4_000 + 1_000 + 1_000);

    const result = await waitForRunEnd(server.client, run.id);
    const recoverMs = performance.now() - killedAt;
    expect(result.status).toBe('succeeded');
    expect(result.results['work']).toMatchObject({ status: 'succeeded', attempt: 2, runner: 'beta' });
    expect(await server.client.taskLog(run.id, 'work')).toContain('finished attempt 2');
    const keptLog = storedLog(server.database, running.id, 1);
    expect(keptLog.startsWith(acked)).toBe(true);
    expect(keptLog).not.toContain('finished attempt');
    expect(processesWithArg(marker)).toEqual([]);
    expect(beta.proc.child.exitCode).toBeNull();
    await expectInvariants({
      database: server.database,
      client: server.client,
      serverOutput: server.output(),
      markers: [marker],
    });
    reportTiming('runner SIGKILL', {
      'process tree gone': treeGoneMs,
      'detect (runner_lost)': detectMs,
      'recover (retry succeeded)': recoverMs,
    });
  });
});
