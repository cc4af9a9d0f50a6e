// The store contract: every behaviour of the store, run against SQLite and against PostgreSQL (a fresh
// database file or schema per test). Without BATON_TEST_POSTGRES_URL the PostgreSQL half reports itself skipped.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CompleteBody } from '../protocol/api.ts';
import type { Plan, TaskSpec } from '../protocol/plan.ts';
import { DEPENDENCIES_SUCCEEDED, openStore, type RunnerGives, type RunPolicy, type Store } from './index.ts';
import { METRICS_MAX_LABEL_SETS } from './metrics.ts';
import { SQLITE_MIGRATIONS } from './sqlite/migrations.ts';
import { POSTGRES_MIGRATIONS } from './postgres/migrations.ts';

const PG_URL = process.env.BATON_TEST_POSTGRES_URL;
const T0 = 1_700_000_000_000;
const TIMINGS = { leaseTtlMs: 10_000, ackWindowMs: 2_000 };

interface Target {
  /** Opens a store on a fresh, empty database; `reopen` opens another store on the same one. */
  fresh(policy?: RunPolicy): Promise<{ store: Store; reopen(): Promise<Store>; drop(): Promise<void> }>;
  multiProcess: boolean;
}

const sqliteTarget: Target = {
  multiProcess: false,
  async fresh(policy) {
    const dir = mkdtempSync(join(tmpdir(), 'baton-store-'));
    const database = join(dir, 'baton.db');
    const reopen = () => openStore({ database, timings: TIMINGS, ...(policy ? { policy } : {}) });
    return { store: await reopen(), reopen, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

function schemaUrl(base: string, schema: string): string {
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

const postgresTarget: Target = {
  multiProcess: true,
  async fresh(policy) {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    await adminQuery(`CREATE SCHEMA ${schema}`);
    const database = schemaUrl(PG_URL!, schema);
    const reopen = () => openStore({ database, timings: TIMINGS, ...(policy ? { policy } : {}) });
    return { store: await reopen(), reopen, drop: () => adminQuery(`DROP SCHEMA ${schema} CASCADE`) };
  },
};

async function adminQuery(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

function task(name: string, o: Partial<TaskSpec> = {}): TaskSpec {
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
    ...o,
  };
}

function plan(tasks: TaskSpec[]): Plan {
  return { name: 'wf', dialect: 'native', env: {}, inputs: {}, tasks };
}

function done(status: CompleteBody['status'] = 'succeeded', extra: Partial<CompleteBody> = {}): CompleteBody {
  const iso = new Date(T0).toISOString();
  return {
    status,
    exitCode: status === 'succeeded' ? 0 : 1,
    outputs: {},
    steps: [],
    startedAt: iso,
    finishedAt: iso,
    ...extra,
  };
}

const runner = (
  id: string,
  labels: string[] = [],
  name = id,
  canReceiveSecrets = true,
  gives: Partial<RunnerGives> = {},
) => ({
  id,
  name,
  labels,
  canReceiveSecrets,
  gives: { sandbox: false, networkIsolation: false, limits: false, drivers: [], ...gives },
});

function contract(target: Target) {
  // Cases about several stores on one database exist only for a target that several processes share; a SQLite
  // file has one owner, so for it they are not defined at all (rather than reported skipped).
  const sharedIt = (name: string, fn: () => Promise<void>): void => {
    if (target.multiProcess) it(name, fn);
  };
  let store: Store;
  let reopen: () => Promise<Store>;
  let drop: () => Promise<void>;
  const extra: Store[] = [];

  beforeEach(async () => {
    ({ store, reopen, drop } = await target.fresh());
  });
  afterEach(async () => {
    for (const s of extra.splice(0)) await s.close();
    await store.close();
    await drop();
  });

  async function create(tasks: TaskSpec[], now = T0) {
    return store.runs.create({ plan: plan(tasks), workflow: 'name: wf', inputs: {}, now });
  }
  async function statusOf(runId: string) {
    const r = await store.runs.get(runId);
    return Object.fromEntries(r!.tasks.map((t) => [t.name, t.status]));
  }
  /** Claims and confirms one task for `r`; fails the test when none is offered. */
  async function take(r = runner('r1'), now = T0) {
    const c = await store.leases.claim(r, now);
    expect(c).toBeDefined();
    await store.leases.start(c!.attempt.lease_id, r.id, now);
    return c!;
  }

  it('creating a run queues the tasks without dependencies; completing them advances and ends the run', async () => {
    const { runId, advance } = await create([task('a'), task('b', { dependsOn: ['a'] })]);
    expect(advance.queued).toEqual(['a']);
    expect(await statusOf(runId)).toEqual({ a: 'queued', b: 'pending' });
    const a = await take();
    expect(a.task.name).toBe('a');
    const res = await store.leases.complete(a.attempt.lease_id, 'r1', done(), T0 + 1);
    expect(res).toMatchObject({ status: 'succeeded', recorded: true, advance: { queued: ['b'] } });
    const b = await take(runner('r1'), T0 + 2);
    expect(b.task.name).toBe('b');
    const end = await store.leases.complete(b.attempt.lease_id, 'r1', done(), T0 + 3);
    expect(end.advance?.runStatus).toBe('succeeded');
    const run = await store.runs.get(runId);
    expect(run!.run).toMatchObject({ status: 'succeeded', started_at: T0, finished_at: T0 + 3 });
    expect(typeof run!.run.created_at).toBe('number');
  });

  it('a policy can replace a task by several (a matrix computed at run time); its dependents wait for all', async () => {
    // The policy stands in for the server's (src/server/policy.ts), which computes the tasks from expressions.
    const policy: RunPolicy = {
      decide(spec, deps, run) {
        if (spec.deferredMatrix === undefined) return DEPENDENCIES_SUCCEEDED.decide(spec, deps, run);
        const strategy = { group: spec.name, failFast: true };
        const made = [1, 2].map((n) => ({ ...spec, name: `${spec.name} (${n})`, matrix: { n }, strategy }));
        return { run: true, expand: made.map(({ deferredMatrix: _unused, ...rest }) => rest) };
      },
    };
    const own = await target.fresh(policy);
    try {
      const tasks = [
        task('a'),
        task('m', { dependsOn: ['a'], deferredMatrix: { value: '${{ x }}' } }),
        task('z', { dependsOn: ['m'], artifactsFrom: ['m'] }),
      ];
      const { runId } = await own.store.runs.create({
        plan: plan(tasks),
        workflow: 'x',
        inputs: {},
        now: T0,
      });
      const finish = async (name: string, now: number) => {
        const c = await own.store.leases.claim(runner('r1'), now);
        expect(c?.task.name).toBe(name);
        await own.store.leases.start(c!.attempt.lease_id, 'r1', now);
        return own.store.leases.complete(c!.attempt.lease_id, 'r1', done(), now);
      };
      const afterA = await finish('a', T0 + 1);
      expect(afterA.advance?.queued).toEqual(['m (1)', 'm (2)']);
      const rows = (await own.store.runs.get(runId))!.tasks;
      expect(rows.map((t) => [t.name, t.status, t.group_name])).toEqual([
        ['a', 'succeeded', null],
        ['m (1)', 'queued', 'm'],
        ['m (2)', 'queued', 'm'],
        ['z', 'pending', null],
      ]);
      const z = rows.find((t) => t.name === 'z')!;
      expect(JSON.parse(z.depends_on)).toEqual(['m (1)', 'm (2)']);
      expect((JSON.parse(z.spec) as TaskSpec).artifactsFrom).toEqual(['m (1)', 'm (2)']);
      expect((await finish('m (1)', T0 + 2)).advance?.queued).toEqual([]);
      expect((await finish('m (2)', T0 + 3)).advance?.queued).toEqual(['z']);
      expect((await finish('z', T0 + 4)).advance?.runStatus).toBe('succeeded');
    } finally {
      await own.store.close();
      await own.drop();
    }
  });

  it('metrics: queued tasks by label set, largest first and capped, and the log bytes stored', async () => {
    expect(await store.metrics.queuedByLabels()).toEqual({ groups: [], other: 0 });
    expect(await store.metrics.logBytes()).toBe(0);
    await create([task('g1', { runsOn: ['gpu'] }), task('g2', { runsOn: ['gpu'] }), task('plain')]);
    const sets = Array.from({ length: METRICS_MAX_LABEL_SETS }, (_, i) =>
      task(`x${i}`, { runsOn: [`l${i}`] }),
    );
    await create(sets);
    const q = await store.metrics.queuedByLabels();
    expect(q.groups).toHaveLength(METRICS_MAX_LABEL_SETS);
    expect(q.groups[0]).toEqual({ runsOn: '["gpu"]', count: 2 });
    expect(q.groups.reduce((n, g) => n + g.count, 0) + q.other).toBe(3 + METRICS_MAX_LABEL_SETS);
    expect(q.other).toBe(2);
    const c = await take();
    await store.leases.appendLogs(c.attempt.lease_id, 'r1', [{ seq: 0, offset: 0, data: 'héllo\n' }], T0);
    expect(await store.metrics.logBytes()).toBe(7);
  });

  it('a failed task skips its dependents and fails the run', async () => {
    const { runId } = await create([task('a'), task('b', { dependsOn: ['a'] })]);
    const a = await take();
    const res = await store.leases.complete(a.attempt.lease_id, 'r1', done('failed'), T0 + 1);
    expect(res.advance).toMatchObject({ skipped: ['b'], runStatus: 'failed' });
    expect(await statusOf(runId)).toEqual({ a: 'failed', b: 'skipped' });
  });

  it('claims the oldest queued task first, and only tasks whose labels the runner all carries', async () => {
    await create([task('gpu', { runsOn: ['gpu', 'linux'] }), task('any')], T0);
    await create([task('later')], T0 + 5);
    expect((await store.leases.claim(runner('plain'), T0 + 10))!.task.name).toBe('any');
    expect((await store.leases.claim(runner('plain'), T0 + 10))!.task.name).toBe('later');
    expect(await store.leases.claim(runner('plain'), T0 + 10)).toBeUndefined();
    expect(await store.leases.claim(runner('half', ['gpu']), T0 + 10)).toBeUndefined();
    expect((await store.leases.claim(runner('big', ['linux', 'gpu', 'x']), T0 + 10))!.task.name).toBe('gpu');
  });

  it('runs_on any: a runner carrying one of the labels takes the task, with every all-label too', async () => {
    await create([
      task('either', { runsOnAny: ['arm', 'x86'] }),
      task('both', { runsOn: ['linux'], runsOnAny: ['arm', 'x86'] }),
    ]);
    expect(await store.leases.claim(runner('none', ['linux', 'mips']), T0 + 1)).toBeUndefined();
    expect((await store.leases.claim(runner('arm', ['arm']), T0 + 1))!.task.name).toBe('either');
    expect(await store.leases.claim(runner('arm', ['arm']), T0 + 1)).toBeUndefined();
    expect((await store.leases.claim(runner('x', ['x86', 'linux']), T0 + 1))!.task.name).toBe('both');
  });

  it('a push runner (requireRunsOn) takes a task whose runs_on any names it', async () => {
    await create([task('free'), task('pick', { runsOnAny: ['p1', 'p2'] })]);
    const push = { ...runner('push:p2', ['p2'], 'p2'), requireRunsOn: true };
    expect((await store.leases.claim(push, T0 + 1))!.task.name).toBe('pick');
    expect(await store.leases.claim(push, T0 + 1)).toBeUndefined();
  });

  it('a claim leaves a task the policy yields to a better runner, and reports the one it takes', async () => {
    await create([task('first'), task('second')]);
    const taken: string[] = [];
    const claimed = await store.leases.claim(runner('r1'), T0 + 1, {
      yieldTo: (t) => t.spec.name === 'first',
      claimed: (t) => taken.push(t.name),
    });
    expect(claimed!.task.name).toBe('second');
    expect(taken).toEqual(['second']);
    expect((await store.leases.claim(runner('r2'), T0 + 1))!.task.name).toBe('first');
  });

  it('a claim for a runner not heard from since silentBefore takes nothing', async () => {
    await create([task('only')]);
    const row = await store.credentials.insertRunner({
      name: 'quiet',
      labels: '[]',
      capacity: 1,
      version: '1',
      token_hash: 'qh',
      public_key: null,
      created_at: T0,
    });
    await store.credentials.touchRunner(row.id, T0 + 5);
    const quiet = runner(row.id, [], 'quiet');
    expect(await store.leases.claim(quiet, T0 + 20, { silentBefore: T0 + 6 })).toBeUndefined();
    expect((await store.leases.claim(quiet, T0 + 20, { silentBefore: T0 + 5 }))!.task.name).toBe('only');
  });

  it('a task that names secrets is offered only to a runner that can receive them, and no attempt is used', async () => {
    await create([task('deploy', { env: { KEY: '${{ secrets.DEPLOY_KEY }}' } }), task('plain')], T0);
    const keyless = runner('keyless', [], 'keyless', false);
    expect((await store.leases.claim(keyless, T0 + 1))!.task.name).toBe('plain');
    expect(await store.leases.claim(keyless, T0 + 1)).toBeUndefined();
    const claimed = (await store.leases.claim(runner('keyed'), T0 + 1))!;
    expect(claimed.task).toMatchObject({ name: 'deploy', attempt: 1 });
  });

  it('a task that needs a sandbox, a network cut or limits is offered only to a runner that gives it', async () => {
    await create(
      [
        task('sandboxed', { isolation: 'sandbox' }),
        task('offline', { network: false }),
        task('limited', { limits: { memoryBytes: 512 * 1024 ** 2 } }),
        task('plain'),
      ],
      T0,
    );
    const host = runner('host');
    expect((await store.leases.claim(host, T0 + 1))!.task.name).toBe('plain');
    expect(await store.leases.claim(host, T0 + 1)).toBeUndefined();
    // A sandbox alone is not a network cut or limits: each is its own promise in the runner's report.
    const sandboxOnly = runner('sandbox-only', [], 'sandbox-only', true, { sandbox: true });
    expect((await store.leases.claim(sandboxOnly, T0 + 1))!.task).toMatchObject({
      name: 'sandboxed',
      attempt: 1,
    });
    expect(await store.leases.claim(sandboxOnly, T0 + 1)).toBeUndefined();
    const netOff = runner('net-off', [], 'net-off', true, { networkIsolation: true });
    expect((await store.leases.claim(netOff, T0 + 1))!.task).toMatchObject({ name: 'offline', attempt: 1 });
    const limiter = runner('limiter', [], 'limiter', true, { limits: true });
    expect((await store.leases.claim(limiter, T0 + 1))!.task).toMatchObject({ name: 'limited', attempt: 1 });
  });

  it('records what each task needs from its runner when the run is created', async () => {
    const { runId } = await create([
      task('all', { isolation: 'sandbox', network: false, limits: { pids: 10 } }),
      task('none', { network: true, limits: {} }),
    ]);
    const rows = (await store.runs.get(runId))!.tasks;
    expect(rows.map((t) => [t.name, t.needs_sandbox, t.needs_network_off, t.needs_limits])).toEqual([
      ['all', 1, 1, 1],
      ['none', 0, 0, 0],
    ]);
  });

  it('a task queued for later is not claimed before its time', async () => {
    await create([task('a')], T0 + 1000);
    expect(await store.leases.claim(runner('r1'), T0)).toBeUndefined();
    expect(await store.leases.claim(runner('r1'), T0 + 1000)).toBeDefined();
  });

  it('finds a matching task behind many that the runner cannot take', async () => {
    await create(
      Array.from({ length: 120 }, (_, i) => task(`gpu-${i}`, { runsOn: ['gpu'] })),
      T0,
    );
    await create([task('plain')], T0 + 1);
    expect((await store.leases.claim(runner('cpu'), T0 + 2))!.task.name).toBe('plain');
  });

  it('a forwarded task goes only to the runner it names', async () => {
    await create([task('fwd', { forwardTo: 'builder-2' })]);
    expect(await store.leases.claim(runner('r1', [], 'builder-1'), T0)).toBeUndefined();
    expect((await store.leases.claim(runner('r2', [], 'builder-2'), T0))!.task.name).toBe('fwd');
  });

  it('max_parallel caps how many tasks of a matrix group run at once', async () => {
    const strategy = { group: 'm', maxParallel: 2, failFast: false };
    await create([1, 2, 3].map((i) => task(`m (${i})`, { strategy })));
    const first = await take(runner('r1'));
    await take(runner('r2'));
    expect(await store.leases.claim(runner('r3'), T0)).toBeUndefined();
    await store.leases.complete(first.attempt.lease_id, 'r1', done(), T0 + 1);
    expect((await store.leases.claim(runner('r3'), T0 + 1))!.task.name).toBe('m (3)');
  });

  it('max_parallel holds under concurrent claims', async () => {
    const strategy = { group: 'm', maxParallel: 3, failFast: false };
    await create(Array.from({ length: 20 }, (_, i) => task(`m (${i})`, { strategy })));
    const got = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.leases.claim(runner(`r${i}`), T0)),
    );
    expect(got.filter((c) => c !== undefined)).toHaveLength(3);
  });

  it('concurrent claimers take every task exactly once', async () => {
    const N = 200;
    await create(Array.from({ length: N }, (_, i) => task(`t${i}`)));
    const claimed: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        for (;;) {
          const c = await store.leases.claim(runner(`r${i}`), T0);
          if (!c) return;
          claimed.push(c.task.id);
        }
      }),
    );
    expect(claimed).toHaveLength(N);
    expect(new Set(claimed).size).toBe(N);
    const attempts = await store.dialect.db
      .selectFrom('attempts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(attempts.n)).toBe(N);
  });

  // Several stores on one database is the multi-process (replica) case; one process owns a SQLite file.
  sharedIt('two store instances on one database claim every task exactly once', async () => {
    const other = await reopen();
    extra.push(other);
    await create(Array.from({ length: 60 }, (_, i) => task(`t${i}`)));
    const claimed: string[] = [];
    await Promise.all(
      [store, other, store, other].map(async (s, i) => {
        for (;;) {
          const c = await s.leases.claim(runner(`r${i}`), T0);
          if (!c) return;
          claimed.push(c.task.id);
        }
      }),
    );
    expect(new Set(claimed).size).toBe(60);
    expect(claimed).toHaveLength(60);
  });

  it('start confirms an offer and heartbeats renew the lease', async () => {
    await create([task('a')]);
    const c = (await store.leases.claim(runner('r1'), T0))!;
    expect(c.attempt).toMatchObject({ state: 'offered', number: 1, ack_deadline: T0 + 2_000 });
    const s = await store.leases.start(c.attempt.lease_id, 'r1', T0 + 100);
    expect(s.leaseExpiresAt).toBe(T0 + 100 + 10_000);
    const again = await store.leases.start(c.attempt.lease_id, 'r1', T0 + 200);
    expect(again.attempt.state).toBe('running');
    const hb = await store.leases.heartbeat(c.attempt.lease_id, 'r1', T0 + 5_000);
    expect(hb).toEqual({ leaseExpiresAt: T0 + 15_000, cancel: false });
    await expect(store.leases.heartbeat(c.attempt.lease_id, 'other', T0)).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(store.leases.heartbeat(c.attempt.lease_id, 'r1', T0 + 16_000)).rejects.toMatchObject({
      code: 'lease_expired',
    });
  });

  it('an offer confirmed after its acknowledgement window is refused', async () => {
    await create([task('a')]);
    const c = (await store.leases.claim(runner('r1'), T0))!;
    await expect(store.leases.start(c.attempt.lease_id, 'r1', T0 + 2_001)).rejects.toMatchObject({
      code: 'lease_superseded',
    });
  });

  it('refuses a log chunk whose offset contradicts the stored chunks, counting a replaced NUL as one byte', async () => {
    await create([task('a')]);
    const c = await take();
    const lease = c.attempt.lease_id;
    await store.leases.appendLogs(lease, 'r1', [{ seq: 0, offset: 0, data: 'a\u0000b\n' }], T0);
    const err = await store.leases
      .appendLogs(lease, 'r1', [{ seq: 1, offset: 7, data: 'c\n' }], T0)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'log_offset_conflict',
      details: { seq: 1, offset: 7, storedOffset: 0 },
    });
    expect(
      (await store.leases.appendLogs(lease, 'r1', [{ seq: 1, offset: 4, data: 'c\n' }], T0)).ackedSeq,
    ).toBe(1);
    expect(
      (await store.leases.appendLogs(lease, 'r1', [{ seq: 0, offset: 0, data: 'a\u0000b\n' }], T0)).ackedSeq,
    ).toBe(1);
    await expect(
      store.leases.appendLogs(lease, 'r1', [{ seq: 0, offset: 1, data: 'x' }], T0),
    ).rejects.toMatchObject({
      code: 'log_offset_conflict',
    });
  });

  it('stores log chunks once, acknowledges the contiguous prefix, and replaces NUL', async () => {
    const { runId } = await create([task('a')]);
    const c = await take();
    const lease = c.attempt.lease_id;
    const r1 = await store.leases.appendLogs(lease, 'r1', [{ seq: 0, offset: 0, data: 'hello\n' }], T0);
    expect(r1.ackedSeq).toBe(0);
    const gap = await store.leases.appendLogs(lease, 'r1', [{ seq: 2, offset: 10, data: 'c\u0000d\n' }], T0);
    expect(gap.ackedSeq).toBe(0);
    // Readers see the contiguous prefix only: chunk 2 waits for chunk 1.
    expect((await store.logs.chunks(c.task.id, 1)).map((x) => x.seq)).toEqual([0]);
    expect(await store.logs.chunks(c.task.id, 1, 0)).toEqual([]);
    const fill = await store.leases.appendLogs(
      lease,
      'r1',
      [
        { seq: 0, offset: 0, data: 'DUPLICATE\n' },
        { seq: 1, offset: 6, data: 'abcd' },
      ],
      T0,
    );
    expect(fill.ackedSeq).toBe(2);
    const chunks = await store.logs.chunks(c.task.id, 1);
    expect(chunks.map((x) => x.bytes.toString('utf8'))).toEqual(['hello\n', 'abcd', 'c\uFFFDd\n']);
    expect(chunks.map((x) => x.offset)).toEqual([0, 6, 10]);
    expect((await store.logs.chunks(c.task.id, 1, 0)).map((x) => x.seq)).toEqual([1, 2]);
    const t = (await store.runs.get(runId))!.tasks[0]!;
    expect(t.log_bytes).toBe(10 + Buffer.byteLength('c\uFFFDd\n'));
    await expect(
      store.leases.appendLogs(lease, 'r1', [{ seq: 3, offset: 100, data: 'x'.repeat(50) }], T0, 120),
    ).rejects.toMatchObject({ code: 'payload_too_large' });
  });

  /** Chunk `seq` of a log of 2-byte chunks, "<seq mod 10>\n" at offset 2 × seq. */
  const chunk = (seq: number) => ({ seq, offset: 2 * seq, data: `${seq % 10}\n` });
  const seqs = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => chunk(from + i));

  it('acknowledges the contiguous prefix of a long log appended out of order, and again after a restart', async () => {
    await create([task('a')]);
    const c = await take();
    const lease = c.attempt.lease_id;
    const append = (s: Store, from: number, to: number) =>
      s.leases.appendLogs(lease, 'r1', seqs(from, to), T0).then((r) => r.ackedSeq);
    // Two batches in flight land in either order: the later one alone moves nothing.
    for (let from = 0; from < 400; from += 40) {
      expect(await append(store, from + 20, from + 40)).toBe(from - 1);
      expect(await append(store, from, from + 20)).toBe(from + 39);
    }
    // A refused batch stores nothing and moves nothing; the next good one is acknowledged.
    await expect(
      store.leases.appendLogs(lease, 'r1', [{ seq: 400, offset: 7, data: 'x\n' }], T0),
    ).rejects.toMatchObject({ code: 'log_offset_conflict' });
    expect(await append(store, 401, 402)).toBe(399);
    expect(await append(store, 400, 401)).toBe(401);
    // A store opened afresh (a restarted server) answers the same from the stored chunks alone.
    await store.close();
    store = await reopen();
    expect(await append(store, 0, 1)).toBe(401);
    expect(await append(store, 403, 404)).toBe(401);
    expect(await append(store, 402, 403)).toBe(403);
    const stored = await store.logs.chunks(c.task.id, 1);
    expect(stored.map((x) => x.seq)).toEqual(Array.from({ length: 404 }, (_, i) => i));
    expect(Buffer.concat(stored.map((x) => x.bytes)).toString('utf8')).toBe(
      seqs(0, 404)
        .map((x) => x.data)
        .join(''),
    );
  });

  sharedIt('two stores appending to one attempt acknowledge what both stored', async () => {
    const other = await reopen();
    extra.push(other);
    await create([task('a')]);
    const c = await take();
    const lease = c.attempt.lease_id;
    let acked = -1;
    for (let from = 0; from < 200; from += 20) {
      const answers = await Promise.all([
        other.leases.appendLogs(lease, 'r1', seqs(from + 10, from + 20), T0),
        store.leases.appendLogs(lease, 'r1', seqs(from, from + 10), T0),
      ]);
      acked = Math.max(acked, ...answers.map((a) => a.ackedSeq));
      // Whichever committed second saw both (the attempt's row lock orders them).
      expect(acked).toBe(from + 19);
    }
    expect((await other.leases.appendLogs(lease, 'r1', [chunk(0)], T0)).ackedSeq).toBe(199);
    expect((await store.leases.appendLogs(lease, 'r1', [chunk(0)], T0)).ackedSeq).toBe(199);
  });

  it('no text column receives NUL: a message with NUL is stored with U+FFFD', async () => {
    const { runId } = await create([task('a')]);
    const c = await take();
    await store.leases.complete(c.attempt.lease_id, 'r1', done('failed', { message: 'bad\u0000byte' }), T0);
    const t = (await store.runs.get(runId))!.tasks[0]!;
    expect(t.message === 'bad\uFFFDbyte' || t.message === 'bad\u0000byte').toBe(true);
    if (target.multiProcess) expect(t.message).toBe('bad\uFFFDbyte');
  });

  it('complete records the outcome once: a replay gets the first answer, a stale lease is refused', async () => {
    const { runId } = await create([
      task('a', { exports: [{ name: 'v', confidential: false, scope: 'global' }] }),
    ]);
    const c = await take();
    const first = await store.leases.complete(
      c.attempt.lease_id,
      'r1',
      done('succeeded', { outputs: { v: '1' } }),
      T0 + 1,
    );
    expect(first).toMatchObject({ status: 'succeeded', recorded: true });
    const replay = await store.leases.complete(c.attempt.lease_id, 'r1', done('failed'), T0 + 2);
    expect(replay).toMatchObject({ status: 'succeeded', recorded: false, advance: null });
    const run = await store.runs.get(runId);
    expect(JSON.parse(run!.run.outputs)).toEqual({ v: '1' });
    expect(run!.tasks[0]).toMatchObject({ status: 'succeeded', exit_code: 0 });
    await expect(store.leases.heartbeat(c.attempt.lease_id, 'r1', T0 + 3)).rejects.toMatchObject({
      code: 'lease_expired',
    });
  });

  it('concurrent replays of complete record the outcome once', async () => {
    await create([task('a')]);
    const c = await take();
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => store.leases.complete(c.attempt.lease_id, 'r1', done(), T0 + 1)),
    );
    expect(answers.filter((a) => a.recorded)).toHaveLength(1);
    expect(answers.every((a) => a.status === 'succeeded')).toBe(true);
  });

  it('sibling tasks completing at once both count: their dependent is queued and the run ends', async () => {
    for (let round = 0; round < 5; round++) {
      const { runId } = await create(
        [task('a'), task('b'), task('c'), task('d', { dependsOn: ['a', 'b', 'c'] })],
        T0 + round,
      );
      const claims = [await take(runner('r1'), T0 + round), await take(runner('r2'), T0 + round)];
      claims.push(await take(runner('r3'), T0 + round));
      await Promise.all(
        claims.map((c, i) => store.leases.complete(c.attempt.lease_id, `r${i + 1}`, done(), T0 + round + 1)),
      );
      expect((await statusOf(runId)).d).toBe('queued');
      const d = await take(runner('r1'), T0 + round + 2);
      await store.leases.complete(d.attempt.lease_id, 'r1', done(), T0 + round + 3);
      expect((await store.runs.get(runId))!.run.status).toBe('succeeded');
    }
  });

  it('the sweep withdraws an unconfirmed offer and the task keeps its place in the queue', async () => {
    const { runId } = await create([task('a'), task('b')]);
    const c = (await store.leases.claim(runner('r1'), T0))!;
    expect(c.task.name).toBe('a');
    expect(await store.leases.sweep(T0 + 1_000)).toEqual({ requeued: [], lost: [] });
    const res = await store.leases.sweep(T0 + 2_001);
    expect(res.requeued).toEqual([{ runId, task: 'a' }]);
    await expect(store.leases.start(c.attempt.lease_id, 'r1', T0 + 2_002)).rejects.toMatchObject({
      code: 'lease_superseded',
    });
    const again = (await store.leases.claim(runner('r2'), T0 + 2_003))!;
    expect(again.task.name).toBe('a');
    expect(again.attempt.number).toBe(2);
  });

  it('the sweep marks an attempt whose lease ran out as runner_lost and moves the run on', async () => {
    const { runId } = await create([task('a'), task('b', { dependsOn: ['a'] })]);
    const c = await take();
    const res = await store.leases.sweep(T0 + 10_001);
    expect(res.lost).toMatchObject([{ runId, task: 'a', advance: { skipped: ['b'], runStatus: 'failed' } }]);
    expect(await statusOf(runId)).toEqual({ a: 'runner_lost', b: 'skipped' });
    await expect(store.leases.complete(c.attempt.lease_id, 'r1', done(), T0 + 10_002)).rejects.toMatchObject({
      code: 'lease_expired',
    });
  });

  it('a lost attempt is retried when the task allows it, after its backoff', async () => {
    const retries = { max: 1, backoffMs: 500, on: ['runner_lost' as const] };
    const { runId } = await create([task('a', { retries })]);
    const first = await take();
    const res = await store.leases.sweep(T0 + 10_001);
    expect(res.lost[0]).toMatchObject({ task: 'a', retryAt: T0 + 10_501 });
    expect(await statusOf(runId)).toEqual({ a: 'queued' });
    expect(await store.leases.claim(runner('r2'), T0 + 10_100)).toBeUndefined();
    const second = await take(runner('r2'), T0 + 10_501);
    expect(second.attempt.number).toBe(2);
    await expect(store.leases.heartbeat(first.attempt.lease_id, 'r1', T0 + 10_502)).rejects.toMatchObject({
      code: 'lease_superseded',
    });
    await store.leases.sweep(T0 + 30_000);
    expect(await statusOf(runId)).toEqual({ a: 'runner_lost' });
  });

  // Several stores on one database is the multi-process (replica) case; one process owns a SQLite file.
  sharedIt('concurrent sweeps handle each stale attempt once', async () => {
    const other = await reopen();
    extra.push(other);
    await create(Array.from({ length: 20 }, (_, i) => task(`t${i}`)));
    for (let i = 0; i < 20; i++) await take(runner(`r${i}`));
    const results = await Promise.all([store, other, store, other].map((s) => s.leases.sweep(T0 + 10_001)));
    const lost = results.flatMap((r) => r.lost.map((l) => l.task));
    expect(lost.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `t${i}`).sort());
  });

  it('extending live leases at boot never shortens one', async () => {
    await create([task('a')]);
    const c = await take();
    expect(await store.leases.extendLiveLeases(T0 - 60_000)).toBe(1);
    const hb = await store.leases.heartbeat(c.attempt.lease_id, 'r1', T0 + 9_000);
    expect(hb.leaseExpiresAt).toBe(T0 + 19_000);
    await store.leases.extendLiveLeases(T0 + 100_000);
    expect((await store.leases.check(c.attempt.lease_id, 'r1', T0 + 100_001)).attempt.lease_expires_at).toBe(
      T0 + 110_000,
    );
  });

  it('cancel stops queued tasks at once, signals running ones, and withdraws unconfirmed offers', async () => {
    const { runId } = await create([
      task('run'),
      task('offer'),
      task('wait'),
      task('next', { dependsOn: ['run'] }),
    ]);
    const running = await take(runner('r1'));
    const offered = (await store.leases.claim(runner('r2'), T0))!;
    const res = await store.runs.cancel(runId, T0 + 1);
    expect(res!.signalled).toEqual(['run']);
    expect(res!.cancelled.sort()).toEqual(['next', 'offer', 'wait']);
    expect((await store.leases.heartbeat(running.attempt.lease_id, 'r1', T0 + 2)).cancel).toBe(true);
    await expect(store.leases.start(offered.attempt.lease_id, 'r2', T0 + 2)).rejects.toMatchObject({
      code: 'lease_superseded',
    });
    expect(await store.leases.claim(runner('r3'), T0 + 2)).toBeUndefined();
    const end = await store.leases.complete(running.attempt.lease_id, 'r1', done('cancelled'), T0 + 3);
    expect(end.advance?.runStatus).toBe('cancelled');
    expect(await store.runs.cancel('nope', T0)).toBeUndefined();
  });

  it('lists runs newest first with their task counts', async () => {
    const a = await create([task('x')], T0);
    const b = await create([task('x'), task('y')], T0 + 1);
    const list = await store.runs.list({ limit: 10 });
    expect(list.map((r) => [r.id, Number(r.task_count)])).toEqual([
      [b.runId, 2],
      [a.runId, 1],
    ]);
    expect((await store.runs.list({ limit: 10, before: b.runId })).map((r) => r.id)).toEqual([a.runId]);
    expect(await store.runs.list({ limit: 10, status: 'succeeded' })).toEqual([]);
  });

  it('filters runs by a substring of their name, ignoring case, with % _ and \\ matching only themselves', async () => {
    const named = async (name: string, now: number) =>
      (
        await store.runs.create({
          plan: { ...plan([task('x')]), name },
          workflow: `name: ${name}`,
          inputs: {},
          now,
        })
      ).runId;
    const deploy = await named('Deploy-Prod', T0);
    const pct = await named('100% done', T0 + 1);
    const under = await named('a_b', T0 + 2);
    const axb = await named('axb', T0 + 3);
    const slash = await named('C:\\tmp', T0 + 4);
    const deploy2 = await named('deploy-staging', T0 + 5);
    const names = async (o: {
      name: string;
      status?: 'queued' | 'succeeded';
      before?: string;
      limit?: number;
    }) => (await store.runs.list({ limit: 10, ...o })).map((r) => r.id);
    expect(await names({ name: 'DEPLOY' })).toEqual([deploy2, deploy]);
    expect(await names({ name: '%' })).toEqual([pct]);
    expect(await names({ name: '_' })).toEqual([under]);
    expect(await names({ name: 'a_b' })).toEqual([under]);
    expect(await names({ name: '\\' })).toEqual([slash]);
    expect(await names({ name: 'x' })).toEqual([axb]);
    // Combined with paging and the status filter.
    expect(await names({ name: 'deploy', limit: 1 })).toEqual([deploy2]);
    expect(await names({ name: 'deploy', before: deploy2 })).toEqual([deploy]);
    expect(await names({ name: 'deploy', status: 'queued' })).toEqual([deploy2, deploy]);
    expect(await names({ name: 'deploy', status: 'succeeded' })).toEqual([]);
  });

  it('lists the attempts a runner holds and those it ended most recently, without withdrawn offers', async () => {
    const { runId } = await create(['a', 'b', 'c', 'd', 'e'].map((n) => task(n)));
    const a = await store.leases.claim(runner('r1'), T0); // offered, not yet confirmed
    const b = await take(runner('r1'), T0);
    await take(runner('r2'), T0); // c, on another runner
    const current = await store.runnerTasks.current('r1');
    expect(current.map((x) => [x.task_name, x.state, x.number, x.run_id, x.run_name])).toEqual([
      ['a', 'offered', 1, runId, 'wf'],
      ['b', 'running', 1, runId, 'wf'],
    ]);
    expect(current[0]).toMatchObject({ offered_at: T0, started_at: null, finished_at: null, result: null });

    await store.leases.complete(b.attempt.lease_id, 'r1', done(), T0 + 1);
    await store.leases.start(a!.attempt.lease_id, 'r1', T0 + 1);
    await store.leases.complete(a!.attempt.lease_id, 'r1', done('failed'), T0 + 2);
    const d = await take(runner('r1'), T0 + 3);
    expect(d.task.name).toBe('d');
    await store.leases.claim(runner('r1'), T0 + 3); // e: offered, then withdrawn by the sweep
    expect((await store.runnerTasks.current('r1')).map((x) => x.task_name)).toEqual(['d', 'e']);
    await store.leases.sweep(T0 + 3 + TIMINGS.leaseTtlMs + 1);

    expect(await store.runnerTasks.current('r1')).toEqual([]);
    const recent = await store.runnerTasks.recent('r1', 10);
    expect(recent.map((x) => [x.task_name, x.state, x.task_status])).toEqual([
      ['d', 'lost', 'runner_lost'],
      ['a', 'finished', 'failed'],
      ['b', 'finished', 'succeeded'],
    ]);
    expect(recent[2]).toMatchObject({ started_at: T0, finished_at: T0 + 1 });
    expect(JSON.parse(recent[1]!.result!)).toMatchObject({ report: { status: 'failed', exitCode: 1 } });
    expect((await store.runnerTasks.recent('r1', 2)).map((x) => x.task_name)).toEqual(['d', 'a']);
    expect(await store.runnerTasks.recent('r1', 0)).toEqual([]);
    expect((await store.runnerTasks.recent('r2', 10)).map((x) => [x.task_name, x.state])).toEqual([
      ['c', 'lost'],
    ]);
    expect(await store.runnerTasks.recent('nobody', 10)).toEqual([]);
  });

  it('records artifacts once per attempt and name, and lists those of each task’s final attempt', async () => {
    const { runId } = await create([task('a')]);
    const c = await take();
    const art = { name: 'out', blobKey: 'k1', sizeBytes: 5_000_000_000, sha256: 'ab' };
    const first = await store.leases.recordArtifact(c.attempt.lease_id, 'r1', art, T0);
    const again = await store.leases.recordArtifact(c.attempt.lease_id, 'r1', { ...art, blobKey: 'k2' }, T0);
    expect(first.created).toBe(true);
    expect(again).toEqual({ id: first.id, created: false });
    const direct = await store.artifacts.insert({
      run_id: runId,
      task_id: c.task.id,
      attempt: 1,
      name: 'out',
      blob_key: 'k3',
      size_bytes: 1,
      sha256: 'cd',
      created_at: T0,
    });
    expect(direct).toMatchObject({ id: first.id, blob_key: 'k1', size_bytes: 5_000_000_000 });
    expect((await store.artifacts.get(first.id))!.name).toBe('out');
    expect((await store.artifacts.ofRun(runId)).map((a) => [a.task_name, a.name])).toEqual([['a', 'out']]);
  });

  it('stores tokens, runners and settings; a single-use token is used once', async () => {
    const tok = await store.credentials.insertToken({
      kind: 'registration',
      name: 'reg',
      hash: 'h1',
      created_at: T0,
      expires_at: null,
      single_use: 1,
    });
    expect(await store.credentials.tokenByHash('h1')).toEqual(tok);
    expect(await store.credentials.countTokens('registration')).toBe(1);
    const uses = await Promise.all([1, 2, 3].map(() => store.credentials.useToken(tok.id, T0 + 1)));
    expect(uses.filter(Boolean)).toHaveLength(1);
    expect(await store.credentials.revokeToken(tok.id, T0 + 2)).toBe(true);
    expect(await store.credentials.revokeToken(tok.id, T0 + 3)).toBe(false);
    expect((await store.credentials.listTokens()).map((t) => t.revoked_at)).toEqual([T0 + 2]);

    const r = await store.credentials.insertRunner({
      name: 'r',
      labels: '["linux"]',
      capacity: 2,
      version: '1',
      token_hash: 'rh',
      public_key: null,
      created_at: T0,
    });
    expect(await store.credentials.runnerByTokenHash('rh')).toEqual(r);
    await store.credentials.touchRunner(r.id, T0 + 5);
    expect(await store.credentials.setRunnerDisabled(r.id, true)).toBe(true);
    expect(await store.credentials.runner(r.id)).toMatchObject({ disabled: 1, last_seen_at: T0 + 5 });
    expect(await store.credentials.listRunners()).toHaveLength(1);
    expect(await store.credentials.deleteRunner(r.id)).toBe(true);
    expect(await store.credentials.runner(r.id)).toBeUndefined();

    expect(await store.credentials.getSetting('k')).toBeUndefined();
    await store.credentials.setSetting('k', 'v1');
    await store.credentials.setSetting('k', 'v2');
    expect(await store.credentials.getSetting('k')).toBe('v2');
  });

  it('removes ephemeral runners that are spent or silent, never one holding a live attempt nor a plain one', async () => {
    const add = (name: string, ephemeral: number, at: number) =>
      store.credentials.insertRunner({
        name,
        labels: '[]',
        capacity: 1,
        version: '1',
        token_hash: `h-${name}`,
        public_key: null,
        created_at: at,
        ephemeral,
      });
    const busy = await add('busy', 1, T0);
    const silent = await add('silent', 1, T0);
    await add('fresh', 1, T0 + 5_000);
    await add('plain', 0, T0);
    await create([task('a')]);
    const c = await take(runner(busy.id), T0);
    expect(await store.credentials.runnerHasAttempt(busy.id)).toBe(true);
    expect(await store.credentials.runnerHasAttempt(silent.id)).toBe(false);
    // `busy` is as silent as `silent`, but holds a live attempt.
    expect(await store.credentials.removeSpentEphemeralRunners(T0 + 1_000)).toEqual([silent.id]);
    await store.leases.complete(c.attempt.lease_id, busy.id, done(), T0 + 2);
    expect(await store.credentials.removeSpentEphemeralRunners(T0 + 1)).toEqual([busy.id]);
    expect((await store.credentials.listRunners()).map((r) => r.name).sort()).toEqual(['fresh', 'plain']);
  });

  it('names only the runners asked for, past the statement parameter bound, skipping unknown ids', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 520; i++) {
      const r = await store.credentials.insertRunner({
        name: `r${i}`,
        labels: '[]',
        capacity: 1,
        version: '1',
        token_hash: `h-${i}`,
        public_key: null,
        created_at: T0 + i,
        ephemeral: 0,
      });
      ids.push(r.id);
    }
    expect(await store.credentials.runnerNames([])).toEqual(new Map());
    const names = await store.credentials.runnerNames([ids[3]!, ids[3]!, 'no-such-runner', ...ids.slice(10)]);
    expect(names.size).toBe(511);
    expect(names.get(ids[3]!)).toBe('r3');
    expect(names.get(ids[519]!)).toBe('r519');
    expect(names.has(ids[5]!)).toBe(false);
  });

  it('stores secrets by name: put creates then updates, list shows names only, remove deletes', async () => {
    expect(await store.secrets.put('TOKEN', 'c1', T0)).toBe('created');
    expect(await store.secrets.put('TOKEN', 'c2', T0 + 1)).toBe('updated');
    await store.secrets.put('OTHER', 'c3', T0 + 2);
    expect(await store.secrets.list()).toEqual([
      { name: 'OTHER', created_at: T0 + 2, updated_at: T0 + 2 },
      { name: 'TOKEN', created_at: T0, updated_at: T0 + 1 },
    ]);
    expect((await store.secrets.get(['TOKEN'])).map((r) => r.ciphertext)).toEqual(['c2']);
    expect(await store.secrets.get([])).toEqual([]);
    expect(await store.secrets.remove('TOKEN')).toBe(true);
    expect(await store.secrets.remove('TOKEN')).toBe(false);
  });

  it('opening the same database again, from several stores at once, migrates it once', async () => {
    const more = await Promise.all([reopen(), reopen(), reopen()]);
    extra.push(...more);
    const rows = await store.dialect.db
      .selectFrom('baton_migrations')
      .select(['id', 'name'])
      .orderBy('id')
      .execute();
    expect(rows.map((r) => r.id)).toEqual(store.dialect.migrations.map((m) => m.id));
  });

  sharedIt('a task queued through one store wakes a listener on another', async () => {
    const other = await reopen();
    extra.push(other);
    let woke = 0;
    let resolve!: () => void;
    const heard = new Promise<void>((r) => (resolve = r));
    const stop = await other.dialect.listen!(() => {
      woke++;
      resolve();
    });
    try {
      await create([task('a')]);
      await heard;
      expect(woke).toBeGreaterThanOrEqual(1);
    } finally {
      await stop();
    }
  });

  sharedIt('a token revoked through one store is announced, by id, to a listener on another', async () => {
    const other = await reopen();
    extra.push(other);
    const row = await store.credentials.insertToken({
      kind: 'user',
      name: 'watcher',
      hash: 'hash-of-watcher',
      created_at: 1,
      expires_at: null,
      single_use: 0,
    });
    let resolve!: (id: string | undefined) => void;
    const heard = new Promise<string | undefined>((r) => (resolve = r));
    const stop = await other.dialect.listen!(
      () => {},
      (id) => resolve(id),
    );
    try {
      expect(await store.credentials.revokeToken(row.id, 2)).toBe(true);
      expect(await heard).toBe(row.id);
      // Revoking again changes nothing and says so.
      expect(await store.credentials.revokeToken(row.id, 3)).toBe(false);
      expect((await other.credentials.tokensByIds([row.id]))[0]?.revoked_at).toBe(2);
    } finally {
      await stop();
    }
  });

  it('push runners: unique id and name, registration, disable/enable, rotation drops the endpoint, removal', async () => {
    const r1 = await store.pushRunners.create({ id: 'r1', name: 'one', secretHash: 'h1', now: T0 });
    expect(r1).toMatchObject({
      id: 'r1',
      name: 'one',
      endpoint: null,
      last_seen_at: null,
      disabled_at: null,
    });
    // Neither the id nor the name may be taken twice; nothing is written then.
    expect(await store.pushRunners.create({ id: 'r1', name: 'other', secretHash: 'h', now: T0 })).toBe(
      'exists',
    );
    expect(await store.pushRunners.create({ id: 'r9', name: 'one', secretHash: 'h', now: T0 })).toBe(
      'exists',
    );
    expect((await store.pushRunners.list()).map((r) => r.id)).toEqual(['r1']);

    const reg = await store.pushRunners.registered(
      'r1',
      {
        endpoint: 'http://127.0.0.1:1/api/run',
        statusMessage: 'hb',
        maxConcurrency: 2,
        timeoutMs: 30_000,
        infoJson: '{"version":"0.2.16"}',
        publicKey: 'pk1',
        sealedSecret: 'v1:sealed',
      },
      T0 + 5,
    );
    expect(reg).toMatchObject({
      endpoint: 'http://127.0.0.1:1/api/run',
      max_concurrency: 2,
      timeout_ms: 30_000,
      public_key: 'pk1',
      sealed_secret: 'v1:sealed',
    });
    // A heartbeat without a new sealed secret keeps the stored one.
    const hb = await store.pushRunners.registered(
      'r1',
      {
        endpoint: 'http://127.0.0.1:1/api/run',
        statusMessage: 'hb',
        maxConcurrency: 2,
        timeoutMs: 30_000,
        infoJson: '{"version":"0.2.16"}',
        publicKey: 'pk1',
      },
      T0 + 5,
    );
    expect(hb!.sealed_secret).toBe('v1:sealed');
    expect(reg!.last_seen_at).toBe(T0 + 5);

    expect((await store.pushRunners.setDisabled('r1', T0 + 6, 'off', T0 + 6))!.disabled_at).toBe(T0 + 6);
    expect((await store.pushRunners.setDisabled('r1', null, 'on', T0 + 7))!.disabled_at).toBeNull();
    expect(await store.pushRunners.setDisabled('nope', null, 'on', T0)).toBeUndefined();

    const rotated = await store.pushRunners.rotateSecret('r1', 'h2', T0 + 8);
    expect(rotated).toMatchObject({
      secret_hash: 'h2',
      endpoint: null,
      last_seen_at: null,
      updated_at: T0 + 8,
      sealed_secret: null,
    });
    // What it advertised stays until it registers again.
    expect(rotated!.info_json).toBe('{"version":"0.2.16"}');

    expect(await store.pushRunners.remove('r1')).toBe(true);
    expect(await store.pushRunners.remove('r1')).toBe(false);
    expect(await store.pushRunners.get('r1')).toBeUndefined();
  });

  describe('cached task results', () => {
    const HOUR = 3_600_000;
    /** Runs one cached task of workflow `wf` to its end with `body`; returns the task row. */
    async function cachedRun(body: CompleteBody, now: number, workflow = 'wf') {
      const { runId } = await store.runs.create({
        plan: { ...plan([task('t', { cache: { ttlMs: HOUR } })]), name: workflow },
        workflow: `name: ${workflow}`,
        inputs: {},
        now,
      });
      const c = await take(runner('r1'), now);
      await store.leases.complete(c.attempt.lease_id, 'r1', body, now + 1);
      return (await store.runs.get(runId))!.tasks[0]!;
    }

    it('a succeeded miss is stored for its ttl under (workflow, key); expired entries miss and are swept', async () => {
      const row = await cachedRun(
        done('succeeded', { outputs: { a: '1' }, cache: { key: 'k', hit: false } }),
        T0,
      );
      expect(row).toMatchObject({ cache_key: 'k', cache_hit: 0, cache_age_ms: null });
      expect(await store.cache.lookup('wf', 'k', T0 + 2)).toEqual({ outputs: { a: '1' }, createdAt: T0 + 1 });
      expect(await store.cache.lookup('other', 'k', T0 + 2)).toBeUndefined();
      expect(await store.cache.lookup('wf', 'k2', T0 + 2)).toBeUndefined();
      expect(await store.cache.lookup('wf', 'k', T0 + 1 + HOUR)).toBeUndefined();
      expect(await store.cache.list({}, T0 + 2, 10)).toHaveLength(1);
      expect(await store.cache.sweepExpired(T0 + HOUR)).toBe(0);
      expect(await store.cache.sweepExpired(T0 + 1 + HOUR)).toBe(1);
      expect(await store.cache.list({}, T0 + 2, 10)).toEqual([]);
    });

    it('failures, hits, confidential outputs and outputs over the size limit are not stored; a hit is recorded', async () => {
      await cachedRun(done('failed', { outputs: { a: '1' }, cache: { key: 'failed', hit: false } }), T0);
      await cachedRun(
        done('succeeded', { outputs: { s: 'x' }, confidential: ['s'], cache: { key: 'secret', hit: false } }),
        T0,
      );
      await cachedRun(
        done('succeeded', { outputs: { big: 'x'.repeat(1_048_577) }, cache: { key: 'big', hit: false } }),
        T0,
      );
      const hit = await cachedRun(
        done('succeeded', {
          outputs: { a: '1' },
          cache: { key: 'hit', hit: true, createdAt: new Date(T0 - 5_000).toISOString() },
        }),
        T0,
      );
      expect(hit).toMatchObject({ cache_key: 'hit', cache_hit: 1, cache_age_ms: 5_001 });
      expect(await store.cache.list({}, T0 + 2, 10)).toEqual([]);
    });

    it('clear removes by workflow, by key, or everything', async () => {
      for (const [wf, key] of [
        ['a', 'k1'],
        ['a', 'k2'],
        ['b', 'k1'],
      ] as const)
        await cachedRun(done('succeeded', { outputs: {}, cache: { key, hit: false } }), T0, wf);
      expect(await store.cache.clear({ workflow: 'a', key: 'k1' })).toBe(1);
      expect(await store.cache.clear({ key: 'k1' })).toBe(1);
      expect((await store.cache.list({}, T0 + 2, 10)).map((e) => `${e.workflow}/${e.key}`)).toEqual(['a/k2']);
      expect(await store.cache.clear({})).toBe(1);
    });
  });

  it('webhooks: one sender holds a due delivery, attempts are logged, and removing the webhook removes its deliveries', async () => {
    await store.webhooks.create({
      id: 'w1',
      url: 'https://hooks.example/a',
      events: '["run.finished"]',
      sealed_secret: 'v1:x',
      runner_id: null,
      created_at: T0,
    });
    expect((await store.webhooks.subscribedTo('run.finished')).map((w) => w.id)).toEqual(['w1']);
    expect(await store.webhooks.subscribedTo('task.failed')).toEqual([]);
    const row = (id: string, at: number) => ({
      id,
      webhook_id: 'w1',
      event: 'run.finished',
      payload: '{}',
      status: 'pending',
      attempts: 0,
      next_attempt_at: at,
      created_at: at,
      finished_at: null,
    });
    await store.webhooks.enqueue([row('d1', T0), row('d2', T0 + 10_000)]);
    expect(await store.webhooks.nextDue()).toBe(T0);
    // Only the due one, and only once: a second sender (a replica) finds it held.
    const taken = await store.webhooks.take(T0 + 1, T0 + 20_000, 10);
    expect(taken.map((t) => t.delivery.id)).toEqual(['d1']);
    expect(await store.webhooks.take(T0 + 1, T0 + 20_000, 10)).toEqual([]);
    await store.webhooks.recordAttempt(
      {
        delivery_id: 'd1',
        attempt: 1,
        at: T0 + 1,
        status_code: 500,
        duration_ms: 12,
        error: 'the receiver answered 500',
      },
      { status: 'pending', retryAt: T0 + 5_000 },
    );
    await store.webhooks.recordAttempt(
      { delivery_id: 'd1', attempt: 2, at: T0 + 5_000, status_code: 200, duration_ms: 7, error: null },
      { status: 'delivered', at: T0 + 5_007 },
    );
    const [newest, oldest] = await store.webhooks.deliveries('w1', 10);
    expect(newest!.id).toBe('d2');
    expect(oldest).toMatchObject({
      id: 'd1',
      status: 'delivered',
      attempts: 2,
      next_attempt_at: null,
      finished_at: T0 + 5_007,
    });
    expect(oldest!.attemptRows.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [1, 500, 'the receiver answered 500'],
      [2, 200, null],
    ]);
    expect(await store.webhooks.pruneFinished(T0 + 5_008)).toBe(1);
    expect((await store.webhooks.deliveries('w1', 10)).map((d) => d.id)).toEqual(['d2']);
    expect(await store.webhooks.remove('w1')).toBe(true);
    expect(await store.webhooks.deliveries('w1', 10)).toEqual([]);
    expect(await store.webhooks.nextDue()).toBeNull();
  });
}

