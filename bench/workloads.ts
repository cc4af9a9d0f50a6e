// The workloads of `npm run bench`. Each one measures Baton (real server and runner processes on loopback,
// default SQLite store) and a baseline in the same run, interleaved round by round where it can be, so a noisy
// shared machine moves both figures alike. With --peers, W1–W3 also measure BullMQ and graphile-worker
// (bench/peers/) in the same rounds against the same baseline.
import { spawn } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { NetworkError, createClient, type BatonClient } from '../src/client/index.ts';
import type { AcquireResponse } from '../src/protocol/api.ts';
import {
  REGISTRATION_TOKEN,
  ROOT,
  resume,
  assertSucceeded,
  calibrateClock,
  cpuMs,
  max,
  median,
  min,
  parseStamp,
  pause,
  percentile,
  pollRun,
  rssMiB,
  sleep,
  startRunner,
  startServer,
  stop,
  tempDir,
  track,
  waitForRun,
  type Server,
  wallUs,
} from './harness.ts';
import { PEER_NAMES, type Peer, type PeerName } from './peers/contract.ts';
import type { PeerSet } from './peers/peers.ts';

export interface Sizes {
  w1Submits: number;
  w2Tasks: number;
  w2Rounds: number;
  w3Bytes: number;
  w3Rounds: number;
  s1Tasks: number;
  s2Runners: number;
  s2Rounds: number;
  s3Bytes: number;
}

export const FULL: Sizes = {
  w1Submits: 50,
  w2Tasks: 2000,
  w2Rounds: 3,
  w3Bytes: 50_000_000,
  w3Rounds: 3,
  s1Tasks: 100_000,
  s2Runners: 300,
  s2Rounds: 3,
  s3Bytes: 200 * 1024 * 1024,
};

export const QUICK: Sizes = {
  w1Submits: 15,
  w2Tasks: 300,
  w2Rounds: 1,
  w3Bytes: 10_000_000,
  w3Rounds: 2,
  s1Tasks: 10_000,
  s2Runners: 100,
  s2Rounds: 2,
  s3Bytes: 50 * 1024 * 1024,
};

/** One line of the table. `better` says which direction is good for the ratio Baton / baseline. */
export interface Row {
  workload: string;
  metric: string;
  unit: string;
  baton: number[];
  baseline?: number[];
  /** The same figure for each peer measured (--peers), against the same baseline. */
  peers?: Partial<Record<PeerName, number[]>>;
  /** Which way is better, for saying whether Baton beats the peers. */
  better?: 'lower' | 'higher';
  /** How the figure is taken from the samples (default: median). */
  pick?: (xs: number[]) => number;
  target?: { text: string; pass: (baton: number, ratio: number | undefined) => boolean };
  note?: string;
}

export interface Context {
  sizes: Sizes;
  cpuProfDir?: string;
  /** --peers: BullMQ and graphile-worker run W1–W3 too. */
  peers?: PeerSet;
  log: (line: string) => void;
}

/** Starts every peer's worker for one workload (none without --peers), each with the workload's slots. */
async function startPeers(ctx: Context, workload: string, concurrency: number): Promise<Peer[]> {
  const peers: Peer[] = [];
  // If one fails to start, the workload breaks and the peer set stops those already started.
  for (const name of PEER_NAMES)
    if (ctx.peers) peers.push(await ctx.peers.start(name, { workload, concurrency }));
  return peers;
}

async function stopPeers(peers: Peer[]): Promise<void> {
  await Promise.all(peers.map((p) => p.stop()));
}

/** A resumed process first runs the timers that fell due while it was stopped: give it this long. */
const SETTLE_AFTER_RESUME_MS = 100;

/**
 * Gives the machine to one system: every other one's processes are paused (SIGSTOP), this one's resumed
 * (SIGCONT). No `who` is the baseline's turn: everything paused. Idle processes are not free (Baton's
 * runners re-poll, graphile-worker polls every 2 s), and a baseline should run as on a machine without them.
 */
async function turn(all: System[], who?: System): Promise<void> {
  for (const c of all) {
    if (c === who) continue;
    try {
      pause(c.pids);
    } catch (err) {
      throw new Error(`${c.name}: one of its processes (${c.pids.join(', ')}) has exited`, { cause: err });
    }
  }
  if (!who) return;
  resume(who.pids);
  await sleep(SETTLE_AFTER_RESUME_MS);
  await who.wake?.();
}

