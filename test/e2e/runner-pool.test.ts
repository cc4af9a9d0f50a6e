// The ephemeral runner pool with real processes: a server, `baton runner pool`, and the slots' runners it
// starts. Every task runs on a runner identity of its own that is gone from the server afterwards; a slot's
// lifetime drains it; a slot killed mid-task is replaced and its task ends `runner_lost` (and is retried);
// SIGTERM drains, a second cancels; a killed pool leaves nothing running.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectInvariants, storedAttempts } from '../helpers/invariants.ts';
import {
  BIN,
  exitWithin,
  poll,
  startFaultServer,
  uniqueMarker,
  waitForRunEnd,
  waitForTask,
} from '../helpers/fault-cluster.ts';
import { startPool } from '../helpers/pool.ts';
import { pidAlive, processesWithArg, startTracked } from '../helpers/processes.ts';
import { stepVisibleDir } from '../helpers/temp.ts';
import { sandboxPlan } from '../../src/engine/index.ts';

const canRunBwrap = !('error' in (await sandboxPlan()));

describe('baton runner pool', () => {
  it('3 slots run 9 tasks, each on a different runner identity that no longer exists afterwards', async () => {
    const server = await startFaultServer();
    const pool = startPool(server, 3, ['--labels', 'pool']);
    const tasks = Array.from(
      { length: 9 },
      (_, i) => `  t${i}:\n    runs_on: [pool]\n    run: echo "task ${i} on $BATON_RUNNER_NAME"\n`,
    ).join('');
    const run = await server.client.submitRun(`tasks:\n${tasks}`);
    const result = await waitForRunEnd(server.client, run.id, 120_000);
    expect(result.status).toBe('succeeded');
    const runners = Object.values(result.results).map((t) => t.runner);
    expect(runners.every((r) => typeof r === 'string')).toBe(true);
    expect(new Set(runners).size).toBe(9);
    // No graveyard: none of those identities is left on the server once its slot moved on.
    await poll(async () => {
      const names = new Set((await server.client.listRunners()).runners.map((r) => r.name));
      return runners.every((r) => !names.has(r!));
    }, 'the spent pool runners to be gone from the server');
    // The pool's live identities are flagged ephemeral, and `baton runners list` says so.
    const live = (await server.client.listRunners()).runners;
    expect(live.length).toBeGreaterThan(0);
    expect(live.every((r) => r.ephemeral === true)).toBe(true);
    const list = startTracked('runners list', process.execPath, [BIN, 'runners', 'list'], {
      env: { ...process.env, BATON_SERVER: server.url, BATON_TOKEN: server.adminToken },
    });
    let listed = '';
    list.child.stdout?.on('data', (d: Buffer) => (listed += d.toString()));
    expect((await list.exited).code).toBe(0);
    for (const r of live) expect(listed).toMatch(new RegExp(`${r.id}\\s+${r.name}.*ephemeral`));
    expect(pool.status()!.slots.reduce((n, s) => n + s.tasksServed, 0)).toBe(9);
    // `baton runner pool status` reads the pool's dir: one line per slot with state, task, served and age.
    const status = startTracked('pool status', process.execPath, [
      BIN,
      'runner',
      'pool',
      'status',
      '--dir',
      pool.dir,
    ]);
    let text = '';
    status.child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
    expect((await status.exited).code).toBe(0);
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^pool pid ${pool.proc.pid} \\(running\\)`));
    expect(lines[1]).toMatch(/^SLOT\s+STATE\s+TASK\s+SERVED\s+AGE\s+RUNNER$/);
    expect(lines.slice(2)).toHaveLength(3);
    const served = lines.slice(2).map((l) => Number(l.trim().split(/\s+/)[3]));
    expect(served.reduce((a, b) => a + b, 0)).toBe(9);

    pool.proc.child.kill('SIGTERM');
    expect((await exitWithin(pool.proc, 30_000)).code).toBe(0);
    await poll(
      async () => (await server.client.listRunners()).runners.length === 0,
      'every pool runner to be unregistered',
    );
  });

  it('--lifetime: each slot drains when its lifetime is reached, and the pool exits 0 by itself', async () => {
    const server = await startFaultServer();
    const pool = startPool(server, 2, ['--lifetime', '2s']);
    const run = await server.client.submitRun(`tasks:\n  one:\n    run: echo served\n`);
    expect((await waitForRunEnd(server.client, run.id)).status).toBe('succeeded');
    const exit = await exitWithin(pool.proc, 60_000);
    expect(exit.code).toBe(0);
    expect(pool.output()).toMatch(/slot 0 stopped after \d+ task\(s\) \(lifetime reached\)/);
    expect(pool.output()).toMatch(/slot 1 stopped after \d+ task\(s\) \(lifetime reached\)/);
    expect(pool.status()!.slots.map((s) => s.state)).toEqual(['stopped', 'stopped']);
    expect((await server.client.listRunners()).runners).toEqual([]);
  });

  it('a slot SIGKILLed mid-task is replaced; its task ends runner_lost and is retried on a new identity', async () => {
    const server = await startFaultServer({ heartbeatMs: 500, leaseTtlMs: 4_000, sweepMs: 500 });
    const pool = startPool(server, 1);
    const marker = uniqueMarker();
    const gate = stepVisibleDir('baton-pool-gate-');
    const run = await server.client.submitRun(`
tasks:
  work:
    retries: { max: 1, backoff: 1s }
    run: |
      if [ "$BATON_ATTEMPT" = 1 ]; then
        touch ${join(gate, 'attempt1')}
        sleep ${marker}
      fi
      echo "attempt $BATON_ATTEMPT on $BATON_RUNNER_NAME"
`);
    const first = await waitForTask(server.client, run.id, 'work', (t) => t.status === 'running', 'to run');
    await poll(() => existsSync(join(gate, 'attempt1')), 'attempt 1 to start');
    const slotPid = await poll(() => pool.status()?.slots[0]?.pid ?? undefined, 'the slot runner pid');
    process.kill(slotPid, 'SIGKILL');
    const result = await waitForRunEnd(server.client, run.id, 60_000);
    expect(result.status).toBe('succeeded');
    expect(result.results.work!.attempt).toBe(2);
    expect(result.results.work!.runner).not.toBe(first.runner);
    const attempts = storedAttempts(server.database, first.id);
    expect(attempts.map((a) => a.state)).toEqual(['lost', 'finished']);
    expect(pidAlive(slotPid)).toBe(false);
    expect(pidAlive(pool.proc.pid)).toBe(true);

    // Without retries the task simply ends runner_lost.
    const run2 = await server.client.submitRun(`
tasks:
  once:
    run: |
      touch ${join(gate, 'once')}
      sleep ${marker}
`);
    await poll(() => existsSync(join(gate, 'once')), 'the task to start');
    const pid2 = await poll(() => pool.status()?.slots[0]?.pid ?? undefined, 'the slot runner pid');
    writeFileSync(join(gate, 'killed'), String(pid2));
    process.kill(pid2, 'SIGKILL');
    const r2 = await waitForRunEnd(server.client, run2.id, 60_000);
    expect(r2.results.once!.status).toBe('runner_lost');
    pool.proc.child.kill('SIGTERM');
    expect((await exitWithin(pool.proc, 30_000)).code).toBe(0);
    await expectInvariants({
      database: server.database,
      client: server.client,
      serverOutput: server.output(),
      markers: [marker],
    });
  });

  it('SIGTERM once drains (the running task finishes); twice cancels the running task; the pool exits 0', async () => {
    const server = await startFaultServer();
    const gate = stepVisibleDir('baton-pool-stop-');
    const pool = startPool(server, 2);
    const run = await server.client.submitRun(`
tasks:
  finishes:
    run: |
      touch ${join(gate, 'finishes.started')}
      while [ ! -e ${join(gate, 'finishes.go')} ]; do sleep 0.1; done
      echo finished
`);
    await poll(() => existsSync(join(gate, 'finishes.started')), 'the task to start');
    pool.proc.child.kill('SIGTERM');
    await poll(() => pool.status()?.stopping, 'the pool to drain');
    // Draining: the idle slot stops, the busy one finishes its task.
    writeFileSync(join(gate, 'finishes.go'), '');
    expect((await waitForRunEnd(server.client, run.id)).status).toBe('succeeded');
    expect((await exitWithin(pool.proc, 30_000)).code).toBe(0);

    const pool2 = startPool(server, 1);
    const run2 = await server.client.submitRun(`
tasks:
  cancelled:
    run: |
      touch ${join(gate, 'cancelled.started')}
      sleep 600
`);
    await poll(() => existsSync(join(gate, 'cancelled.started')), 'the second task to start');
    pool2.proc.child.kill('SIGTERM');
    await poll(() => pool2.status()?.stopping, 'the second pool to drain');
    pool2.proc.child.kill('SIGTERM');
    const r2 = await waitForRunEnd(server.client, run2.id);
    expect(r2.results.cancelled!.status).toBe('cancelled');
    expect((await exitWithin(pool2.proc, 30_000)).code).toBe(0);
    await poll(
      async () => (await server.client.listRunners()).runners.length === 0,
      'every pool runner to be gone',
    );
  });

  it('a pool killed with SIGKILL takes its slots and their tasks with it', async () => {
    const server = await startFaultServer();
    const marker = uniqueMarker();
    const pool = startPool(server, 1);
    const run = await server.client.submitRun(`tasks:\n  long:\n    run: sleep ${marker}\n`);
    await poll(() => processesWithArg(marker).length === 1, 'the task to run');
    const slotPid = pool.status()!.slots[0]!.pid!;
    process.kill(pool.proc.pid, 'SIGKILL');
    await pool.proc.exited;
    await poll(
      () => !pidAlive(slotPid) && processesWithArg(marker).length === 0,
      "the slot's runner and its task to be gone",
    );
    expect((await waitForRunEnd(server.client, run.id)).results.long!.status).toBe('cancelled');
  });

  it('an unknown isolation level is refused before any slot starts, naming the value and the choices', async () => {
    const server = await startFaultServer();
    const pool = startPool(server, 1, ['--isolation', 'nonesuch']);
    expect((await exitWithin(pool.proc, 60_000)).code).toBe(2);
    expect(pool.output()).toMatch(/--isolation must be one of host, sandbox, got "nonesuch"/);
    expect((await server.client.listRunners()).runners).toEqual([]);
  });

  it.runIf(canRunBwrap)(
    'a sandboxed pool (bwrap) takes tasks that require a sandbox and runs them in it, one identity each',
    async () => {
      const server = await startFaultServer();
      const pool = startPool(server, 2, ['--isolation', 'sandbox', '--labels', 'untrusted']);
      const tasks = Array.from(
        { length: 3 },
        (_, i) =>
          `  t${i}:\n    runs_on: [untrusted]\n    run: |\n      if touch /usr/baton-escape-${i} 2>/dev/null; then echo "wrote /usr"; exit 1; fi\n      echo "sandboxed ${i}"\n`,
      ).join('');
      const run = await server.client.submitRun(`isolation: sandbox\ntasks:\n${tasks}`);
      const result = await waitForRunEnd(server.client, run.id, 120_000);
      expect(result.status).toBe('succeeded');
      const runners = Object.values(result.results).map((t) => t.runner);
      expect(new Set(runners).size).toBe(3);
      for (let i = 0; i < 3; i++) {
        expect(await server.client.taskLog(run.id, `t${i}`)).toBe(`sandboxed ${i}\n`);
        expect(existsSync(`/usr/baton-escape-${i}`)).toBe(false);
      }
      // The server offered the tasks only because the slots' runners report a sandbox: the fresh slots do too.
      await poll(async () => {
        const live = (await server.client.listRunners()).runners;
        return live.length === 2 && live.every((r) => r.report?.isolation === 'sandbox');
      }, 'the fresh slot runners to report a sandbox');
      await poll(
        () => pool.status()?.slots.reduce((n, s) => n + s.tasksServed, 0) === 3,
        'the pool to count the three tasks served',
      );
    },
  );
});
