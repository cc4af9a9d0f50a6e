// `npm run bench [-- --quick] [-- --only w1,s2] [-- --profile w2]`: the benchmark suite of issue 8.
// Prints a table (Baton vs a baseline measured in the same run, their ratio, the target) and writes the
// figures to bench/results/<timestamp>.json. A missed target is reported, never an error: the exit code is
// non-zero only when a workload itself broke. See docs/performance.md.
//
// --profile W runs only workload W with `node --cpu-prof` on the server and runner processes, writes the
// profiles to bench/results/profile-<timestamp>/ and prints the top self-time functions of each.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, cleanup, killAllNow } from './harness.ts';
import { FULL, QUICK, WORKLOADS, median, type Context, type Row } from './workloads.ts';
import { summarise } from './profile-summary.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'string' },
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

process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    process.stderr.write(`\n${sig}: stopping every process the suite started\n`);
    void cleanup().finally(() => process.exit(130));
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
  note?: string;
  samples: { baton: number[]; baseline?: number[] };
}

function toLine(r: Row): Line {
  const pick = r.pick ?? median;
  const baton = pick(r.baton);
  const baseline = r.baseline ? pick(r.baseline) : undefined;
  const ratio = baseline !== undefined && baseline > 0 ? baton / baseline : undefined;
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
    note: r.note,
    samples: { baton: r.baton, baseline: r.baseline },
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
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const sizes = args.quick ? QUICK : FULL;
const ctx: Context = { sizes, cpuProfDir, log: (s) => process.stderr.write(s + '\n') };
const lines: Line[] = [];
const errors: Array<{ workload: string; error: string }> = [];
const started = Date.now();
process.stderr.write(`baton bench${args.quick ? ' --quick' : ''}: ${selected.join(', ')}\n`);
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
  }
  process.stderr.write(`${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
}

const m = machine();
console.log(
  `\nBaton bench${args.quick ? ' (quick)' : ''} — ${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, load ${m.loadavg}`,
);
console.log(
  'Figures are medians of the rounds (peaks where marked), min–max of all samples; ratio = Baton / baseline.\n',
);
console.log(table(lines));
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
      machine: m,
      lines,
      errors,
    },
    null,
    2,
  ),
);
console.log(
  `\n${lines.filter((l) => l.result === 'MISS').length} target(s) missed; ${seconds.toFixed(0)} s; results: ${file}`,
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
