// Fault: a runner frozen with SIGSTOP past its lease while the task is retried on another runner, then resumed
// with SIGCONT. The stale runner must learn from its next call that the lease is gone, kill its attempt, and
// leave nothing more in the store. (Its traffic goes through a pass-mode proxy only to record the answers.)
import { describe, expect, it } from 'vitest';
import {
  HTTP_ONLY,
  poll,
  registerRunner,
  reportTiming,
  startFaultServer,
  startRunner,
  uniqueMarker,
  waitForRunEnd,
  waitForTask,
} from '../helpers/fault-cluster.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { expectInvariants, storedAttempts, storedLog } from '../helpers/invariants.ts';
import { processesWithArg } from '../helpers/processes.ts';

// Its runner keeps to HTTP (HTTP_ONLY). The same fault over the session, in
// test/e2e/runner-session.test.ts: a duplicate complete frame and a stale lease refused as over HTTP.

describe('runner paused past its lease', () => {
  it('after SIGCONT its next call gets 409 lease_superseded, it kills the attempt, and the result is the retry’s', async () => {
    const server = await startFaultServer({ heartbeatMs: 500, leaseTtlMs: 4_000, sweepMs: 1_000 });
    const proxy = await startFaultProxy({ target: server.url });
    try {
      const marker = uniqueMarker();
      const sleeper = await startRunner(
        await registerRunner(server, 'sleeper', { serverUrl: proxy.url }),
        undefined,
        HTTP_ONLY,
      );
      const spareReg = await registerRunner(server, 'spare');
      const run = await server.client.submitRun(`
tasks:
  work:
    retries: { max: 1, backoff: 1s }
    run: |
      if [ "$BATON_ATTEMPT" = 1 ]; then
        sleep ${marker} &
        i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.1; done
      fi
      echo "attempt $BATON_ATTEMPT on $BATON_RUNNER_NAME"
`);
      const task = await waitForTask(
        server.client,
        run.id,
        'work',
        (t) => t.status === 'running' && t.runner === 'sleeper',
        'to run on sleeper',
      );
      await poll(
        () =>
          processesWithArg(marker).length === 1 &&
          storedLog(server.database, task.id, 1).includes('tick 3\n'),
        'attempt 1 to tick',
      );
      const lease = (
        await poll(
          () => proxy.exchanges.find((x) => /\/leases\/[0-9a-f]{32}\/start$/.test(x.path)),
          'the start call',
        )
      ).path.split('/')[5]!;
      await startRunner(spareReg);

      const stoppedAt = performance.now();
      process.kill(sleeper.proc.pid, 'SIGSTOP');
      let resumed = false;
      try {
        await waitForTask(
          server.client,
          run.id,
          'work',
          (t) => /runner lost: no heartbeat/.test(t.message ?? ''),
          'attempt 1 to be lost',
          10_000,
        );
        const detectMs = performance.now() - stoppedAt;
        const atLoss = storedLog(server.database, task.id, 1);
        const result = await waitForRunEnd(server.client, run.id);
        expect(result.results['work']).toMatchObject({ status: 'succeeded', attempt: 2, runner: 'spare' });

        // The frozen runner cannot stop its children: note whether attempt 1's processes outlived the retry.
        console.log(
          `[fault-timing] runner SIGSTOP: attempt 1 processes still running when attempt 2 had succeeded: ${processesWithArg(marker).length > 0}`,
        );
        const contAt = performance.now();
        process.kill(sleeper.proc.pid, 'SIGCONT');
        resumed = true;
        await poll(() => processesWithArg(marker).length === 0, 'the stale attempt to be killed', 5_000, 20);
        const killedMs = performance.now() - contAt;
        await poll(
          () => /not reporting a result/.test(sleeper.output()),
          'the stale runner to give the attempt up',
          10_000,
        );
        const calls = proxy.exchanges.filter(
          (x) => x.path.includes(`/leases/${lease}/`) && x.sentAt > contAt,
        );
        console.log(
          `[fault-timing] runner SIGSTOP: calls on the stale lease after SIGCONT: ${calls.map((x) => `${x.path.split('/').at(-1)} → ${x.status} ${x.code}`).join(', ') || 'none'}`,
        );
        expect(calls.length).toBeGreaterThan(0);
        // Soft: the checks below still run (and report) when the code differs.
        expect
          .soft(calls.map((x) => `${x.status} ${x.code}`))
          .toEqual(calls.map(() => '409 lease_superseded'));
        // Nothing of attempt 1 was stored after the server gave up on it, and it reported no result.
        expect(storedLog(server.database, task.id, 1)).toBe(atLoss);
        expect(storedAttempts(server.database, task.id).map((a) => [a.state, a.result === null])).toEqual([
          ['lost', true],
          ['finished', false],
        ]);
        const final = await server.client.getRun(run.id);
        expect(final.results['work']).toMatchObject({ status: 'succeeded', attempt: 2, runner: 'spare' });
        expect(await server.client.taskLog(run.id, 'work')).toBe('attempt 2 on spare\n');
        expect(sleeper.proc.child.exitCode).toBeNull();
        await expectInvariants({
          database: server.database,
          client: server.client,
          serverOutput: server.output(),
          markers: [marker],
        });
        reportTiming('runner SIGSTOP past lease', {
          'detect (lost)': detectMs,
          'retry succeeded': contAt - stoppedAt,
          'stale attempt killed after SIGCONT': killedMs,
        });
      } finally {
        if (!resumed) process.kill(sleeper.proc.pid, 'SIGCONT');
      }
    } finally {
      await proxy.close();
    }
  });
});
