// `npm run bench [-- --quick] [-- --only w1,s2] [-- --profile w2] [-- --peers]`: the benchmark suite of issue 8.
// Prints a table (Baton vs a baseline measured in the same run, their ratio, the target) and writes the
// figures to bench/results/<timestamp>.json. A missed target is reported, never an error: the exit code is
// non-zero only when a workload itself broke. See docs/performance.md.
//
// --peers also runs BullMQ (Redis at BATON_BENCH_REDIS_URL, default redis://127.0.0.1:6379, started if none
// answers on loopback) and graphile-worker (a throwaway database on BATON_BENCH_POSTGRES_URL or
// BATON_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres) through W1–W3, each as a ratio
// to the same baseline (issue 20); the table then says whether Baton beats both.
//
// Server and runners run as an installed package runs them (bin/ and the compiled dist/, built into a temp dir
// first); --from-sources runs the checkout's type-stripped sources instead, as `npx baton` in a clone does.
//
// --profile W runs only workload W with `node --cpu-prof` on the server and runner processes, writes the
// profiles to bench/results/profile-<timestamp>/ and prints the top self-time functions of each; nothing is paused
// for the baselines then (harness.ts neverPause).
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, cleanup, killAllNow, neverPause, useInstalledPackage } from './harness.ts';
import { FULL, QUICK, WORKLOADS, median, type Context, type Row } from './workloads.ts';
import { summarise } from './profile-summary.ts';
import { PEER_NAMES, type PeerName } from './peers/contract.ts';
import { createPeerSet, type PeerSet } from './peers/peers.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'string' },
    peers: { type: 'boolean', default: false },
    'from-sources': { type: 'boolean', default: false },
  },
});

type Name = keyof typeof WORKLOADS;
const names = Object.keys(WORKLOADS) as Name[];
const selected: Name[] = args.profile
  ? [args.profile as Name]
  : args.only
    ? (args.only.split(',') as Name[])
    : names;
for (const n of selected)
  if (!names.includes(n)) throw new Error(`unknown workload '${n}' (${names.join(', ')})`);

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const resultsDir = join(ROOT, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const cpuProfDir = args.profile ? join(resultsDir, `profile-${stamp}`) : undefined;
if (cpuProfDir) neverPause();

/** Workloads the peers run through (the others measure Baton alone). */
const PEER_WORKLOADS: readonly Name[] = ['w1', 'w2', 'w3'];
let peerSet: PeerSet | undefined;

process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    process.stderr.write(`\n${sig}: stopping every process the suite started\n`);
    void cleanup()
      .then(() => peerSet?.close())
      .finally(() => process.exit(130));
  });

