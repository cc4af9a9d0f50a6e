// Shared pieces of the benchmark suite: real server and runner processes on loopback (every one killed by its
// PID on exit), a wall clock with microsecond resolution comparable with bash's $EPOCHREALTIME, statistics.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type BatonClient } from '../src/client/index.ts';
import type { RunResult } from '../src/protocol/api.ts';

export const ROOT = new URL('..', import.meta.url).pathname;
/** The `baton` the suite starts: the checkout's (type-stripped sources) until `useInstalledPackage()`. */
export let BIN = join(ROOT, 'bin/baton.js');

/**
 * Runs server and runners as an installed package does (package.json `files`): bin/ and the compiled dist/
 * (`npm run build`'s tsc output and the step init's source), no src/, so bin/baton.js takes dist/. Built once
 * per suite into a temp dir that is removed on exit; node_modules is the checkout's. A process from the
 * sources carries Node's TypeScript stripper and the sources' text: ~25 MiB more anonymous memory, which every
 * fork of the runner (one per step) copies the page tables of (docs/performance.md "How each figure is taken").
 */
export function useInstalledPackage(): string {
  const pkg = mkdtempSync(join(tmpdir(), 'baton-bench-package-'));
  process.once('exit', () => rmSync(pkg, { recursive: true, force: true }));
  const dist = join(pkg, 'dist');
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      dist,
      '--declaration',
      'false',
      '--sourceMap',
      'false',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  cpSync(join(ROOT, 'src/engine/init'), join(dist, 'engine/init'), { recursive: true });
  cpSync(join(ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  BIN = join(pkg, 'bin/baton.js');
  return pkg;
}
export const ADMIN_TOKEN = 'bench-admin-token-0123456789';
export const REGISTRATION_TOKEN = 'bench-registration-token-0123456789';

// ---- processes ----

const children = new Set<ChildProcess>();
/** Processes that outlive one workload (a Redis server the peers need): stopped by their owner, or on exit. */
const suiteChildren = new Set<ChildProcess>();
const scratch = new Set<string>();

export function tempDir(prefix: string, base = tmpdir()): string {
  const dir = mkdtempSync(join(base, `baton-bench-${prefix}-`));
  scratch.add(dir);
  return dir;
}

/**
 * Spawns a process that is killed (by its PID) when the suite ends, however it ends. A `workload` process is
 * also stopped by `cleanup()` after each workload; a `suite` one only by its owner or on exit.
 */
export function track(child: ChildProcess, scope: 'workload' | 'suite' = 'workload'): ChildProcess {
  const set = scope === 'workload' ? children : suiteChildren;
  set.add(child);
  child.once('exit', () => set.delete(child));
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM (a graceful stop writes --cpu-prof profiles), then SIGKILL after `graceMs`. */
export async function stop(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  process.kill(child.pid, 'SIGCONT'); // in case it was paused
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
      process.kill(child.pid, 'SIGKILL');
  }, graceMs);
  await exited(child);
  clearTimeout(timer);
}

export async function cleanup(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c, 3000)));
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  scratch.clear();
}

/** Last resort for a synchronous exit: SIGKILL whatever is left. */
export function killAllNow(): void {
  for (const c of [...children, ...suiteChildren]) {
    if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

function nodeArgs(cpuProfDir: string | undefined, name: string): string[] {
  if (!cpuProfDir) return [];
  mkdirSync(cpuProfDir, { recursive: true });
  return ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `${name}.cpuprofile`];
}

function waitForLine(child: ChildProcess, stream: 'stdout' | 'stderr', re: RegExp, what: string) {
  return new Promise<RegExpMatchArray>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what}: no '${re}' within 30 s:\n${seen}`)), 30_000);
    child[stream]!.on('data', (d: Buffer) => {
      seen += d.toString();
      const m = seen.match(re);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before '${re}':\n${seen}`));
    });
  });
}

export interface Server {
  url: string;
  pid: number;
  child: ChildProcess;
  dir: string;
  admin: BatonClient;
}

