// Fault: the server commits an offer and answers the runner's acquire, but the answer never arrives (the proxy
// swallows the `200` and resets the connection). The offer must come back after the short ack window, and the
// task must run exactly once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  HTTP_ONLY,
  poll,
  registerRunner,
  reportTiming,
  startFaultServer,
  startRunner,
  waitForRunEnd,
} from '../helpers/fault-cluster.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { expectInvariants, storedAttempts } from '../helpers/invariants.ts';
import { stepVisibleDir } from '../helpers/temp.ts';

const ACK_WINDOW_MS = 2_000;

// Its runner keeps to HTTP (HTTP_ONLY). The same fault over the session, in
// test/e2e/runner-session.test.ts: offers pushed on the session; one pushed into a dead connection returns
// after the ack window (docs/adr/0023).

describe('offer lost on the wire', () => {
  it('the task is offered again after the ack window, and only one attempt ever runs', async () => {
    const server = await startFaultServer({
      heartbeatMs: 500,
      leaseTtlMs: 4_000,
      ackWindowMs: ACK_WINDOW_MS,
      sweepMs: 1_000,
    });
    const proxy = await startFaultProxy({ target: server.url });
    try {
      const runner = await startRunner(
        await registerRunner(server, 'deaf', { serverUrl: proxy.url }),
        undefined,
        HTTP_ONLY,
      );
      const ran = join(stepVisibleDir(), 'ran');
      const dropped = proxy.dropNextOffer();
      const run = await server.client.submitRun(`
tasks:
  once:
    run: |
      echo "attempt $BATON_ATTEMPT" >> ${ran}
      echo "ran attempt $BATON_ATTEMPT"
`);
      const droppedAt = await dropped;
      const taskId = (await server.client.getRun(run.id)).results['once']!.id;
      const requeued = await poll(
        () => storedAttempts(server.database, taskId)[0]?.state === 'expired',
        'the offer to be withdrawn',
        ACK_WINDOW_MS + 4_000,
        20,
      ).then(() => performance.now() - droppedAt);
      const result = await waitForRunEnd(server.client, run.id);
      const recoverMs = performance.now() - droppedAt;

      expect(result.results['once']).toMatchObject({ status: 'succeeded', attempt: 2, runner: 'deaf' });
      const attempts = storedAttempts(server.database, taskId);
      expect(attempts.map((a) => a.state)).toEqual(['expired', 'finished']);
      expect(attempts[0]!.started_at).toBeNull();
      expect(readFileSync(ran, 'utf8')).toBe('attempt 2\n');
      // Ack window + one sweep (+ slack for a loaded machine), not a task timeout.
      expect(requeued).toBeLessThan(ACK_WINDOW_MS + 1_000 + 1_000);
      expect(runner.proc.child.exitCode).toBeNull();
      await expectInvariants({
        database: server.database,
        client: server.client,
        serverOutput: server.output(),
      });
      reportTiming('offer lost on the wire', {
        'detect (offer withdrawn)': requeued,
        'recover (task succeeded)': recoverMs,
      });
    } finally {
      await proxy.close();
    }
  });
});