/** Baton or a peer, as `turn` sees it. */
interface System {
  name: string;
  pids: number[];
  /** Called once its processes are resumed, before its turn is measured. */
  wake?: () => Promise<void>;
}

/**
 * Baton's server closes kept-alive connections idle for 30 s, so after a longer pause (W2 with peers) the
 * bench's first request may go out on a connection the server is closing that moment (ECONNRESET, more often
 * the more loaded the machine). One cheap request, retried on a network error, takes that risk instead.
 */
function batonSystem(server: Server, runnerPids: number[]): System {
  return {
    name: 'Baton',
    pids: [server.pid, ...runnerPids],
    async wake() {
      for (let attempt = 1; ; attempt++) {
        try {
          await server.admin.listRunners();
          return;
        } catch (err) {
          if (!(err instanceof NetworkError) || attempt === 3) throw err;
        }
      }
    },
  };
}

const peerSamples = (peers: Peer[]) =>
  Object.fromEntries(peers.map((p) => [p.name, [] as number[]])) as Partial<Record<PeerName, number[]>>;

// The runner runs a bash step as `bash --noprofile --norc -eo pipefail <script file>`
// (src/engine/shell.ts); the baselines run the same script file the same way.
const BASH = ['--noprofile', '--norc', '-eo', 'pipefail'];

function scriptFile(dir: string, body: string): string {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, body + '\n');
  return file;
}

