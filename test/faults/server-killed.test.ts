// Fault: the server SIGKILLed in the middle of a task and started again on the same data dir and port within
// the lease. The runner keeps working through the downtime; nothing of the task's log is lost or doubled.
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.ts';
import type { CompleteBody } from '../../src/protocol/api.ts';
import {
  poll,
  registerRunner,
  reportTiming,
  restartFaultServer,
  startFaultServer,
  startRunner,
  waitForRunEnd,
  waitForTask,
} from '../helpers/fault-cluster.ts';
import { expectInvariants, storedAttempts, storedLog } from '../helpers/invariants.ts';

const LINES = 600;

describe('server killed mid-task', () => {
  it('restarted on the same port within the lease: the task succeeds on attempt 1 with every line stored once, in order', async () => {
    // A lease long enough that a restart on a loaded machine still falls inside it: the runner's step kills
    // itself (dead-man switch) once the lease could have run out, which would turn this into another test.
    const first = await startFaultServer({ heartbeatMs: 500, leaseTtlMs: 15_000, sweepMs: 1_000 });
    const runner = await startRunner(await registerRunner(first, 'steady'));
    const run = await first.client.submitRun(`
tasks:
  count:
    run: |
      i=1
      while [ $i -le ${LINES} ]; do printf 'line %04d\\n' $i; sleep 0.005; i=$((i+1)); done
      echo done
`);
    const task = await waitForTask(first.client, run.id, 'count', (t) => t.status === 'running', 'to run');
    await poll(
      () => (storedLog(first.database, task.id, 1).match(/^line /gm)?.length ?? 0) >= 100,
      'a hundred lines to be stored',
    );

    const killedAt = performance.now();
    process.kill(first.proc.pid, 'SIGKILL');
    await first.proc.exited;
    // The downtime lasts until the runner has noticed it (at most two heartbeat intervals).
    const noticed = await poll(
      () => /server unreachable/.test(runner.output()),
      'the runner to notice',
      1_000,
      20,
    ).catch(() => false);
    const second = await restartFaultServer(first);
    const backAt = performance.now();
    expect(second.port).toBe(first.port);

    const result = await waitForRunEnd(second.client, run.id);
    const recoverMs = performance.now() - killedAt;
    expect(result.status).toBe('succeeded');
    expect(result.results['count']).toMatchObject({ status: 'succeeded', attempt: 1, runner: 'steady' });
    expect(storedAttempts(second.database, task.id).map((a) => a.state)).toEqual(['finished']);

    const log = await second.client.taskLog(run.id, 'count');
    const numbered = log.split('\n').filter((l) => l.startsWith('line '));
    expect(numbered).toEqual(
      Array.from({ length: LINES }, (_, k) => `line ${String(k + 1).padStart(4, '0')}`),
    );
    expect(log).toContain('done\n');
    expect(runner.proc.child.exitCode).toBeNull();
    // A `complete` sent again (as after a timeout) gets the first answer and changes nothing.
    const db = new Database(second.database, { readonly: true });
    const attempt = db.prepare('SELECT lease_id, result FROM attempts WHERE task_id = ?').get(task.id) as {
      lease_id: string;
      result: string;
    };
    db.close();
    const asRunner = createClient({
      baseUrl: second.url,
      token: (JSON.parse(readFileSync(runner.config, 'utf8')) as { token: string }).token,
    });
    const report = (JSON.parse(attempt.result) as { report: CompleteBody }).report;
    expect(await asRunner.complete(attempt.lease_id, report)).toEqual({ status: 'succeeded' });
    expect((await second.client.getRun(run.id)).results['count']).toEqual(result.results['count']);
    await expectInvariants({
      database: second.database,
      client: second.client,
      serverOutput: first.output() + second.output(),
    });
    reportTiming('server SIGKILL + restart', {
      'server down': backAt - killedAt,
      'recover (task succeeded)': recoverMs,
    });
    console.log(
      `[fault-timing] server SIGKILL: runner logged "server unreachable" during the downtime: ${noticed}`,
    );
  });
});
