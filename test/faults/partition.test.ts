// Fault: the network between a runner and the server goes silent (a TCP proxy of our own blackholes every
// connection, existing and new). Shorter than the lease, nothing is lost; longer, the server declares the attempt
// lost and the runner, on its own monotonic deadline, kills it first.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.ts';
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
import { stepVisibleDir } from '../helpers/temp.ts';

const HEARTBEAT_MS = 500;

// Its runner keeps to HTTP (HTTP_ONLY). The same fault over the session, in
// test/e2e/runner-session.test.ts: a session cut for longer than the lease.

function runnerToken(config: string): string {
  return (JSON.parse(readFileSync(config, 'utf8')) as { token: string }).token;
}
const TTL_MS = 4_000;

describe('network partition between runner and server', () => {
  it('shorter than the lease: the task succeeds on attempt 1 with its log complete and in order', async () => {
    const server = await startFaultServer({ heartbeatMs: HEARTBEAT_MS, leaseTtlMs: TTL_MS });
    const proxy = await startFaultProxy({ target: server.url });
    try {
      const runner = await startRunner(
        await registerRunner(server, 'edge', { serverUrl: proxy.url }),
        undefined,
        HTTP_ONLY,
      );
      const gate = join(stepVisibleDir(), 'gate');
      const run = await server.client.submitRun(`
tasks:
  stream:
    run: |
      i=1
      while [ ! -e ${gate} ]; do echo "line $i"; i=$((i+1)); sleep 0.02; done
      echo "last line $i"
`);
      const task = await waitForTask(
        server.client,
        run.id,
        'stream',
        (t) => t.status === 'running',
        'to run',
      );
      await poll(
        () => storedLog(server.database, task.id, 1).includes('line 20\n'),
        'some lines to be stored',
      );

      const cutAt = performance.now();
      proxy.setMode('blackhole');
      // The fault lasts half the TTL: well inside the lease, well past a heartbeat interval.
      await poll(() => performance.now() - cutAt > TTL_MS / 2, 'half the TTL to pass', TTL_MS, 20);
      const saidUnreachable = /server unreachable, retrying/.test(runner.output());
      proxy.setMode('pass');
      const healedAt = performance.now();
      const firstAnswer = await poll(
        () =>
          proxy.exchanges.find(
            (x) => x.sentAt >= healedAt && x.status === 200 && x.path.includes('/leases/'),
          ),
        'a lease call to get through after the heal',
        5_000,
        20,
      );
      const reconnectMs = firstAnswer.answeredAt! - healedAt;
      writeFileSync(gate, '');

      const result = await waitForRunEnd(server.client, run.id);
      const recoverMs = performance.now() - healedAt;
      expect(result.status).toBe('succeeded');
      expect(result.results['stream']).toMatchObject({ status: 'succeeded', attempt: 1 });
      expect(storedAttempts(server.database, task.id).map((a) => a.state)).toEqual(['finished']);
      const lines = (await server.client.taskLog(run.id, 'stream')).trimEnd().split('\n');
      const last = Number(/^last line (\d+)$/.exec(lines.at(-1) ?? '')?.[1]);
      expect(lines).toEqual([
        ...Array.from({ length: last - 1 }, (_, k) => `line ${k + 1}`),
        `last line ${last}`,
      ]);
      await expectInvariants({
        database: server.database,
        client: server.client,
        serverOutput: server.output(),
      });
      reportTiming('partition < TTL', {
        'partition held': healedAt - cutAt,
        'recover (first lease call through after heal)': reconnectMs,
        'task succeeded after heal': recoverMs,
      });
      console.log(
        `[fault-timing] partition < TTL: runner logged "server unreachable" during the partition: ${saidUnreachable}`,
      );
      // The runner tells its operator what happened, in this order.
      const out = runner.output();
      expect(out).toMatch(/server unreachable, retrying/);
      expect(out).toMatch(/connection restored/);
      expect(out.indexOf('server unreachable, retrying')).toBeLessThan(out.indexOf('connection restored'));
    } finally {
      await proxy.close();
    }
  });

  it('longer than the lease: the runner kills its attempt first, the server marks it lost, later calls get 409 lease_expired', async () => {
    const server = await startFaultServer({ heartbeatMs: HEARTBEAT_MS, leaseTtlMs: TTL_MS });
    const proxy = await startFaultProxy({ target: server.url });
    try {
      const reg = await registerRunner(server, 'island', { serverUrl: proxy.url });
      const runner = await startRunner(reg, undefined, HTTP_ONLY);
      const marker = uniqueMarker();
      const run = await server.client.submitRun(`
tasks:
  stranded:
    run: |
      echo "before the partition"
      sleep ${marker} &
      sleep ${marker}
`);
      const task = await waitForTask(
        server.client,
        run.id,
        'stranded',
        (t) => t.status === 'running',
        'to run',
      );
      await poll(() => processesWithArg(marker).length === 2, 'both sleeps to run');
      await poll(
        () => storedLog(server.database, task.id, 1).includes('before the partition'),
        'the first line to be stored',
      );
      const lease = (
        await poll(
          () => proxy.exchanges.find((x) => /\/leases\/[0-9a-f]{32}\/start$/.test(x.path)),
          'the start call',
        )
      ).path.split('/')[5]!;

      const cutAt = performance.now();
      proxy.setMode('blackhole');
      let selfKilledMs: number | undefined;
      const lost = await poll(
        () => {
          if (selfKilledMs === undefined && processesWithArg(marker).length === 0)
            selfKilledMs = performance.now() - cutAt;
          return storedAttempts(server.database, task.id)[0]?.state === 'lost';
        },
        'the server to mark the attempt lost',
        TTL_MS + 4_000,
        20,
      ).then(() => performance.now() - cutAt);
      // The runner's own deadline (monotonic clock) passed before the server could re-offer the task.
      await poll(
        () => processesWithArg(marker).length === 0,
        'the runner to kill its own attempt',
        5_000,
        20,
      );
      selfKilledMs ??= performance.now() - cutAt;
      expect(selfKilledMs).toBeLessThan(lost);

      const healedAt = performance.now();
      proxy.setMode('pass');
      const result = await waitForRunEnd(server.client, run.id);
      expect(result.results['stranded']).toMatchObject({ status: 'runner_lost', attempt: 1 });
      expect(result.results['stranded']?.message).toMatch(/runner lost: no heartbeat for \d+s/);
      const stored = storedLog(server.database, task.id, 1);
      await poll(
        () => /not reporting a result/.test(runner.output()),
        'the runner to give the attempt up',
        10_000,
      );
      // Later calls on the lost lease are refused as expired: the runner's own, and one made with its token.
      const later = proxy.exchanges.filter(
        (x) => x.path.includes(`/leases/${lease}/`) && x.sentAt > healedAt && x.status !== undefined,
      );
      expect(later.map((x) => `${x.status} ${x.code}`)).toEqual(later.map(() => '409 lease_expired'));
      const asRunner = createClient({ baseUrl: server.url, token: runnerToken(reg.config) });
      await expect(asRunner.heartbeat(lease)).rejects.toMatchObject({ status: 409, code: 'lease_expired' });
      expect(storedLog(server.database, task.id, 1)).toBe(stored);
      expect(runner.proc.child.exitCode).toBeNull();
      await expectInvariants({
        database: server.database,
        client: server.client,
        serverOutput: server.output(),
        markers: [marker],
      });
      reportTiming('partition > TTL', {
        'runner killed its attempt': selfKilledMs,
        'server detect (lost)': lost,
      });
    } finally {
      await proxy.close();
    }
  });
});