async function rawSpawn(file: string, stdout: 'capture' | NodeJS.WritableStream = 'capture') {
  const child = track(spawn('bash', [...BASH, file], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  if (stdout === 'capture') child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  else child.stdout!.pipe(stdout);
  child.stderr!.resume();
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`bash ${file} exited ${code}`);
  return out;
}

const yaml = (s: string) => JSON.stringify(s); // a JSON string is a valid YAML scalar

// ---- W1: dispatch latency ----

const STAMP = 'BATON_BENCH_T0';
// `$EPOCHREALTIME` is a bash builtin (no fork): CLOCK_REALTIME in µs, read as the script's first command.
const W1_SCRIPT = `echo "${STAMP} $EPOCHREALTIME"`;

export function w1(ctx: Context): Promise<Row[]> {
  return dispatch(ctx, 'host');
}

/** W1 for a runner started with `--isolation sandbox` (every step in bubblewrap): the sandbox's cost. */
export function w1s(ctx: Context): Promise<Row[]> {
  return dispatch(ctx, 'sandbox');
}

async function dispatch(ctx: Context, isolation: 'host' | 'sandbox'): Promise<Row[]> {
  const server = await startServer({ cpuProfDir: ctx.cpuProfDir });
  const name = isolation === 'host' ? 'w1' : 'w1s';
  const runner = await startRunner(server, { name, slots: 1, cpuProfDir: ctx.cpuProfDir, isolation });
  const dir = tempDir('w1');
  const file = scriptFile(dir, W1_SCRIPT);
  const workflow = `name: w1\ntasks:\n  t:\n    run: ${yaml(W1_SCRIPT)}\n`;
  // The sandbox variant measures Baton against itself; the peers run beside the host runner only.
  const peers = isolation === 'host' ? await startPeers(ctx, 'w1', 1) : [];
  const batonPids = batonSystem(server, [runner.pid]);
  const all = [batonPids, ...peers];
  const baton: number[] = [];
  const base: number[] = [];
  const others = peerSamples(peers);
  const WARMUP = 3;
  for (let i = -WARMUP; i < ctx.sizes.w1Submits; i++) {
    await turn(all);
    calibrateClock();
    let t0 = wallUs();
    const out = await rawSpawn(file);
    const b = (parseStamp(out, STAMP) - t0) / 1000;
    await turn(all, batonPids);

    calibrateClock();
    t0 = wallUs();
    const run = await server.admin.submitRun(workflow);
    assertSucceeded(await waitForRun(server.admin, run.id), 'W1');
    const log = await server.admin.taskLog(run.id, 't');
    const d = (parseStamp(log, STAMP) - t0) / 1000;
    if (i >= 0) {
      base.push(b);
      baton.push(d);
    }
    for (const peer of peers) {
      await turn(all, peer);
      calibrateClock();
      t0 = wallUs();
      const { ids } = await peer.runJobs([file]);
      const stored = (await peer.storedOutput(ids[0]!)).toString();
      if (i >= 0) others[peer.name]!.push((parseStamp(stored, STAMP) - t0) / 1000);
    }
  }
  await turn(all, batonPids); // Baton's processes are stopped, or used again, below
  await stopPeers(peers);
  await runner.stop();
  await stop(server.child);
  const p95 = (xs: number[]) => percentile(xs, 95);
  const workload = isolation === 'host' ? 'W1 dispatch' : 'W1s dispatch (sandbox)';
  return [
    {
      workload,
      metric: 'submit → step start p50',
      unit: 'ms',
      baton,
      baseline: base,
      ...(peers.length > 0 ? { peers: others, better: 'lower' as const } : {}),
      // The target is the host runner's; the sandbox's cost is measured against it, not held to it.
      ...(isolation === 'host'
        ? {
            target: {
              text: 'p50 ≤ 1.5× spawn',
              pass: (_b: number, r?: number) => r !== undefined && r <= 1.5,
            },
          }
        : {}),
      note:
        `${ctx.sizes.w1Submits} sequential submits, 1 runner × 1 slot, isolation ${isolation}` +
        (peers.length > 0
          ? '; peers: one job at a time, worker concurrency 1, stamp read from the stored output'
          : ''),
    },
    {
      workload,
      metric: 'submit → step start p95',
      unit: 'ms',
      baton,
      baseline: base,
      ...(peers.length > 0 ? { peers: others, better: 'lower' as const } : {}),
      pick: p95,
    },
  ];
}

// ---- W2: throughput ----

const TASKS_PER_RUN = 1000; // the default per-run limit (src/workflow/limits.ts)

function manyTasks(name: string, n: number): string {
  let s = `name: ${name}\ntasks:\n`;
  for (let i = 0; i < n; i++) s += `  t${i}:\n    run: 'true'\n`;
  return s;
}

async function batonThroughput(client: BatonClient, n: number): Promise<number> {
  const workflows: string[] = [];
  for (let done = 0; done < n; done += TASKS_PER_RUN)
    workflows.push(manyTasks(`w2-${done}`, Math.min(TASKS_PER_RUN, n - done)));
  const t0 = Date.now();
  const runs = await Promise.all(workflows.map((w) => client.submitRun(w)));
  const results = await Promise.all(runs.map((r) => pollRun(client, r.id, 250)));
  for (const r of results) assertSucceeded(r, 'W2');
  // The server stamps finishedAt when the last task's completion is stored: same clock as t0, 1 ms steps.
  const end = Math.max(...results.map((r) => Date.parse(r.finishedAt!)));
  return n / ((end - t0) / 1000);
}

async function rawThroughput(file: string, n: number, concurrency: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) {
      next++;
      await rawSpawn(file);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return n / ((performance.now() - t0) / 1000);
}

export async function w2(ctx: Context): Promise<Row[]> {
  const n = ctx.sizes.w2Tasks;
  const file = scriptFile(tempDir('w2'), 'true');
  const variants = [
    { metric: '1 runner × 2 slots', runners: [{ name: 'w2-2slots', slots: 2 }] },
    {
      metric: '2 runners × 1 slot',
      runners: [
        { name: 'w2-a', slots: 1 },
        { name: 'w2-b', slots: 1 },
      ],
    },
  ];
  // --quick and profiling: the first variant only (--quick must finish in a minute).
  if (ctx.cpuProfDir || ctx.sizes.w2Rounds < 2) variants.length = 1;
  const rows: Row[] = [];
  for (const v of variants) {
    // One cluster at a time: the other variant's idle processes would compete for the CPUs.
    const server = await startServer({ cpuProfDir: ctx.cpuProfDir });
    const runners = [];
    for (const r of v.runners) runners.push(await startRunner(server, { ...r, cpuProfDir: ctx.cpuProfDir }));
    const batonPids = batonSystem(
      server,
      runners.map((r) => r.pid),
    );
    // The peers take the first variant's shape: one worker with 2 slots.
    const peers = rows.length === 0 ? await startPeers(ctx, 'w2', 2) : [];
    const all = [batonPids, ...peers];
    const base: number[] = [];
    const baton: number[] = [];
    const others = peerSamples(peers);
    // The 2 × 1 variant gets one round less: 2,000 tasks take minutes at today's rates.
    const rounds = rows.length === 0 ? ctx.sizes.w2Rounds : Math.max(1, ctx.sizes.w2Rounds - 1);
    for (let round = 0; round < rounds; round++) {
      await turn(all);
      base.push(await rawThroughput(file, n, 2));
      await turn(all, batonPids);
      baton.push(await batonThroughput(server.admin, n));
      let line = `  W2 ${v.metric} round ${round + 1}: spawn ${base.at(-1)!.toFixed(0)}/s, Baton ${baton.at(-1)!.toFixed(1)}/s`;
      for (const peer of peers) {
        await turn(all, peer);
        const t0 = Date.now();
        const { lastDoneAtMs } = await peer.runJobs(Array.from({ length: n }, () => file));
        others[peer.name]!.push(n / ((lastDoneAtMs - t0) / 1000));
        line += `, ${peer.name} ${others[peer.name]!.at(-1)!.toFixed(1)}/s`;
      }
      ctx.log(line);
    }
    await turn(all, batonPids); // Baton's processes are stopped, or used again, below
    await stopPeers(peers);
    await Promise.all(runners.map((r) => r.stop()));
    await stop(server.child);
    rows.push({
      workload: 'W2 throughput',
      metric: v.metric,
      unit: 'tasks/s',
      baton,
      baseline: base,
      ...(peers.length > 0 ? { peers: others, better: 'higher' as const } : {}),
      target:
        rows.length === 0
          ? { text: '≥ 0.7× spawn loop', pass: (_b, r) => r !== undefined && r >= 0.7 }
          : undefined,
      note:
        rows.length === 0
          ? `${n} tasks \`true\` in ${Math.ceil(n / TASKS_PER_RUN)} run(s) submitted together; baseline: ${n} bash spawns from Node, concurrency 2` +
            (peers.length > 0 ? `; peers: ${n} jobs added in one call, worker concurrency 2` : '')
          : undefined,
    });
  }
  return rows;
}

// ---- W3: log throughput ----

// Stored logs are capped at 16 MiB per task (src/runner/log-shipper.ts: the first and last 8 MiB kept), and
// today a log over 8 MiB gets a "0 bytes dropped" marker even under the cap (checked separately below). So
// the total is split across tasks of at most 6.25 MB, run one after another on one slot, each checked byte-exact.
const W3_PER_TASK = 6_250_000;
const W3_UNDER_CAP = 12_500_000;
const LINE = `${'0123456789'.repeat(9)}abcdefghi\n`; // 100 bytes
const linesScript = (bytes: number) =>
  // Process substitution, not a pipe: `yes` dies of SIGPIPE and pipefail would fail the step.
  `head -c ${bytes} < <(yes ${LINE.slice(0, -1)})`;

function logWorkflow(name: string, tasks: number, script: string): string {
  let workflow = `name: ${name}\ntasks:\n`;
  for (let i = 0; i < tasks; i++)
    workflow +=
      `  t${i}:\n    depends_on: ${i === 0 ? '[]' : `[t${i - 1}]`}\n` +
      // Masking on: a secret in the task's environment gives the masker a value to look for in every line.
      `    env: { TOKEN: '\${{ secrets.BENCH_SECRET }}' }\n    run: ${yaml(script)}\n`;
  return workflow;
}

export async function w3(ctx: Context): Promise<Row[]> {
  const total = ctx.sizes.w3Bytes;
  const tasks = Math.ceil(total / W3_PER_TASK);
  const perTask = Math.floor(total / tasks / LINE.length) * LINE.length;
  const bytes = perTask * tasks;
  const script = linesScript(perTask);
  const expected = LINE.repeat(perTask / LINE.length);
  const dir = tempDir('w3');
  const file = scriptFile(dir, script);

  const server = await startServer({ cpuProfDir: ctx.cpuProfDir });
  await server.admin.setSecret('BENCH_SECRET', 'not-in-the-log-4b1d9e7a');
  const runner = await startRunner(server, { name: 'w3', slots: 1, cpuProfDir: ctx.cpuProfDir });
  const batonPids = batonSystem(server, [runner.pid]);
  const workflow = logWorkflow('w3', tasks, script);
  const peers = await startPeers(ctx, 'w3', 1);
  const all = [batonPids, ...peers];
  const others = peerSamples(peers);
  const expectedBytes = Buffer.from(expected);

  const base: number[] = [];
  const baton: number[] = [];
  const fetchMBps: number[] = [];
  // CPU time of each process per MB while the log streams (includes the 50 ms polls of the run).
  const serverCpu: number[] = [];
  const runnerCpu: number[] = [];
  // Round 0 warms every system up and is not counted, as W1's first submissions: the first task on a fresh
  // runner builds the step init (gcc) and every process's JIT is cold.
  for (let round = 0; round <= ctx.sizes.w3Rounds; round++) {
    await turn(all);
    let t = performance.now();
    for (let i = 0; i < tasks; i++) {
      const out = createWriteStream(join(dir, `out-${i}.log`));
      await rawSpawn(file, out);
      if (!out.writableFinished) await once(out, 'finish');
    }
    base.push(bytes / 1e6 / ((performance.now() - t) / 1000));
    await turn(all, batonPids);

    const cpu0 = { server: cpuMs(server.pid), runner: cpuMs(runner.pid) };
    const t0 = Date.now();
    const submitted = await server.admin.submitRun(workflow);
    const run = await pollRun(server.admin, submitted.id, 50);
    serverCpu.push((cpuMs(server.pid) - cpu0.server) / (bytes / 1e6));
    runnerCpu.push((cpuMs(runner.pid) - cpu0.runner) / (bytes / 1e6));
    assertSucceeded(run, 'W3');
    // finishedAt: stamped by the server when the last task's outcome (sent after its whole log) is stored.
    baton.push(bytes / 1e6 / ((Date.parse(run.finishedAt!) - t0) / 1000));
    t = performance.now();
    for (let i = 0; i < tasks; i++) {
      const log = await server.admin.taskLog(run.id, `t${i}`);
      if (log !== expected || run.results[`t${i}`]!.logTruncated)
        throw new Error(
          `W3: the stored log of t${i} is not byte-exact (${log.length} of ${expected.length} bytes)`,
        );
    }
    fetchMBps.push(bytes / 1e6 / ((performance.now() - t) / 1000));
    let line = `  W3 round ${round + 1}: capture ${base.at(-1)!.toFixed(0)} MB/s, Baton ${baton.at(-1)!.toFixed(1)} MB/s`;
    for (const peer of peers) {
      await turn(all, peer);
      const t0 = Date.now();
      const { ids, lastDoneAtMs } = await peer.runJobs(Array.from({ length: tasks }, () => file));
      others[peer.name]!.push(bytes / 1e6 / ((lastDoneAtMs - t0) / 1000));
      for (const id of ids) {
        const stored = await peer.storedOutput(id);
        if (!stored.equals(expectedBytes))
          throw new Error(
            `W3: ${peer.name} stored ${stored.length} bytes for job ${id}, not the ${expectedBytes.length} printed`,
          );
      }
      await peer.dropOutputs(ids);
      line += `, ${peer.name} ${others[peer.name]!.at(-1)!.toFixed(1)} MB/s`;
    }
    if (round === 0) {
      for (const xs of [
        base,
        baton,
        fetchMBps,
        serverCpu,
        runnerCpu,
        ...(Object.values(others) as number[][]),
      ])
        xs.pop();
      line = line.replace('W3 round 1:', 'W3 warm-up (not counted):');
    }
    ctx.log(line.replace(/W3 round (\d+):/, (_, n: string) => `W3 round ${Number(n) - 1}:`));
  }
  await turn(all, batonPids); // Baton's processes are stopped, or used again, below
  await stopPeers(peers);

  // A log between 8 and 16 MiB must be stored whole too.
  const probe = await server.admin.submitRun(logWorkflow('w3-under-cap', 1, linesScript(W3_UNDER_CAP)));
  const probeRun = await pollRun(server.admin, probe.id, 50);
  assertSucceeded(probeRun, 'W3 12.5 MB');
  const probeLog = await server.admin.taskLog(probe.id, 't0');
  const exact = probeLog === LINE.repeat(W3_UNDER_CAP / LINE.length);

  await runner.stop();
  await stop(server.child);
  return [
    {
      workload: 'W3 log',
      metric: 'stored log throughput',
      unit: 'MB/s',
      baton,
      baseline: base,
      ...(peers.length > 0 ? { peers: others, better: 'higher' as const } : {}),
      target: { text: '≥ 0.8× capture to file', pass: (_b, r) => r !== undefined && r >= 0.8 },
      note:
        `${(bytes / 1e6).toFixed(1)} MB in 100-byte lines as ${tasks} sequential task(s) × ${(perTask / 1e6).toFixed(2)} MB, masking on (one secret), each log checked byte-exact; baseline: the same script's stdout piped to a file from Node` +
        (peers.length > 0
          ? `; peers: ${tasks} jobs added in one call, worker concurrency 1, output stored as it arrives (≤ 1 MiB a write), each checked byte-exact`
          : ''),
    },
    { workload: 'W3 log', metric: 'log download (taskLog)', unit: 'MB/s', baton: fetchMBps },
    { workload: 'W3 log', metric: 'server CPU per MB streamed', unit: 'ms/MB', baton: serverCpu },
    { workload: 'W3 log', metric: 'runner CPU per MB streamed', unit: 'ms/MB', baton: runnerCpu },
    {
      workload: 'W3 log',
      metric: '12.5 MB log stored (bytes)',
      unit: 'B',
      baton: [probeLog.length],
      baseline: [W3_UNDER_CAP],
      target: { text: 'byte-exact under the 16 MiB cap', pass: () => exact },
      note: exact
        ? undefined
        : `stored ${probeLog.length} bytes of ${W3_UNDER_CAP}, with "${probeLog.match(/\[baton\][^\n]*/)?.[0] ?? '?'}"`,
    },
  ];
}

// ---- S1: claim latency under a deep queue ----

async function claimLatency(db: string, tasks: number) {
  const child = track(
    spawn(
      process.execPath,
      [join(ROOT, 'bench/claim-latency.ts'), '--db', db, '--tasks', String(tasks), '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`claim-latency --db ${db} exited ${code}: ${err}`);
  type Stats = { p50: number; p99: number; min: number; max: number };
  return JSON.parse(out.trim().split('\n').at(-1)!) as { claim: Stats; baseline: Stats; claims: number };
}

export async function s1(ctx: Context): Promise<Row[]> {
  const dbs = ['sqlite'];
  if (process.env.BATON_BENCH_POSTGRES_URL ?? process.env.BATON_TEST_POSTGRES_URL) dbs.push('postgres');
  const rows: Row[] = [];
  for (const db of dbs) {
    const r = await claimLatency(db, ctx.sizes.s1Tasks);
    const note = `${ctx.sizes.s1Tasks} queued, ${r.claims} claims; baseline: the oldest-queued SELECT … LIMIT 1`;
    rows.push(
      {
        workload: `S1 claim ${db}`,
        metric: 'leases.claim p50',
        unit: 'ms',
        baton: [r.claim.p50],
        baseline: [r.baseline.p50],
        note,
      },
      {
        workload: `S1 claim ${db}`,
        metric: 'leases.claim p99',
        unit: 'ms',
        baton: [r.claim.p99],
        baseline: [r.baseline.p99],
        target: db === 'sqlite' ? { text: 'p99 ≤ 10 ms', pass: (b) => b <= 10 } : undefined,
      },
    );
  }
  return rows;
}

// ---- S2: fan-out to many long-polling runners ----

interface FanOut {
  latencyMs: number;
  /** Acquire answers per second while nothing was queued (1 per hold per runner if holds work). */
  idleAnswersPerS: number;
  rss: number;
}

/**
 * N runner clients each loop on acquire as the agent does (src/runner/agent.ts #slot: a new acquire as soon as
 * one ends), one task is submitted, and the round ends 500 ms after the first offer: exactly one may have it.
 */
async function fanOutRound(server: Server, clients: BatonClient[], round: string): Promise<FanOut> {
  const waitMs = 10_000;
  const abort = new AbortController();
  let active = true;
  let answers = 0;
  let sent = 0;
  let offerAt = 0;
  const offers: Array<{ client: BatonClient; offer: AcquireResponse }> = [];
  const loops = clients.map(async (client) => {
    while (active) {
      sent++;
      try {
        const offer = await client.acquire(1, waitMs, abort.signal);
        answers++;
        if (!offer) continue;
        if (offers.length === 0) offerAt = performance.now();
        offers.push({ client, offer });
        return;
      } catch (err) {
        if (!active) return;
        throw err;
      }
    }
  });
  try {
    while (sent < clients.length) await sleep(10);
    await sleep(500); // every first acquire has reached the server and is held (or answered)
    const a0 = answers;
    const t = performance.now();
    await sleep(1000);
    const idleAnswersPerS = (answers - a0) / ((performance.now() - t) / 1000);
    const rss = rssMiB(server.pid);
    const t0 = performance.now();
    await server.admin.submitRun(`name: s2-${round}\ntasks:\n  t:\n    run: 'true'\n`);
    const deadline = performance.now() + 30_000;
    while (offers.length === 0 && performance.now() < deadline) await sleep(1);
    if (offers.length === 0) throw new Error('S2: no runner got the task within 30 s');
    await sleep(500);
    if (offers.length !== 1)
      throw new Error(`S2: ${offers.length} runners got the one task (want exactly 1)`);
    active = false;
    abort.abort();
    await Promise.all(loops);
    // Finish the attempt as a runner would, so the task does not return to the queue.
    const { client, offer } = offers[0]!;
    const startedAt = new Date().toISOString();
    await client.start(offer.lease);
    await client.complete(offer.lease, {
      status: 'succeeded',
      exitCode: 0,
      outputs: {},
      steps: [],
      startedAt,
      finishedAt: new Date().toISOString(),
    });
    return { latencyMs: offerAt - t0, idleAnswersPerS, rss };
  } finally {
    active = false;
    abort.abort();
    await Promise.allSettled(loops);
  }
}

export async function s2(ctx: Context): Promise<Row[]> {
  const n = ctx.sizes.s2Runners;
  const server = await startServer({ cpuProfDir: ctx.cpuProfDir });
  const reg = createClient({ baseUrl: server.url });
  const clients: BatonClient[] = [];
  for (let i = 0; i < n; i += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, n - i) }, (_, j) =>
        reg.register(REGISTRATION_TOKEN, { name: `s2-${i + j}`, labels: [], capacity: 1, version: 'bench' }),
      ),
    );
    for (const r of batch) clients.push(createClient({ baseUrl: server.url, token: r.token }));
  }
  const idleRss = rssMiB(server.pid);
  await fanOutRound(server, clients.slice(0, 1), 'warm-up'); // JIT, statements, connections: not counted
  const fan: number[] = [];
  const single: number[] = [];
  const rss: number[] = [];
  const answers: number[] = [];
  for (let round = 0; round < ctx.sizes.s2Rounds; round++) {
    single.push((await fanOutRound(server, clients.slice(0, 1), `1-${round}`)).latencyMs);
    const r = await fanOutRound(server, clients, `${n}-${round}`);
    fan.push(r.latencyMs);
    rss.push(r.rss);
    answers.push(r.idleAnswersPerS);
    ctx.log(
      `  S2 round ${round + 1}: 1 waiter ${single.at(-1)!.toFixed(1)} ms, ${n} waiters ${r.latencyMs.toFixed(1)} ms, ${r.idleAnswersPerS.toFixed(0)} idle acquire answers/s`,
    );
  }
  await stop(server.child);
  return [
    {
      workload: 'S2 fan-out',
      metric: `submit → offer, ${n} runners polling`,
      unit: 'ms',
      baton: fan,
      baseline: single,
      target: { text: '≤ 50 ms, exactly 1 offer', pass: (b) => b <= 50 },
      note: `${n} runners registered through the API, each looping on acquire from this process; baseline: the same with 1 runner; exactly one got the task in every round`,
    },
    {
      workload: 'S2 fan-out',
      metric: `server RSS, ${n} runners polling`,
      unit: 'MiB',
      baton: rss,
      baseline: [idleRss],
      note: 'baseline: the same server with the runners registered and no poll held',
    },
    {
      workload: 'S2 fan-out',
      metric: `acquire answers/s, nothing queued`,
      unit: '/s',
      baton: answers,
      target: { text: `≤ ${n}/25 s (held long-polls)`, pass: (b) => b <= n / 25 + 1 },
      note: `with long-polls held for up to 25 s, ${n} idle runners cause ≈ ${(n / 25).toFixed(0)} answers/s`,
    },
  ];
}

