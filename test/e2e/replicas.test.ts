// Two server replicas on one PostgreSQL database: a runner long-polling replica A is woken at once by work
// submitted through replica B, B's followers see A's progress and logs, and every task is claimed once.
import { describe, expect, it } from 'vitest';
import { startRunnerProcess, waitForRun } from '../helpers/cluster.ts';
import { replicaSet } from '../helpers/replicas.ts';

const PG_URL = process.env.BATON_TEST_POSTGRES_URL;

describe.skipIf(!PG_URL)('replicas on PostgreSQL (BATON_TEST_POSTGRES_URL must be set)', () => {
  it('work submitted through replica B runs on a runner of replica A, and B follows it to the end', async () => {
    const set = await replicaSet(PG_URL!);
    // Started together: their migrations take turns under an advisory lock.
    const [a, b] = await Promise.all([set.start('replica-a'), set.start('replica-b')]);
    expect(a.output()).not.toContain(new URL(PG_URL!).password || '\u0000');
    await startRunnerProcess(a, 'on-a', { parallel: 2 });
    const tasks = Array.from(
      { length: 12 },
      (_, i) =>
        `  t${i}: { ${i > 0 ? `depends_on: t${Math.floor((i - 1) / 2)}, ` : ''}run: "echo task ${i}" }`,
    ).join('\n');
    const run = await b.client.submitRun(`name: across\ntasks:\n${tasks}\n`);
    const result = await waitForRun(b.client, run.id);
    expect(result.status).toBe('succeeded');
    expect(Object.values(result.results).every((t) => t.runner === 'on-a' && t.attempt === 1)).toBe(true);
    expect(await b.client.taskLog(run.id, 't11')).toBe('task 11\n');
    const claims = await set.query(
      `SELECT task_id, count(*)::int AS n FROM ${set.schema}.attempts GROUP BY task_id`,
    );
    expect(claims.rows).toHaveLength(12);
    expect(claims.rows.every((r: { n: number }) => r.n === 1)).toBe(true);
    for (const s of [a, b]) expect(s.output()).not.toMatch(/unhandled error/);
  });
});