describe('store contract: SQLite', () => contract(sqliteTarget));

describe.skipIf(!PG_URL)(
  PG_URL ? 'store contract: PostgreSQL' : 'store contract: PostgreSQL (BATON_TEST_POSTGRES_URL not set)',
  () => contract(postgresTarget),
);

describe('store migrations', () => {
  it('the PostgreSQL migrations mirror the SQLite ones, id for id and name for name', () => {
    expect(POSTGRES_MIGRATIONS.map((m) => [m.id, m.name])).toEqual(
      SQLITE_MIGRATIONS.map((m) => [m.id, m.name]),
    );
  });

  it.skipIf(!PG_URL)('both databases end with the same tables and columns', async () => {
    const sqlite = await sqliteTarget.fresh();
    const postgres = await postgresTarget.fresh();
    try {
      const sqliteTables = await sqlite.store.dialect.db.introspection.getTables();
      const sqliteShape = Object.fromEntries(
        sqliteTables.map((t) => [t.name, t.columns.map((c) => c.name).sort()]),
      );
      const pgRows = await sql<{ table_name: string; column_name: string }>`
        select table_name, column_name from information_schema.columns where table_schema = current_schema()`.execute(
        postgres.store.dialect.db,
      );
      const pgShape: Record<string, string[]> = {};
      for (const r of pgRows.rows) (pgShape[r.table_name] ??= []).push(r.column_name);
      for (const cols of Object.values(pgShape)) cols.sort();
      expect(pgShape).toEqual(sqliteShape);
    } finally {
      await sqlite.store.close();
      await sqlite.drop();
      await postgres.store.close();
      await postgres.drop();
    }
  });
});