// ---- S3: footprint ----

export async function s3(ctx: Context): Promise<Row[]> {
  // Baseline: a bare Node process doing nothing (the floor any Node server or runner starts from).
  const bare = track(spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }));
  const server = await startServer();
  const runner = await startRunner(server, { name: 's3', slots: 1 });
  await sleep(1000);
  const idle = { server: [] as number[], runner: [] as number[], bare: [] as number[] };
  for (let i = 0; i < 5; i++) {
    idle.server.push(rssMiB(server.pid));
    idle.runner.push(rssMiB(runner.pid));
    idle.bare.push(rssMiB(bare.pid!));
    await sleep(200);
  }
  // CPU used while idle, over 2 s, in % of one core.
  const procs = { server: server.pid, runner: runner.pid, bare: bare.pid! };
  const cpu0 = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, cpuMs(pid)]));
  const tCpu = performance.now();
  await sleep(2000);
  const elapsed = performance.now() - tCpu;
  const idleCpu = (k: keyof typeof procs) => (100 * (cpuMs(procs[k]) - cpu0[k]!)) / elapsed;
  const cpu = { server: idleCpu('server'), runner: idleCpu('runner'), bare: idleCpu('bare') };
  const mib = ctx.sizes.s3Bytes / 1024 / 1024;
  const submitted = await server.admin.submitRun(
    `name: s3\ntasks:\n  t:\n    run: ${yaml(`yes ${LINE.slice(0, -1)} | head -c ${mib}M || true`)}\n`,
  );
  const streaming: number[] = [];
  const serverStreaming: number[] = [];
  for (;;) {
    streaming.push(rssMiB(runner.pid));
    serverStreaming.push(rssMiB(server.pid));
    const run = await server.admin.getRun(submitted.id);
    if (run.status === 'succeeded') break;
    if (!['queued', 'running', 'pending'].includes(run.status)) throw new Error(`S3: run ${run.status}`);
    await sleep(50);
  }
  await runner.stop();
  await stop(server.child);
  await stop(bare);
  const peak = (xs: number[]) => max(xs);
  return [
    {
      workload: 'S3 footprint',
      metric: 'server RSS idle',
      unit: 'MiB',
      baton: idle.server,
      baseline: idle.bare,
      note: 'baseline: a bare `node -e setInterval(…)`',
    },
    {
      workload: 'S3 footprint',
      metric: 'runner RSS idle',
      unit: 'MiB',
      baton: idle.runner,
      baseline: idle.bare,
      target: { text: '≤ 80 MiB', pass: (b) => b <= 80 },
    },
    {
      workload: 'S3 footprint',
      metric: 'server CPU idle (1 idle runner)',
      unit: '% core',
      baton: [cpu.server],
      baseline: [cpu.bare],
      note: 'CPU time over 2 s with nothing queued, from /proc/<pid>/stat; baseline: the bare node process',
    },
    {
      workload: 'S3 footprint',
      metric: 'runner CPU idle',
      unit: '% core',
      baton: [cpu.runner],
      baseline: [cpu.bare],
    },
    {
      workload: 'S3 footprint',
      metric: `runner RSS peak, ${mib} MiB log`,
      unit: 'MiB',
      baton: streaming,
      baseline: idle.runner,
      pick: peak,
      target: { text: '≤ 120 MiB', pass: (b) => b <= 120 },
      note: `sampled every 50 ms (${streaming.length} samples) while a task prints ${mib} MiB at full speed; baseline: the runner idle`,
    },
    {
      workload: 'S3 footprint',
      metric: `server RSS peak, ${mib} MiB log`,
      unit: 'MiB',
      baton: serverStreaming,
      baseline: idle.server,
      pick: peak,
    },
  ];
}

export const WORKLOADS = { w1, w1s, w2, w3, s3, s1, s2 } as const;
export { median, min, max };
