// A 50 MB log through real processes (docs/adr/0021-log-bytes.md), on SQLite and on PostgreSQL: four tasks
// print 12.5 MB each with a secret in it, the runner masks it and ships raw bytes, the server keeps them in one
// file per attempt with only the index in the database, and every log reads back byte-exact, masked.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startRunnerProcess, startServerProcess, waitForRun } from '../helpers/cluster.ts';

const PG_URL = process.env.BATON_TEST_POSTGRES_URL;
const TASKS = 4;
const LINES_PER_TASK = 125_000; // 100-byte lines: 12.5 MB a task, 50 MB in all
const PAD = 'x'.repeat(90);

function expectedLog(task: number): string {
  const lines: string[] = [];
  for (let i = task * LINES_PER_TASK; i < (task + 1) * LINES_PER_TASK; i++)
    lines.push(`${String(i).padStart(8, '0')} ${i % 1000 === 7 ? '***' : PAD}\n`);
  return lines.join('');
}

function workflow(): string {
  const awk = `BEGIN { p = ""; for (j = 0; j < 90; j++) p = p "x"; for (i = start; i < start + n; i++) { if (i % 1000 == 7) printf "%08d %s\\n", i, ENVIRON["TOKEN"]; else printf "%08d %s\\n", i, p } }`;
  const tasks = Array.from(
    { length: TASKS },
    (_, k) => `  t${k}:
    env: { TOKEN: "\${{ secrets.LOG_CANARY }}" }
    run: awk -v start=${k * LINES_PER_TASK} -v n=${LINES_PER_TASK} '${awk}'`,
  );
  return `name: fifty\ntasks:\n${tasks.join('\n')}\n`;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

const targets = [
  ['sqlite', true],
  ['postgres', PG_URL !== undefined],
] as const;

describe.each(targets)('a 50 MB log on %s', (db, available) => {
  it.skipIf(!available)(
    'is masked on the runner, stored as bytes in log files with only the index in the database, and read back byte-exact',
    async () => {
      let database: string | undefined;
      let admin: pg.Client | undefined;
      if (db === 'postgres') {
        const schema = `t_${randomBytes(6).toString('hex')}`;
        admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        await admin.query(`CREATE SCHEMA ${schema}`);
        const a = admin;
        onTestFinished(async () => {
          await a.query(`DROP SCHEMA ${schema} CASCADE`);
          await a.end();
        });
        const url = new URL(PG_URL!);
        url.searchParams.set('options', `-c search_path=${schema}`);
        database = url.toString();
      }
      const server = await startServerProcess({
        leaseTtlMs: 20_000,
        heartbeatMs: 2_000,
        extraArgs: database ? ['--database', database] : [],
      });
      const canary = `logbytes-canary-${randomBytes(8).toString('hex')}`;
      await server.client.setSecret('LOG_CANARY', canary);
      await startRunnerProcess(server, 'fifty', { parallel: 1 });
      const run = await server.client.submitRun(workflow());
      const result = await waitForRun(server.client, run.id);
      expect(result.status).toBe('succeeded');
      let total = 0;
      for (let k = 0; k < TASKS; k++) {
        const log = await server.client.taskLog(run.id, `t${k}`);
        const want = expectedLog(k);
        // Not toBe: a failure would print 12.5 MB twice.
        expect(log.length).toBe(want.length);
        expect(log === want).toBe(true);
        expect(result.results[`t${k}`]?.logBytes).toBe(want.length);
        total += want.length;
      }
      // 50,000,000 bytes printed; each of the 500 secrets became `***`.
      expect(total).toBe(50_000_000 - 500 * (90 - 3));

      // The bytes are in the log files, masked; the database holds only the index.
      const files = filesUnder(join(server.dataDir, 'blobs', 'logs'));
      expect(files).toHaveLength(TASKS);
      let fileBytes = 0;
      for (const f of files) {
        const bytes = readFileSync(f);
        fileBytes += bytes.length;
        expect(bytes.includes(canary)).toBe(false);
      }
      expect(fileBytes).toBe(total);
      const sums =
        db === 'sqlite'
          ? (() => {
              const sqlite = new Database(join(server.dataDir, 'baton.db'), { readonly: true });
              try {
                return sqlite
                  .prepare(
                    'SELECT count(*) AS n, sum(length(data)) AS text, sum(length) AS bytes FROM log_chunks',
                  )
                  .get() as { n: number; text: number; bytes: number };
              } finally {
                sqlite.close();
              }
            })()
          : ((
              await admin!.query(
                `SELECT count(*)::int AS n, sum(length(data))::int AS text, sum(length)::int AS bytes FROM ${new URL(database!).searchParams.get('options')!.split('=')[1]}.log_chunks`,
              )
            ).rows[0] as { n: number; text: number; bytes: number });
      expect(sums.text).toBe(0);
      expect(Number(sums.bytes)).toBe(total);
      expect(sums.n).toBeGreaterThanOrEqual(Math.ceil(total / (100 * 1024)));
    },
    300_000,
  );
});
