// Processes for fault tests: a server that can be killed and started again on the same data dir and port,
// runners registered against any URL (a fault proxy's) and started through any wrapper (a mount namespace),
// and small timing helpers for the detect/recover figures each fault test prints.
import { join } from 'node:path';
import type { BatonClient } from '../../src/client/index.ts';
import type { RunResult } from '../../src/protocol/api.ts';
import { startServerProcess, waitForOutput, type RunnerProcess, type ServerProcess } from './cluster.ts';
import { startTracked, type TrackedChild } from './processes.ts';
import { tempDir } from './temp.ts';

export const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

export interface FaultServerOptions {
  heartbeatMs?: number;
  leaseTtlMs?: number;
  ackWindowMs?: number;
  sweepMs?: number;
  /** 0 (default) for an ephemeral port; the old port to come back where runners expect the server. */
  port?: number;
  dataDir?: string;
  adminToken?: string;
  registrationToken?: string;
}

export interface FaultServer extends ServerProcess {
  port: number;
  database: string;
  options: Required<Omit<FaultServerOptions, 'dataDir' | 'adminToken' | 'registrationToken' | 'port'>>;
}

function collect(p: TrackedChild): () => string {
  let text = '';
  p.child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  p.child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return () => text;
}

/** `baton server` with the short test timings; `managed`: the global afterEach stops it. */
export async function startFaultServer(o: FaultServerOptions = {}): Promise<FaultServer> {
  const options = {
    heartbeatMs: o.heartbeatMs ?? 500,
    leaseTtlMs: o.leaseTtlMs ?? 4_000,
    ackWindowMs: o.ackWindowMs ?? 2_000,
    sweepMs: o.sweepMs ?? 1_000,
  };
  const server = await startServerProcess({
    ...o,
    ...options,
    dataDir: o.dataDir ?? tempDir('baton-fault-server-'),
  });
  return {
    ...server,
    port: Number(new URL(server.url).port),
    database: join(server.dataDir, 'baton.db'),
    options,
  };
}

/** The same server again: same data dir, tokens, timings and port (the first one must be gone). */
export function restartFaultServer(old: FaultServer): Promise<FaultServer> {
  return startFaultServer({
    ...old.options,
    port: old.port,
    dataDir: old.dataDir,
    adminToken: old.adminToken,
    registrationToken: old.registrationToken,
  });
}

export interface RegisteredRunner {
  name: string;
  dir: string;
  config: string;
  workDir: string;
}

/** `baton runner register` against `serverUrl` (a proxy's URL works), with an absolute work dir. */
export async function registerRunner(
  server: ServerProcess,
  name: string,
  o: { serverUrl?: string; workDir?: string; labels?: string[] } = {},
): Promise<RegisteredRunner> {
  const dir = tempDir(`baton-fault-runner-${name}-`);
  const config = join(dir, 'runner.json');
  const workDir = o.workDir ?? join(dir, 'work');
  const reg = startTracked(`register ${name}`, process.execPath, [
    BIN,
    'runner',
    'register',
    '--server',
    o.serverUrl ?? server.url,
    '--registration-token',
    server.registrationToken,
    '--name',
    name,
    '--labels',
    (o.labels ?? []).join(','),
    '--config',
    config,
    '--work-dir',
    workDir,
  ]);
  const out = collect(reg);
  const exit = await reg.exited;
  if (exit.code !== 0) throw new Error(`runner register failed (${exit.code}): ${out()}`);
  return { name, dir, config, workDir };
}

/**
 * `startRunner`'s arguments for a test that reads the runner's HTTP exchanges through its proxy: the runner keeps
 * to HTTP requests (the protocol older runners and tools speak) instead of the runner session, the default
 * (docs/adr/0026). Each such test names the one that covers its fault over the session.
 */
export const HTTP_ONLY: readonly string[] = ['--no-session'];

/**
 * `baton runner start` (with `extraArgs`, e.g. `--session`), optionally through a wrapper: `wrap(argv)` returns
 * the command that execs argv (so the tracked pid stays the runner's own).
 */
export async function startRunner(
  r: RegisteredRunner,
  wrap?: (argv: string[]) => { cmd: string; args: string[] },
  extraArgs: readonly string[] = [],
): Promise<RunnerProcess> {
  const argv = [process.execPath, BIN, 'runner', 'start', '--config', r.config, ...extraArgs];
  const { cmd, args } = wrap ? wrap(argv) : { cmd: argv[0]!, args: argv.slice(1) };
  const proc = startTracked(`runner ${r.name}`, cmd, args, {}, true);
  const output = collect(proc);
  await waitForOutput(proc, output, /runner '.*' started/, 'it started');
  return { name: r.name, config: r.config, proc, output };
}

/** Polls `check` every `everyMs` until it returns a value (for state no event announces, e.g. across a restart). */
export async function poll<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      // A server that is restarting refuses connections for a moment; keep trying until the deadline.
      lastError = err;
    }
    if (performance.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves with the task's result once `pred` holds for it (polling the API). */
export function waitForTask(
  client: BatonClient,
  runId: string,
  task: string,
  pred: (t: RunResult['results'][string]) => boolean,
  what: string,
  timeoutMs = 30_000,
) {
  return poll(
    async () => {
      const t = (await client.getRun(runId)).results[task];
      return t && pred(t) ? t : undefined;
    },
    `task '${task}' ${what}`,
    timeoutMs,
    100,
  );
}

/** Polls the run until it is final (works across a server restart, unlike an event stream). */
export function waitForRunEnd(client: BatonClient, runId: string, timeoutMs = 60_000): Promise<RunResult> {
  return poll(
    async () => {
      const r = await client.getRun(runId);
      return ['succeeded', 'failed', 'cancelled', 'skipped', 'timed_out', 'runner_lost'].includes(r.status)
        ? r
        : undefined;
    },
    `run ${runId} to finish`,
    timeoutMs,
    100,
  );
}

/** A marker unique to this test, for `sleep <marker>` processes found later in /proc. */
export function uniqueMarker(): string {
  return `600.${process.pid}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
}

/** One line the lead collects for the closing note. */
export function reportTiming(fault: string, figures: Record<string, number>): void {
  const parts = Object.entries(figures).map(([k, v]) => `${k} ${Math.round(v)} ms`);
  console.log(`[fault-timing] ${fault}: ${parts.join(', ')}`);
}

/** Waits for a tracked process to exit, failing after `timeoutMs`. */
export async function exitWithin(p: TrackedChild, timeoutMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${p.label} did not exit within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
