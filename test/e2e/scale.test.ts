// Scale out: 2,000 tasks (some short sleeps, some chained) drained by eight runner processes — on SQLite
// with one server, and on PostgreSQL with two replicas, one of which is killed mid-run while its runners fail
// over to the other. Every task succeeds, no task ever has two live attempts at once, no client saw a 5xx.
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/protocol/api.ts';
import {
  startRunnerProcess,
  startServerProcess,
  waitFor,
  waitForRun,
  type ServerProcess,
  type RunnerProcess,
} from '../helpers/cluster.ts';
import { replicaSet } from '../helpers/replicas.ts';

const PG_URL = process.env.BATON_TEST_POSTGRES_URL;
const TASKS_PER_RUN = 1_000;

function workflow(name: string): string {
  const lines = [`name: ${name}`, 'tasks:'];
  for (let i = 0; i < TASKS_PER_RUN; i++) {
    const dep = i % 5 === 4 ? ` depends_on: t${i - 1},` : '';
    lines.push(`  t${i}: {${dep} run: "${i % 10 === 0 ? 'sleep 0.02' : 'true'}" }`);
  }
  return lines.join('\n') + '\n';
}

interface AttemptRow {
  task_id: string;
  started_at: number | null;
  finished_at: number | null;
  state: string;
}

/** No two attempts of one task were live at the same time. */
function overlapping(rows: AttemptRow[]): string[] {
  const byTask = new Map<string, AttemptRow[]>();
  for (const r of rows) byTask.set(r.task_id, [...(byTask.get(r.task_id) ?? []), r]);
  const bad: string[] = [];
  for (const [task, list] of byTask) {
    const live = list
      .filter((a) => a.started_at !== null)
      .sort((x, y) => Number(x.started_at) - Number(y.started_at));
    for (let i = 1; i < live.length; i++)
      if (Number(live[i]!.started_at) < Number(live[i - 1]!.finished_at ?? Infinity)) bad.push(task);
  }
  return bad;
}

function noServerErrors(outputs: string[]): void {
  for (const out of outputs) {
    expect(out).not.toMatch(/unhandled error/);
    expect(out).not.toMatch(/HTTP 5\d\d|internal error \(request/);
  }
}

async function drain(submitTo: ServerProcess): Promise<RunResult[]> {
  const runs = await Promise.all([
    submitTo.client.submitRun(workflow('scale-a')),
    submitTo.client.submitRun(workflow('scale-b')),
  ]);
  return Promise.all(runs.map((r) => waitForRun(submitTo.client, r.id)));
}

describe('scale out', () => {
  it('one SQLite server and eight runners drain 2,000 tasks, each claimed exactly once', async () => {
    const server = await startServerProcess({ heartbeatMs: 2_000, leaseTtlMs: 20_000 });
    const runners: RunnerProcess[] = [];
    for (let i = 0; i < 8; i++) runners.push(await startRunnerProcess(server, `r${i}`));
    const results = await drain(server);
    for (const r of results) {
      expect(r.status).toBe('succeeded');
      expect(Object.values(r.results).every((t) => t.attempt === 1)).toBe(true);
    }
    const db = new BetterSqlite3(`${server.dataDir}/baton.db`, { readonly: true });
    try {
      const counts = db
        .prepare('SELECT task_id, count(*) AS n FROM attempts GROUP BY task_id')
        .all() as Array<{ n: number }>;
      expect(counts).toHaveLength(2 * TASKS_PER_RUN);
      expect(counts.every((c) => c.n === 1)).toBe(true);
    } finally {
      db.close();
    }
    const used = new Set(results.flatMap((r) => Object.values(r.results).map((t) => t.runner)));
    expect(used.size).toBe(8);
    noServerErrors([server.output(), ...runners.map((r) => r.output())]);
  }, 300_000);

  it.skipIf(!PG_URL)(
    'two PostgreSQL replicas and eight runners drain 2,000 tasks; killing a replica mid-run loses nothing (BATON_TEST_POSTGRES_URL must be set)',
    async () => {
      const set = await replicaSet(PG_URL!);
      const schema = set.schema;
      const admin = { query: set.query };
      const timings = ['--heartbeat-interval', '1000', '--lease-ttl', '6000', '--ack-window', '3000'];
      const [a, b] = await Promise.all([set.start('replica-a', timings), set.start('replica-b', timings)]);
      // Runners know both replicas (A first for half of them, B first for the others) and fail over.
      const both = (first: ServerProcess, second: ServerProcess): ServerProcess => ({
        ...first,
        url: `${first.url},${second.url}`,
      });
      const runners: RunnerProcess[] = [];
      for (let i = 0; i < 8; i++)
        runners.push(await startRunnerProcess(i < 4 ? both(a, b) : both(b, a), `r${i}`));
      const runs = await Promise.all([
        b.client.submitRun(workflow('scale-a')),
        b.client.submitRun(workflow('scale-b')),
      ]);
      // Kill replica A once a fifth of the work is done.
      await waitFor(
        async () => {
          const r = await admin.query(
            `SELECT count(*)::int AS n FROM ${schema}.tasks WHERE status = 'succeeded'`,
          );
          return (r.rows[0] as { n: number }).n >= 400;
        },
        'a fifth of the tasks to finish',
        120_000,
      );
      a.proc.child.kill('SIGKILL');
      const results = await Promise.all(runs.map((r) => waitForRun(b.client, r.id)));
      for (const r of results) expect(r.status).toBe('succeeded');
      const attempts = await admin.query(
        `SELECT task_id, started_at, finished_at, state FROM ${schema}.attempts`,
      );
      expect(overlapping(attempts.rows as AttemptRow[])).toEqual([]);
      const finished = await admin.query(
        `SELECT task_id, count(*)::int AS n FROM ${schema}.attempts WHERE state = 'finished' GROUP BY task_id`,
      );
      expect(finished.rows).toHaveLength(2 * TASKS_PER_RUN);
      expect((finished.rows as Array<{ n: number }>).every((r) => r.n === 1)).toBe(true);
      noServerErrors([b.output(), ...runners.map((r) => r.output())]);
      expect(runners.slice(0, 4).some((r) => /connection restored|server unreachable/.test(r.output()))).toBe(
        true,
      );
    },
    300_000,
  );
});
