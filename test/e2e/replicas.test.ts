// Two server replicas on one PostgreSQL database: a runner long-polling replica A is woken at once by work
// submitted through replica B, B's followers see A's progress and logs, and every task is claimed once.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.ts';
import { generateToken } from '../../src/server/tokens.ts';
import { startRunnerProcess, waitForOutput, waitForRun, type ServerProcess } from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

const PG_URL = process.env.BATON_TEST_POSTGRES_URL;
const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

async function adminQuery(text: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await c.query(text);
  } finally {
    await c.end();
  }
}

describe.skipIf(!PG_URL)('replicas on PostgreSQL (BATON_TEST_POSTGRES_URL must be set)', () => {
  it('work submitted through replica B runs on a runner of replica A, and B follows it to the end', async () => {
    const schema = `e2e_${randomBytes(6).toString('hex')}`;
    await adminQuery(`CREATE SCHEMA ${schema}`);
    try {
      const url = new URL(PG_URL!);
      url.searchParams.set('options', `-c search_path=${schema}`);
      const admin = generateToken('user');
      const registration = generateToken('registration');
      const masterKey = randomBytes(32).toString('base64');
      const start = async (label: string): Promise<ServerProcess> => {
        const dataDir = tempDir(`baton-${label}-`);
        const proc = startTracked(
          label,
          process.execPath,
          [
            BIN,
            'server',
            '--port',
            '0',
            '--data-dir',
            dataDir,
            '--database',
            url.toString(),
            '--log-level',
            'warn',
          ],
          {
            env: {
              ...process.env,
              BATON_ADMIN_TOKEN: admin,
              BATON_RUNNER_REGISTRATION_TOKEN: registration,
              BATON_MASTER_KEY: masterKey,
            },
          },
          true,
        );
        let out = '';
        proc.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
        proc.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
        const m = await waitForOutput(proc, () => out, /listening on (http:\/\/\S+)/, `${label} listened`);
        expect(out).not.toContain(url.password || '\u0000');
        return {
          url: m[1]!,
          adminToken: admin,
          registrationToken: registration,
          dataDir,
          proc,
          output: () => out,
          client: createClient({ baseUrl: m[1]!, token: admin }),
        };
      };
      // Started together: their migrations take turns under an advisory lock.
      const [a, b] = await Promise.all([start('replica-a'), start('replica-b')]);
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
      const claims = await adminQuery(
        `SELECT task_id, count(*)::int AS n FROM ${schema}.attempts GROUP BY task_id`,
      );
      expect(claims.rows).toHaveLength(12);
      expect(claims.rows.every((r: { n: number }) => r.n === 1)).toBe(true);
      for (const s of [a, b]) expect(s.output()).not.toMatch(/unhandled error/);
    } finally {
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
    }
  });
});