function machine() {
  const model = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model;
  return {
    nproc: cpus().length,
    cpu: model,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

interface Line {
  workload: string;
  metric: string;
  unit: string;
  baton: number;
  batonMin: number;
  batonMax: number;
  baseline?: number;
  baselineMin?: number;
  baselineMax?: number;
  ratio?: number;
  target?: string;
  result?: 'pass' | 'MISS';
  /** --peers: each peer's figure, its spread and its ratio to the same baseline. */
  peers?: Partial<Record<PeerName, { value: number; min: number; max: number; ratio?: number }>>;
  /** --peers: the peers Baton is not ahead of (equal counts as behind); empty when it beats both. */
  behind?: PeerName[];
  note?: string;
  samples: { baton: number[]; baseline?: number[]; peers?: Partial<Record<PeerName, number[]>> };
}

function toLine(r: Row): Line {
  const pick = r.pick ?? median;
  const baton = pick(r.baton);
  const baseline = r.baseline ? pick(r.baseline) : undefined;
  const ratio = baseline !== undefined && baseline > 0 ? baton / baseline : undefined;
  const peers: Line['peers'] = {};
  const behind: PeerName[] = [];
  for (const name of PEER_NAMES) {
    const xs = r.peers?.[name];
    if (!xs || xs.length === 0) continue;
    const value = pick(xs);
    peers[name] = {
      value,
      min: Math.min(...xs),
      max: Math.max(...xs),
      ratio: baseline !== undefined && baseline > 0 ? value / baseline : undefined,
    };
    if (r.better === 'lower' ? baton >= value : baton <= value) behind.push(name);
  }
  const withPeers = Object.keys(peers).length > 0;
  return {
    workload: r.workload,
    metric: r.metric,
    unit: r.unit,
    baton,
    batonMin: Math.min(...r.baton),
    batonMax: Math.max(...r.baton),
    baseline,
    baselineMin: r.baseline ? Math.min(...r.baseline) : undefined,
    baselineMax: r.baseline ? Math.max(...r.baseline) : undefined,
    ratio,
    target: r.target?.text,
    result: r.target ? (r.target.pass(baton, ratio) ? 'pass' : 'MISS') : undefined,
    ...(withPeers ? { peers, behind: r.better ? behind : undefined } : {}),
    note: r.note,
    samples: { baton: r.baton, baseline: r.baseline, ...(withPeers ? { peers: r.peers } : {}) },
  };
}

function table(lines: Line[]): string {
  const head = ['workload', 'metric', 'Baton (min–max)', 'baseline (min–max)', 'ratio', 'target', 'result'];
  const rows = lines.map((l) => [
    l.workload,
    l.metric,
    `${fmt(l.baton)} ${l.unit} (${fmt(l.batonMin)}–${fmt(l.batonMax)})`,
    l.baseline === undefined
      ? ''
      : `${fmt(l.baseline)} ${l.unit} (${fmt(l.baselineMin!)}–${fmt(l.baselineMax!)})`,
    l.ratio === undefined ? '' : `${l.ratio.toFixed(2)}×`,
    l.target ?? '',
    l.result ?? '',
  ]);
  return markdown(head, rows);
}

/**
 * --peers: one line per metric, every system as its figure and its ratio to the one baseline of the same run,
 * and whether Baton meets the target and is ahead of both peers.
 */
function peerTable(lines: Line[]): string {
  const head = ['workload', 'metric', 'baseline (min–max)', 'Baton', ...PEER_NAMES, 'target', 'result'];
  const cell = (value: number, ratio: number | undefined, unit: string) =>
    `${fmt(value)} ${unit}${ratio === undefined ? '' : ` = ${ratio.toFixed(2)}×`}`;
  const rows = lines.map((l) => {
    const verdict =
      l.behind === undefined
        ? ''
        : l.behind.length === 0
          ? 'beats both'
          : `behind ${l.behind.length === PEER_NAMES.length ? 'both' : l.behind.join(', ')}`;
    return [
      l.workload,
      l.metric,
      l.baseline === undefined
        ? ''
        : `${fmt(l.baseline)} ${l.unit} (${fmt(l.baselineMin!)}–${fmt(l.baselineMax!)})`,
      cell(l.baton, l.ratio, l.unit),
      ...PEER_NAMES.map((n) => {
        const p = l.peers?.[n];
        return p ? cell(p.value, p.ratio, l.unit) : '';
      }),
      l.target ?? '',
      [l.result, verdict].filter(Boolean).join(', '),
    ];
  });
  return markdown(head, rows);
}

function markdown(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const sizes = args.quick ? QUICK : FULL;
const log = (s: string) => process.stderr.write(s + '\n');
const lines: Line[] = [];
const errors: Array<{ workload: string; error: string }> = [];
const started = Date.now();
process.stderr.write(
  `baton bench${args.quick ? ' --quick' : ''}${args.peers ? ' --peers' : ''}: ${selected.join(', ')}\n`,
);
if (args.peers && selected.some((n) => PEER_WORKLOADS.includes(n))) {
  peerSet = await createPeerSet({
    redisUrl: process.env.BATON_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    postgresUrl:
      process.env.BATON_BENCH_POSTGRES_URL ??
      process.env.BATON_TEST_POSTGRES_URL ??
      'postgres://postgres@127.0.0.1:5432/postgres',
    log,
  });
  log(`peers: ${peerSet.description}`);
}
const layout = args['from-sources'] ? 'sources' : 'package';
if (layout === 'package') {
  const t = Date.now();
  const pkg = useInstalledPackage();
  log(`baton as installed: built ${pkg} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
} else log('baton from the checkout: type-stripped sources');
const ctx: Context = { sizes, cpuProfDir, peers: peerSet, log };
for (const name of selected) {
  const t = Date.now();
  process.stderr.write(`${name} …\n`);
  try {
    for (const row of await WORKLOADS[name](ctx)) lines.push(toLine(row));
  } catch (err) {
    const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    errors.push({ workload: name, error });
    process.stderr.write(`${name} FAILED: ${error}\n`);
  } finally {
    await cleanup(); // whatever the workload left running
    await peerSet?.stopPeers(); // and the bench's connections to the peers' stores
  }
  process.stderr.write(`${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
}
try {
  await peerSet?.close();
} catch (err) {
  // The figures are taken; what is left behind is named for the operator to remove.
  errors.push({ workload: 'peers', error: `cleaning up the peers' Redis keys and database: ${String(err)}` });
}

const m = machine();
console.log(
  `\nBaton bench${args.quick ? ' (quick)' : ''} — ${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, load ${m.loadavg}; baton ${layout === 'package' ? 'as installed (dist/)' : 'from sources'}`,
);
if (peerSet) {
  console.log(`Peers: ${peerSet.description}`);
  console.log(
    'Figures are medians of the rounds (peaks where marked); every ratio is to the same baseline of the same run.\n',
  );
  console.log(peerTable(lines));
} else {
  console.log(
    'Figures are medians of the rounds (peaks where marked), min–max of all samples; ratio = Baton / baseline.\n',
  );
  console.log(table(lines));
}
for (const l of lines) if (l.note) console.log(`  ${l.workload} · ${l.metric}: ${l.note}`);

const file = join(resultsDir, `${stamp}${args.quick ? '-quick' : ''}${args.profile ? '-profile' : ''}.json`);
const seconds = (Date.now() - started) / 1000;
writeFileSync(
  file,
  JSON.stringify(
    {
      startedAt: new Date(started).toISOString(),
      seconds,
      quick: args.quick,
      sizes,
      layout,
      machine: m,
      ...(peerSet ? { peers: { names: PEER_NAMES, stores: peerSet.description } } : {}),
      lines,
      errors,
    },
    null,
    2,
  ),
);
const behind = lines.filter((l) => l.behind !== undefined && l.behind.length > 0).length;
console.log(
  `\n${lines.filter((l) => l.result === 'MISS').length} target(s) missed;` +
    (peerSet ? ` Baton behind a peer on ${behind} line(s);` : '') +
    ` ${seconds.toFixed(0)} s; results: ${file}`,
);

if (cpuProfDir) {
  for (const f of readdirSync(cpuProfDir).filter((f) => f.endsWith('.cpuprofile'))) {
    console.log(`\n${f}:`);
    console.log(summarise(join(cpuProfDir, f), 15));
  }
}
if (errors.length > 0) {
  console.log(`\nFAILED: ${errors.map((e) => e.workload).join(', ')}`);
  process.exitCode = 1;
}
