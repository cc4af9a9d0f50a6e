// Issue 15, the part left: a `baton runner serve` registered with a Baton server runs Baton's own tasks —
// secrets sealed to its key (each task sees only the secret it names, masked), outputs, expressions and
// confidential exports between push runners, secret rotation through `/internal/reset`, dispatch right after a
// server restart, and a runner at capacity (429) that gets the task again later without an attempt spent.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/cluster.ts';
import { BIN, poll, waitForRunEnd, waitForTask } from '../helpers/fault-cluster.ts';
import { stopTracked } from '../helpers/processes.ts';
import { stepVisibleDir, tempDir } from '../helpers/temp.ts';
import { startServeRunner } from '../helpers/automn-runner.ts';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function admin(server: ServerProcess, path: string, body?: unknown): Promise<Response> {
  return fetch(server.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${server.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

interface Host {
  id: string;
  isHealthy: boolean;
  hasKey: boolean;
  canReceiveSecrets: boolean;
}

async function hosts(server: ServerProcess): Promise<Host[]> {
  return ((await (await admin(server, '/api/settings/runner-hosts')).json()) as { runnerHosts: Host[] })
    .runnerHosts;
}

async function createHost(server: ServerProcess, id: string, secret: string) {
  const res = await admin(server, '/api/settings/runner-hosts', { id, name: `push-${id}`, secret });
  expect(res.status).toBe(201);
}

async function serve(server: ServerProcess, id: string, env: Record<string, string>) {
  const port = await freePort();
  return startServeRunner({
    AUTOMN_HOST_URL: server.url,
    AUTOMN_RUNNER_ID: id,
    AUTOMN_RUNNER_PORT: String(port),
    AUTOMN_RUNNER_PUBLIC_URL: `http://127.0.0.1:${port}`,
    AUTOMN_RUNNER_HEARTBEAT_MS: '1000',
    ...env,
  });
}

async function healthy(server: ServerProcess, n: number) {
  await poll(
    async () => (await hosts(server)).filter((h) => h.isHealthy && h.hasKey).length === n,
    `${n} keyed push runner(s) to register`,
  );
}

/** Every file of the server's database (the main file and its WAL), as one buffer. */
function databaseBytes(dataDir: string): Buffer {
  return Buffer.concat(
    readdirSync(dataDir)
      .filter((f) => f.startsWith('baton.db'))
      .map((f) => readFileSync(join(dataDir, f))),
  );
}

describe('push runners run Baton tasks (baton runner serve registered with a Baton server)', () => {
  it('a secret reaches only the task that names it, masked; never in the database or the server log', async () => {
    const server = await startServerProcess();
    const alpha = `alpha-secret-${process.pid}-value`;
    const beta = `beta-secret-${process.pid}-value`;
    await server.client.setSecret('ALPHA_TOKEN', alpha);
    await server.client.setSecret('BETA_TOKEN', beta);
    await createHost(server, 'pa', `push-secret-a-${process.pid}-x`);
    await createHost(server, 'pb', `push-secret-b-${process.pid}-x`);
    await serve(server, 'pa', { AUTOMN_RUNNER_SECRET: `push-secret-a-${process.pid}-x` });
    await serve(server, 'pb', { AUTOMN_RUNNER_SECRET: `push-secret-b-${process.pid}-x` });
    await healthy(server, 2);
    expect((await hosts(server)).every((h) => h.canReceiveSecrets)).toBe(true);
    const run = await server.client.submitRun(`
tasks:
  ta:
    runs_on: [push-pa]
    env: { TOKEN_A: '\${{ secrets.ALPHA_TOKEN }}' }
    run: |
      echo "a has $TOKEN_A"
      if [ -n "\${TOKEN_B+set}" ]; then echo "TOKEN_B is set"; exit 9; fi
      if env | grep -q 'beta-secret-'; then echo "beta is in the environment"; exit 8; fi
  tb:
    runs_on: [push-pb]
    env: { TOKEN_B: '\${{ secrets.BETA_TOKEN }}' }
    run: |
      echo "b has $TOKEN_B"
      if [ -n "\${TOKEN_A+set}" ]; then echo "TOKEN_A is set"; exit 9; fi
      if env | grep -q 'alpha-secret-'; then echo "alpha is in the environment"; exit 8; fi
`);
    const end = await waitForRunEnd(server.client, run.id);
    const logA = await server.client.taskLog(run.id, 'ta');
    const logB = await server.client.taskLog(run.id, 'tb');
    expect(end.status, logA + logB).toBe('succeeded');
    expect(end.results['ta']!.runner).toBe('push:pa');
    expect(end.results['tb']!.runner).toBe('push:pb');
    expect(logA).toContain('a has ***');
    expect(logB).toContain('b has ***');
    for (const text of [logA, logB, server.output(), JSON.stringify(end)]) {
      expect(text).not.toContain(alpha);
      expect(text).not.toContain(beta);
    }
    const db = databaseBytes(server.dataDir);
    expect(db.length).toBeGreaterThan(0);
    expect(db.includes(alpha)).toBe(false);
    expect(db.includes(beta)).toBe(false);
    // Nor the runners' own secrets: they are kept encrypted with the master key.
    expect(db.includes(`push-secret-a-${process.pid}-x`)).toBe(false);
  });

  it('outputs, an expression and a confidential export pass between tasks on two push runners', async () => {
    const server = await startServerProcess();
    await createHost(server, 'pa', `push-secret-a-${process.pid}-y`);
    await createHost(server, 'pb', `push-secret-b-${process.pid}-y`);
    await serve(server, 'pa', { AUTOMN_RUNNER_SECRET: `push-secret-a-${process.pid}-y` });
    await serve(server, 'pb', { AUTOMN_RUNNER_SECRET: `push-secret-b-${process.pid}-y` });
    await healthy(server, 2);
    const token = `tok-confidential-${process.pid}-${Date.now()}`;
    const run = await server.client.submitRun(`
tasks:
  make:
    runs_on: [push-pa]
    exports:
      - version
      - { name: token, confidential: true }
    run: |
      echo "version=1.2.3" >> "$BATON_OUTPUT"
      echo "token=${token}" >> "$BATON_OUTPUT"
      echo "made ${token}"
  use:
    runs_on: [push-pb]
    depends_on: [make]
    imports: [{ from: make, variable: token, as: TOKEN }]
    steps:
      - name: check
        run: |
          echo "using \${{ tasks.make.outputs.version }}"
          echo "token is $TOKEN"
          test "$TOKEN" = "${token}"
      - name: skipped
        if: \${{ tasks.make.outputs.version == '9.9.9' }}
        run: exit 1
`);
    const end = await waitForRunEnd(server.client, run.id);
    const useLog = await server.client.taskLog(run.id, 'use');
    expect(end.status, useLog).toBe('succeeded');
    expect(end.results['make']!.outputs).toEqual({ version: '1.2.3', token: '***' });
    expect(useLog).toContain('using 1.2.3');
    expect(useLog).toContain('token is ***');
    expect(useLog).not.toContain(token);
    expect(await server.client.taskLog(run.id, 'make')).toContain('made ***');
  });

  it('rotation: the task waits queued until /internal/reset gives the runner the new secret, then runs there', async () => {
    const server = await startServerProcess();
    const s1 = `push-secret-first-${process.pid}`;
    const resetToken = `reset-token-${process.pid}-abc`;
    await createHost(server, 'pr', s1);
    const runner = await serve(server, 'pr', { AUTOMN_RUNNER_RESET_TOKEN: resetToken });
    const reset = (secret: string) =>
      fetch(`${runner.url}/internal/reset`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: resetToken, secret }),
      });
    expect((await reset(s1)).status).toBe(200);
    await healthy(server, 1);

    const cli = await promisify(execFile)(
      process.execPath,
      [BIN, 'push-runners', 'rotate-secret', 'pr', '--json'],
      { env: { ...process.env, BATON_SERVER: server.url, BATON_TOKEN: server.adminToken } },
    );
    const s2 = (JSON.parse(cli.stdout) as { secret: string }).secret;
    expect(s2.length).toBeGreaterThanOrEqual(12);
    const run = await server.client.submitRun(`
tasks:
  after-rotation: { runs_on: [push-pr], run: 'echo ran after rotation' }
`);
    // The runner's next heartbeat (with the old secret) is refused; the task is still queued, not lost.
    await poll(async () => {
      const st = (await (await fetch(`${runner.url}/status`)).json()) as {
        runner: { lastRegistrationError: string | null };
      };
      return st.runner.lastRegistrationError === 'Invalid runner secret';
    }, 'a heartbeat with the old secret to be refused');
    expect((await server.client.getRun(run.id)).results['after-rotation']).toMatchObject({
      status: 'queued',
      attempt: 0,
    });
    expect((await reset(s2)).status).toBe(200);
    const end = await waitForRunEnd(server.client, run.id);
    expect(end.results['after-rotation']).toMatchObject({
      status: 'succeeded',
      attempt: 1,
      runner: 'push:pr',
    });
    expect(await server.client.taskLog(run.id, 'after-rotation')).toContain('ran after rotation');
    const old = await fetch(`${runner.url}/api/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-automn-runner-secret': s1 },
      body: JSON.stringify({ script: { language: 'sh', code: 'echo no' } }),
    });
    expect(old.status).toBe(401);
  });

  it('a registration whose batonPublicKey is not a public key is refused naming it, and nothing is stored', async () => {
    const server = await startServerProcess();
    const secret = `push-secret-badkey-${process.pid}`;
    await createHost(server, 'pk', secret);
    const res = await fetch(`${server.url}/api/settings/runner-hosts/pk/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret, endpoint: 'http://127.0.0.1:9/api/run', batonPublicKey: 'not-a-key' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe(
      'batonPublicKey "not-a-key" is not an X25519 public key (32 bytes, base64)',
    );
    const [host] = await hosts(server);
    expect(host).toMatchObject({ id: 'pk', hasKey: false, isHealthy: false });
  });

  it('after a server restart a task dispatches to an already-registered push runner before its next heartbeat', async () => {
    const dataDir = tempDir('baton-server-');
    const port = await freePort();
    const first = await startServerProcess({ dataDir, port });
    await createHost(first, 'ps', `push-secret-restart-${process.pid}`);
    // One registration at start, then none for an hour.
    await serve(first, 'ps', {
      AUTOMN_RUNNER_SECRET: `push-secret-restart-${process.pid}`,
      AUTOMN_RUNNER_HEARTBEAT_MS: '3600000',
    });
    await healthy(first, 1);
    await stopTracked(first.proc);
    const second = await startServerProcess({ dataDir, port, adminToken: first.adminToken });
    const run = await second.client.submitRun(`
tasks:
  after-restart: { runs_on: [push-ps], run: 'echo dispatched after the restart' }
`);
    const end = await waitForRunEnd(second.client, run.id);
    expect(end.results['after-restart']).toMatchObject({ status: 'succeeded', runner: 'push:ps' });
    expect(await second.client.taskLog(run.id, 'after-restart')).toContain('dispatched after the restart');
  });

  it('a runner at capacity answers 429: the task goes back to the queue, no attempt spent, and runs once the slot frees', async () => {
    const server = await startServerProcess();
    const secret = `push-secret-busy-${process.pid}`;
    await createHost(server, 'pc', secret);
    const runner = await serve(server, 'pc', {
      AUTOMN_RUNNER_SECRET: secret,
      AUTOMN_RUNNER_LOCAL_MAX_CONCURRENCY: '1',
    });
    await healthy(server, 1);
    const gate = join(stepVisibleDir(), 'slot-free');
    // A direct run takes the runner's only slot: its headers arrive once it runs.
    const occupying = await fetch(`${runner.url}/api/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-automn-runner-secret': secret },
      body: JSON.stringify({
        script: { language: 'sh', code: `while [ ! -e ${gate} ]; do sleep 0.1; done; echo freed` },
      }),
    });
    expect(occupying.status).toBe(200);
    const run = await server.client.submitRun(`
tasks:
  waits: { runs_on: [push-pc], run: 'echo ran once the slot was free' }
`);
    await poll(() => /at capacity \(429\)/.test(server.output()), 'the dispatcher to be answered 429');
    const waiting = await waitForTask(server.client, run.id, 'waits', (t) => t.status === 'queued', 'queued');
    expect(waiting.attempt).toBe(0);
    writeFileSync(gate, '');
    expect(await occupying.text()).toContain('freed');
    const end = await waitForRunEnd(server.client, run.id);
    expect(end.results['waits']).toMatchObject({ status: 'succeeded', attempt: 1, runner: 'push:pc' });
    expect(JSON.stringify(end)).not.toContain('runner_lost');
    expect(existsSync(gate)).toBe(true);
  });
});