export async function startServer(o: { cpuProfDir?: string } = {}): Promise<Server> {
  const dir = tempDir('server');
  const child = track(
    spawn(
      process.execPath,
      [
        ...nodeArgs(o.cpuProfDir, 'server'),
        BIN,
        'server',
        '--port',
        '0',
        '--data-dir',
        dir,
        '--log-level',
        'warn',
      ],
      {
        env: {
          ...process.env,
          BATON_ADMIN_TOKEN: ADMIN_TOKEN,
          BATON_RUNNER_REGISTRATION_TOKEN: REGISTRATION_TOKEN,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  child.stdout!.resume();
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM')
      process.stderr.write(`server exited ${code ?? signal}: ${stderr}\n`);
  });
  const m = await waitForLine(child, 'stderr', /listening on (http:\/\/\S+)/, 'server');
  const url = m[1]!;
  return { url, pid: child.pid!, child, dir, admin: createClient({ baseUrl: url, token: ADMIN_TOKEN }) };
}

export interface Runner {
  name: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `baton runner register` then `baton runner start`, as an operator would; resolves once it long-polls. */
export async function startRunner(
  server: Server,
  o: { name: string; slots: number; cpuProfDir?: string; isolation?: 'host' | 'sandbox' },
): Promise<Runner> {
  // Where an installed runner lives (a service account's home, /var/lib): on the same disk as /tmp here, but
  // not under /tmp, which a contained step gets a private one of — a work root under /tmp has its path made
  // again inside every task's /tmp (containment.ts), two directories per task no real install pays for.
  const dir = tempDir(`runner-${o.name}`, '/var/tmp');
  const config = join(dir, 'runner.json');
  const reg = track(
    spawn(
      process.execPath,
      [
        BIN,
        'runner',
        'register',
        '--server',
        server.url,
        '--registration-token',
        REGISTRATION_TOKEN,
        '--name',
        o.name,
        '--config',
        config,
        '--max-parallel-tasks',
        String(o.slots),
        '--work-dir',
        join(dir, '_work'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    ),
  );
  let regErr = '';
  reg.stderr!.on('data', (d: Buffer) => (regErr += d.toString()));
  const code = await new Promise<number | null>((resolve) => reg.once('exit', resolve));
  if (code !== 0) throw new Error(`runner register failed (${code}): ${regErr}`);
  const child = track(
    spawn(
      process.execPath,
      [
        ...nodeArgs(o.cpuProfDir, `runner-${o.name}`),
        BIN,
        'runner',
        'start',
        '--config',
        config,
        ...(o.isolation === undefined ? [] : ['--isolation', o.isolation]),
      ],
      {
        env: { ...process.env, LC_ALL: 'C' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    ),
  );
  // A host runner as root builds its step init in the background when it starts (gcc, seconds of CPU): wait
  // for it, or the first baseline round would share the machine with the compiler.
  const initReady =
    process.getuid?.() === 0 && o.isolation !== 'sandbox'
      ? waitForLine(child, 'stderr', /step init: /, `runner ${o.name}'s step init`)
      : undefined;
  await waitForLine(child, 'stderr', /started: server/, `runner ${o.name}`);
  await initReady;
  // Until its first acquire is held; listRunners does not say, so wait until it is seen, then a little more.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { runners } = await server.admin.listRunners();
    if (runners.some((r) => r.name === o.name && r.status === 'idle')) break;
    if (Date.now() > deadline) throw new Error(`runner ${o.name} never showed up as idle`);
    await sleep(50);
  }
  await sleep(200);
  return { name: o.name, pid: child.pid!, child, stop: () => stop(child) };
}

/**
 * Pauses Baton's processes (SIGSTOP) while a baseline runs, so the baseline gets the machine as it would
 * without Baton installed; `resume` (SIGCONT) before Baton's own round. Idle Baton processes are not free
 * (see docs/performance.md: idle runners re-poll without pause), so this matters.
 */
export function pause(pids: number[]): void {
  if (!pausing) return;
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
}

let pausing = true;

/**
 * `--profile`: nothing is paused. A process stopped under `--cpu-prof` charges the whole pause to the stack its
 * next sample finds (one W2 profile put 28 s of a runner's "busy" time in `http.Agent.addRequest`), and the
 * baselines' figures do not matter in a profile.
 */
export function neverPause(): void {
  pausing = false;
}
export function resume(pids: number[]): void {
  for (const pid of pids) process.kill(pid, 'SIGCONT');
}

/** CPU time (user + system) of a process, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15, in clock ticks (USER_HZ = 100).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

// ---- runs ----

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'runner_lost', 'skipped']);

/** Follows the run's event stream until it ends, then returns the run result. */
export async function waitForRun(client: BatonClient, runId: string): Promise<RunResult> {
  for await (const m of client.runStream(runId)) {
    if (m.kind === 'event' && m.event.type === 'run' && FINAL.has(m.event.status)) break;
  }
  const run = await client.getRun(runId);
  if (!FINAL.has(run.status)) throw new Error(`run ${runId} stream ended while ${run.status}`);
  return run;
}

/** Polls the run (cheap for the server compared with a stream of 1,000 tasks' events) until final. */
export async function pollRun(client: BatonClient, runId: string, everyMs = 250): Promise<RunResult> {
  for (;;) {
    const run = await client.getRun(runId);
    if (FINAL.has(run.status)) return run;
    await sleep(everyMs);
  }
}

export function assertSucceeded(run: RunResult, what: string): void {
  if (run.status !== 'succeeded') {
    const bad = Object.values(run.results).find((r) => r.status !== 'succeeded');
    throw new Error(
      `${what}: run ${run.id} ${run.status} (${bad?.name}: ${bad?.status} ${bad?.message ?? ''})`,
    );
  }
}

// ---- clocks, memory, statistics ----

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let anchorWallUs = 0;
let anchorHr = 0n;
/**
 * Re-anchors `wallUs()` on the edge of a `Date.now()` millisecond tick, so it reads CLOCK_REALTIME (the clock of
 * bash's $EPOCHREALTIME) to a few µs, with the monotonic hrtime in between. Costs ≤ 1 ms; call it before
 * each sample so clock slewing never accumulates.
 */
export function calibrateClock(): void {
  const start = Date.now();
  let now = start;
  let hr = process.hrtime.bigint();
  while (now === start) {
    hr = process.hrtime.bigint();
    now = Date.now();
  }
  anchorWallUs = now * 1000;
  anchorHr = hr;
}
calibrateClock();

/** Wall-clock time in µs since the epoch, comparable with `$EPOCHREALTIME` in a step. */
export function wallUs(): number {
  return anchorWallUs + Number(process.hrtime.bigint() - anchorHr) / 1000;
}

/** `echo "<marker> $EPOCHREALTIME"` output → µs since the epoch. */
export function parseStamp(text: string, marker: string): number {
  const m = text.match(new RegExp(`${marker} (\\d+)[.,](\\d{6})`));
  if (!m) throw new Error(`no ${marker} stamp in: ${text.slice(0, 300)}`);
  return Number(m[1]) * 1e6 + Number(m[2]);
}

/** Resident set size of a process in MiB, from /proc/<pid>/status. */
export function rssMiB(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
export const median = (xs: number[]) => percentile(xs, 50);
export const min = (xs: number[]) => Math.min(...xs);
export const max = (xs: number[]) => Math.max(...xs);
