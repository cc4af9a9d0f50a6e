// Top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`), and self time by source area
// (a file of src/, a package of node_modules, node internals, GC, idle).
//
//   node bench/profile-summary.ts FILE.cpuprofile [--top 20]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function area(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  const path = url.replace(/^file:\/\//, '');
  const pkg = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return `npm:${pkg[1]}`;
  if (path.startsWith('node:')) return 'node internals';
  const src = path.match(/\/((?:src|dist|bench|bin)\/.*)$/);
  return src ? src[1]! : path;
}

export function summarise(file: string, top = 20): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; attribute it to the node sampled (µs).
  for (let i = 0; i < p.samples.length; i++)
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** The nearest frame in the project's own code (src/, bin/) at or above a node: who to blame for a native call. */
  const ownFrame = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
      const a = area(url, functionName);
      if (a.startsWith('src/') || a.startsWith('dist/') || a.startsWith('bin/'))
        return `${functionName || '(anonymous)'} ${a}:${lineNumber + 1}`;
    }
    return '(outside src/)';
  };
  const totalUs = p.endTime - p.startTime;
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  const owners = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') idle += us;
    const where = url ? `${area(url, name)}:${lineNumber + 1}` : '';
    const key = `${name} ${where}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + us);
    const a = area(url, name);
    areas.set(a, (areas.get(a) ?? 0) + us);
    if (name !== '(idle)' && name !== '(garbage collector)' && name !== '(program)') {
      const owner = ownFrame(id);
      owners.set(owner, (owners.get(owner) ?? 0) + us);
    }
  }
  const busy = totalUs - idle;
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const rank = (m: Map<string, number>) =>
    [...m]
      .filter(([k]) => !k.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
  const out = [
    `  profile ${(totalUs / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (percentages are of busy time)`,
    '  top self time by function:',
    ...rank(fns).map(([k, us]) => `  ${ms(us)} ${pct(us)}  ${k}`),
    '  self time by area:',
    ...rank(areas).map(([k, us]) => `  ${ms(us)} ${pct(us)}  ${k}`),
    '  self time charged to the nearest src/ function on the stack (libraries and natives included):',
    ...rank(owners).map(([k, us]) => `  ${ms(us)} ${pct(us)}  ${k}`),
  ];
  return out.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '20' } },
  });
  if (positionals.length === 0)
    throw new Error('usage: node bench/profile-summary.ts FILE.cpuprofile [--top N]');
  for (const f of positionals) console.log(`${f}:\n${summarise(f, Number(values.top))}`);
}
