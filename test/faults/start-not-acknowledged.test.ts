// Fault: the runner sends `start` while it prepares the task (work dir, step files, the contained step's init),
// and the acknowledgement never comes: the offer reached the runner only after its ack window (a link slowed
// to a trickle), so the server refuses the start. No step may run, nothing of that attempt may be left on the
// runner, and the task runs once, as its next attempt, when the link is back.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerRunner, startFaultServer, startRunner, waitForRunEnd } from '../helpers/fault-cluster.ts';
import { waitFor } from '../helpers/cluster.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { expectInvariants, storedAttempts } from '../helpers/invariants.ts';
import { stepVisibleDir } from '../helpers/temp.ts';

describe('start not acknowledged', () => {
  it('no step runs, the attempt leaves nothing behind, and the next attempt runs once', async () => {
    const server = await startFaultServer({
      heartbeatMs: 500,
      leaseTtlMs: 4_000,
      ackWindowMs: 300,
      sweepMs: 500,
    });
    const proxy = await startFaultProxy({ target: server.url });
    try {
      const reg = await registerRunner(server, 'slow-link', { serverUrl: proxy.url });
      const runner = await startRunner(reg);
      const ran = join(stepVisibleDir(), 'ran');
      // The held acquire's answer (the offer, over a kilobyte) now takes seconds to arrive: past the ack window.
      proxy.setMode('trickle');
      const run = await server.client.submitRun(`
tasks:
  once:
    run: |
      echo "attempt $BATON_ATTEMPT" >> ${ran}
`);
      await waitFor(() => /could not confirm task 'once'/.test(runner.output()), 'the refused start', 60_000);
      // Refused: nothing ran, and the prepared work dir and the spooled attempt are gone.
      expect(existsSync(ran)).toBe(false);
      expect(readdirSync(reg.workDir).filter((n) => n.startsWith('once-'))).toEqual([]);
      const spooled = readdirSync(reg.dir, { recursive: true, encoding: 'utf8' }).filter((p) =>
        /(^|\/)spool\/.+/.test(p),
      );
      expect(spooled).toEqual([]);
      proxy.setMode('pass');
      const result = await waitForRunEnd(server.client, run.id);
      expect(result.results['once']).toMatchObject({ status: 'succeeded', runner: 'slow-link' });
      const attempts = storedAttempts(server.database, result.results['once']!.id);
      expect(attempts.at(-1)!.state).toBe('finished');
      expect(attempts.slice(0, -1).every((a) => a.state === 'expired' && a.started_at === null)).toBe(true);
      expect(readFileSync(ran, 'utf8')).toBe(`attempt ${attempts.length}\n`);
      await expectInvariants({
        database: server.database,
        client: server.client,
        serverOutput: server.output(),
      });
    } finally {
      await proxy.close();
    }
  });
});
