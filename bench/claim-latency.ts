// Claim latency with a deep queue: fills N queued tasks, then times ~1,000 `leases.claim` calls next to a
// baseline measured in the same run on the same table (the raw oldest-queued `SELECT … LIMIT 1`), and prints
// p50/p99 of both and their ratio.
//
//   node bench/claim-latency.ts [--db sqlite|postgres] [--tasks 100000] [--claims 1000] [--url postgres://…] [--json]
//
// --json prints one JSON object (milliseconds) instead of the text report; bench/run.ts (S1) reads it.
//
// PostgreSQL: --url, else BATON_BENCH_POSTGRES_URL or BATON_TEST_POSTGRES_URL; a throwaway schema is created
// and dropped. SQLite: a file in a temporary directory.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { sql } from 'kysely';
import { openStore, type Store } from '../src/store/index.ts';
import type { Plan, TaskSpec } from '../src/protocol/plan.ts';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'sqlite' },
    tasks: { type: 'string', default: '100000' },
    claims: { type: 'string', default: '1000' },
    url: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const TASKS = Number(args.tasks);
const CLAIMS = Number(args.claims);
const TASKS_PER_RUN = 1000;
const WARMUP = 50;
const T0 = Date.now();

function taskSpec(name: string): TaskSpec {
  return {
    name,
    type: 'exec',
    steps: [{ name: 'main', run: 'true', shell: 'bash', env: {} }],
    env: {},
    dependsOn: [],
    runsOn: [],
    exports: [],
    imports: [],
    uploads: [],
    artifactsFrom: [],
    matrix: {},
  };
}

async function fill(store: Store): Promise<void> {
  for (let done = 0; done < TASKS; done += TASKS_PER_RUN) {
    const n = Math.min(TASKS_PER_RUN, TASKS - done);
    const plan: Plan = {
      name: 'bench',
      dialect: 'native',
      env: {},
      inputs: {},
      tasks: Array.from({ length: n }, (_, i) => taskSpec(`t${i}`)),
    };
    await store.runs.create({ plan, workflow: 'name: bench', inputs: {}, now: T0 + done });
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(store: Store) {
  const claim: number[] = [];
  const baseline: number[] = [];
  const now = T0 + TASKS;
  const runner = {
    id: 'bench-runner',
    name: 'bench-runner',
    labels: [],
    canReceiveSecrets: true,
    gives: { sandbox: false, networkIsolation: false, limits: false, drivers: [] },
  };
  // Interleaved, so both see the same queue depth, cache state and machine load; the first rounds warm up
  // (JIT, prepared statements, pool connections) and are not counted.
  for (let i = -WARMUP; i < CLAIMS; i++) {
    let t = performance.now();
    await store.dialect.db
      .selectFrom('tasks')
      .selectAll()
      .where('status', '=', 'queued')
      .where('queued_at', '<=', now)
      .orderBy('queued_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    const baselineMs = performance.now() - t;
    t = performance.now();
    const c = await store.leases.claim(runner, now);
    if (i >= 0) {
      baseline.push(baselineMs);
      claim.push(performance.now() - t);
    }
    if (!c) throw new Error(`the queue ran dry after ${i} claims`);
  }
  claim.sort((a, b) => a - b);
  baseline.sort((a, b) => a - b);
  return { claim, baseline };
}

async function main() {
  let database: string;
  let cleanup: () => Promise<void>;
  if (args.db === 'postgres') {
    const base = args.url ?? process.env.BATON_BENCH_POSTGRES_URL ?? process.env.BATON_TEST_POSTGRES_URL;
    if (!base)
      throw new Error('PostgreSQL needs --url or BATON_BENCH_POSTGRES_URL / BATON_TEST_POSTGRES_URL');
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    const admin = async (text: string) => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(text);
      } finally {
        await c.end();
      }
    };
    await admin(`CREATE SCHEMA ${schema}`);
    const url = new URL(base);
    url.searchParams.set('options', `-c search_path=${schema}`);
    database = url.toString();
    cleanup = () => admin(`DROP SCHEMA ${schema} CASCADE`);
  } else if (args.db === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'baton-bench-'));
    database = join(dir, 'baton.db');
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    throw new Error(`--db must be sqlite or postgres, not ${args.db}`);
  }

  const store = await openStore({ database, timings: { leaseTtlMs: 45_000, ackWindowMs: 30_000 } });
  try {
    const t = performance.now();
    await fill(store);
    const fillS = (performance.now() - t) / 1000;
    // Fresh statistics, as autovacuum would have gathered on a queue that grew over time.
    await sql`analyze`.execute(store.dialect.db);
    const { claim, baseline } = await measure(store);
    if (args.json) {
      const stats = (xs: number[]) => ({
        p50: percentile(xs, 50),
        p99: percentile(xs, 99),
        min: xs[0]!,
        max: xs[xs.length - 1]!,
      });
      const result = { db: args.db, tasks: TASKS, claims: CLAIMS, fillSeconds: fillS };
      console.log(JSON.stringify({ ...result, claim: stats(claim), baseline: stats(baseline) }));
      return;
    }
    const row = (name: string, xs: number[]) =>
      `${name.padEnd(28)} p50 ${percentile(xs, 50).toFixed(3).padStart(8)} ms   p99 ${percentile(xs, 99).toFixed(3).padStart(8)} ms`;
    console.log(
      `claim latency — ${args.db}, ${TASKS} queued tasks (filled in ${fillS.toFixed(1)} s), ${CLAIMS} claims`,
    );
    console.log(row('baseline SELECT … LIMIT 1', baseline));
    console.log(row('leases.claim', claim));
    console.log(
      `ratio claim/baseline        p50 ${(percentile(claim, 50) / percentile(baseline, 50)).toFixed(1)}×      p99 ${(percentile(claim, 99) / percentile(baseline, 99)).toFixed(1)}×`,
    );
  } finally {
    await store.close();
    await cleanup();
  }
}

await main();
