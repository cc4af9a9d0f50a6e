// Real processes for multi-process tests: a `baton server` on an ephemeral loopback port and `baton runner`
// agents, each started through the CLI exactly as a user would, tracked by PID and stopped at test end.
import { join } from 'node:path';
import { createClient, type BatonClient } from '../../src/client/index.ts';
import { generateToken } from '../../src/server/tokens.ts';
import { startTracked, type TrackedChild } from './processes.ts';
import { tempDir } from './temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

export interface ServerProcess {
  url: string;
  adminToken: string;
  registrationToken: string;
  dataDir: string;
  proc: TrackedChild;
  client: BatonClient;
  output: () => string;
}

export interface ServerProcessOptions {
  heartbeatMs?: number;
  leaseTtlMs?: number;
  ackWindowMs?: number;
  /** Reaper interval (BATON_SWEEP_INTERVAL_MS); the server's default when absent. */
  sweepMs?: number;
  dataDir?: string;
  /** 0 (default) for an ephemeral port; a fixed one to come back where runners expect the server. */
  port?: number;
  adminToken?: string;
  registrationToken?: string;
  /** More `baton server` flags, after the defaults (a repeated flag's last value wins). */
  extraArgs?: string[];
}

function collect(p: TrackedChild): () => string {
  let text = '';
  p.child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  p.child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return () => text;
}

/** Resolves with the first match of `re` in the process output, or rejects when it exits first. */
export function waitForOutput(
  p: TrackedChild,
  output: () => string,
  re: RegExp,
  what: string,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = re.exec(output());
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`${p.label} exited before ${what}; output:\n${output()}`));
    };
    const cleanup = () => {
      p.child.stdout?.off('data', check);
      p.child.stderr?.off('data', check);
      p.child.off('exit', onExit);
    };
    p.child.stdout?.on('data', check);
    p.child.stderr?.on('data', check);
    p.child.once('exit', onExit);
    check();
  });
}

export async function startServerProcess(o: ServerProcessOptions = {}): Promise<ServerProcess> {
  const dataDir = o.dataDir ?? tempDir('baton-server-');
  const adminToken = o.adminToken ?? generateToken('user');
  const registrationToken = o.registrationToken ?? generateToken('registration');
  const args = [
    BIN,
    'server',
    '--port',
    String(o.port ?? 0),
    '--data-dir',
    dataDir,
    '--heartbeat-interval',
    String(o.heartbeatMs ?? 500),
    '--lease-ttl',
    String(o.leaseTtlMs ?? 4_000),
    '--ack-window',
    String(o.ackWindowMs ?? 3_000),
    '--log-level',
    'warn',
    ...(o.extraArgs ?? []),
  ];
  const proc = startTracked(
    'server',
    process.execPath,
    args,
    {
      env: {
        ...process.env,
        BATON_ADMIN_TOKEN: adminToken,
        BATON_RUNNER_REGISTRATION_TOKEN: registrationToken,
        ...(o.sweepMs !== undefined ? { BATON_SWEEP_INTERVAL_MS: String(o.sweepMs) } : {}),
      },
    },
    true,
  );
  const output = collect(proc);
  const m = await waitForOutput(proc, output, /listening on (http:\/\/\S+)/, 'it listened');
  const url = m[1]!;
  return {
    url,
    adminToken,
    registrationToken,
    dataDir,
    proc,
    output,
    client: createClient({ baseUrl: url, token: adminToken }),
  };
}

export interface RunnerProcess {
  name: string;
  config: string;
  proc: TrackedChild;
  output: () => string;
}

/** `baton runner register` then `baton runner start`, in a directory of the runner's own. */
export async function startRunnerProcess(
  server: ServerProcess,
  name: string,
  o: {
    labels?: string[];
    parallel?: number;
    dir?: string;
    extraArgs?: string[];
    /** Added to the runner process's environment (what only this runner knows, e.g. VAULT_ADDR). */
    env?: Record<string, string>;
  } = {},
): Promise<RunnerProcess> {
  const dir = o.dir ?? tempDir(`baton-runner-${name}-`);
  const config = join(dir, 'runner.json');
  const reg = startTracked(`register ${name}`, process.execPath, [
    BIN,
    'runner',
    'register',
    '--server',
    server.url,
    '--registration-token',
    server.registrationToken,
    '--name',
    name,
    '--labels',
    (o.labels ?? []).join(','),
    '--config',
    config,
    '--max-parallel-tasks',
    String(o.parallel ?? 1),
  ]);
  const regOut = collect(reg);
  const exit = await reg.exited;
  if (exit.code !== 0) throw new Error(`runner register failed (${exit.code}): ${regOut()}`);
  return launchRunner(name, config, o.extraArgs ?? [], o.env);
}

export async function launchRunner(
  name: string,
  config: string,
  extraArgs: string[] = [],
  env?: Record<string, string>,
): Promise<RunnerProcess> {
  const proc = startTracked(
    `runner ${name}`,
    process.execPath,
    [BIN, 'runner', 'start', '--config', config, ...extraArgs],
    env === undefined ? {} : { env: { ...process.env, ...env } },
    true,
  );
  const output = collect(proc);
  await waitForOutput(proc, output, /runner '.*' started/, 'it started');
  return { name, config, proc, output };
}

/** Polls `check` (cheap, local) until it returns a value; for conditions no event announces. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits for a run to end by following its event stream (no polling). */
export async function waitForRun(client: BatonClient, runId: string) {
  for await (const m of client.runStream(runId)) void m;
  return client.getRun(runId);
}
