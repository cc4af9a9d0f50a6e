// Placement (issue 17) with real processes: tasks spread over the runners that can take them, and a runner whose
// process stopped (SIGSTOP, its long poll still held open) is never offered a task.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  startRunnerProcess,
  startServerProcess,
  waitFor,
  waitForRun,
  type ServerProcess,
} from '../helpers/cluster.ts';

function workflow(count: number, seconds: number): string {
  const tasks = Array.from(
    { length: count },
    (_, i) =>
      `  t${i}:\n    runs_on: [pool]\n    run: sleep ${seconds}; echo "t${i} on $BATON_RUNNER_NAME"\n`,
  );
  return `name: spread\ntasks:\n${tasks.join('')}`;
}

/** Waits until every named runner shows `status` in the fleet list (and, for idle, has sent its report). */
async function waitForStatus(server: ServerProcess, names: string[], status: string) {
  return waitFor(
    async () => {
      const { runners } = await server.client.listRunners();
      const wanted = runners.filter((r) => names.includes(r.name));
      const ready = wanted.every((r) => r.status === status && (status !== 'idle' || r.report !== undefined));
      return wanted.length === names.length && ready && wanted;
    },
    `runners ${names.join(', ')} to be ${status}`,
  );
}

function tasksPerRunner(results: Record<string, { runner?: string | null }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of Object.values(results)) counts[r.runner ?? '-'] = (counts[r.runner ?? '-'] ?? 0) + 1;
  return counts;
}

/** Every attempt a runner was ever offered, withdrawn offers included, read from the server's database. */
function attemptsOf(server: ServerProcess, runnerId: string): number {
  const db = new Database(join(server.dataDir, 'baton.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT count(*) AS n FROM attempts WHERE runner_id = ?').get(runnerId) as {
      n: number;
    };
    return row.n;
  } finally {
    db.close();
  }
}

describe('placement across runner processes', () => {
  it('9 tasks on 3 runners of capacity 1 spread: each runner runs at least 2', async () => {
    const server = await startServerProcess();
    const names = ['r1', 'r2', 'r3'];
    for (const name of names) await startRunnerProcess(server, name, { labels: ['pool'] });
    await waitForStatus(server, names, 'idle');
    const run = await server.client.submitRun(workflow(9, 0.5));
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('succeeded');
    const counts = tasksPerRunner(result.results);
    for (const name of names) expect(counts[name] ?? 0, JSON.stringify(counts)).toBeGreaterThanOrEqual(2);
  });

  it('2 tasks on 2 runners of capacity 2: one each, not both on the first', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'a', { labels: ['pool'], parallel: 2 });
    await startRunnerProcess(server, 'b', { labels: ['pool'], parallel: 2 });
    await waitForStatus(server, ['a', 'b'], 'idle');
    for (let round = 0; round < 3; round++) {
      const run = await server.client.submitRun(workflow(2, 0.2));
      const result = await waitForRun(server.client, run.id);
      expect(result.status).toBe('succeeded');
      expect(tasksPerRunner(result.results), `round ${round}`).toEqual({ a: 1, b: 1 });
      await waitForStatus(server, ['a', 'b'], 'idle');
    }
  });

  it('a runner frozen with SIGSTOP while its long poll is held is never offered a task, and takes tasks again after SIGCONT', async () => {
    const server = await startServerProcess({ heartbeatMs: 500 });
    const frozen = await startRunnerProcess(server, 'frozen', { labels: ['pool'] });
    await startRunnerProcess(server, 'awake', { labels: ['pool'] });
    const [view] = (await waitForStatus(server, ['frozen', 'awake'], 'idle')).filter(
      (r) => r.name === 'frozen',
    );
    process.kill(frozen.proc.pid, 'SIGSTOP');
    try {
      await waitForStatus(server, ['frozen'], 'offline');
      const run = await server.client.submitRun(workflow(3, 0.1));
      const pending = await server.client.whyPending(run.id, 't0');
      const reasons = pending.runners.find((r) => r.name === 'frozen')?.reasons ?? [];
      expect(reasons.map((r) => r.code)).toContain('offline');
      const result = await waitForRun(server.client, run.id);
      expect(result.status).toBe('succeeded');
      expect(tasksPerRunner(result.results)).toEqual({ awake: 3 });
      expect(attemptsOf(server, view!.id)).toBe(0);
    } finally {
      process.kill(frozen.proc.pid, 'SIGCONT');
    }
    await waitForStatus(server, ['frozen', 'awake'], 'idle');
    const again = await waitForRun(server.client, (await server.client.submitRun(workflow(2, 1))).id);
    expect(tasksPerRunner(again.results)).toEqual({ awake: 1, frozen: 1 });
  });
});
