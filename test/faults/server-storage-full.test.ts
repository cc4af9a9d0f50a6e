// Fault: the disk under the server's database fills up while a task runs and prints 150,000 numbered lines,
// and is freed 20 s later (twice the lease TTL). While nothing can be written nothing can be claimed, so the
// runner must keep its task (and the step's dead-man switch must not fire) and spool its log; the server must
// not expire the lease for renewals its own storage refused. When space returns the lease is extended, the
// spooled log replayed, and the task succeeds on attempt 1 with every line stored once, in order.
// The data dir is a tmpfs in the server's private mount namespace; the filler is written and removed from
// inside it with nsenter, and the database is checked on a copy made from inside it (VACUUM INTO).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.ts';
import { generateToken } from '../../src/server/tokens.ts';
import { waitForOutput, type ServerProcess } from '../helpers/cluster.ts';
import {
  BIN,
  poll,
  registerRunner,
  reportTiming,
  startRunner,
  waitForRunEnd,
  waitForTask,
} from '../helpers/fault-cluster.ts';
import { expectInvariants, storedAttempts } from '../helpers/invariants.ts';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

const LINES = 150_000;
const HEARTBEAT_MS = 1_000;
const LEASE_TTL_MS = 10_000;
/** The length of the fault itself (a parameter of the scenario, not a wait for a state): twice the TTL. */
const OUTAGE_MS = 20_000;

/** Lines `line NNNNNN` the API serves for the task (the contiguous stored prefix). */
async function storedLines(server: ServerProcess, runId: string): Promise<number> {
  return (await server.client.taskLog(runId, 'count')).match(/^line /gm)?.length ?? 0;
}

async function startServerInTmpfs(): Promise<ServerProcess & { snapshot: () => string }> {
  const dataDir = tempDir('baton-server-tmpfs-');
  const adminToken = generateToken('user');
  const registrationToken = generateToken('registration');
  const server = [
    process.execPath,
    BIN,
    'server',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--heartbeat-interval',
    String(HEARTBEAT_MS),
    '--lease-ttl',
    String(LEASE_TTL_MS),
    '--ack-window',
    '3000',
    '--log-level',
    'warn',
  ]
    .map((a) => `'${a}'`)
    .join(' ');
  const proc = startTracked(
    'server in tmpfs',
    'unshare',
    [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      `mount -t tmpfs -o size=48m tmpfs '${dataDir}' && exec ${server}`,
    ],
    {
      env: {
        ...process.env,
        BATON_ADMIN_TOKEN: adminToken,
        BATON_RUNNER_REGISTRATION_TOKEN: registrationToken,
        BATON_SWEEP_INTERVAL_MS: '1000',
      },
    },
    true,
  );
  let text = '';
  proc.child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  proc.child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  const output = () => text;
  const url = (await waitForOutput(proc, output, /listening on (http:\/\/\S+)/, 'it listened'))[1]!;
  return {
    url,
    adminToken,
    registrationToken,
    dataDir,
    proc,
    output,
    client: createClient({ baseUrl: url, token: adminToken }),
    // The tmpfs exists only in the server's mount namespace (SQLite resolves /proc/<pid>/root away): copy the
    // database from inside it to a file the test can open.
    snapshot() {
      const dest = join(tempDir('baton-db-copy-'), 'baton.db');
      const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
      const copy = `const D = require(${JSON.stringify(sqlite)}); const db = new D(process.argv[1], { readonly: true }); db.prepare('VACUUM INTO ?').run(process.argv[2]); db.close();`;
      execFileSync(
        'nsenter',
        ['-t', String(proc.pid), '-m', '--', process.execPath, '-e', copy, join(dataDir, 'baton.db'), dest],
        { stdio: 'pipe' },
      );
      return dest;
    },
  };
}

// Both ways a runner talks to the server: HTTP requests, and the runner session (docs/adr/0023), whose frames
// must take the same way back after a full disk as the HTTP writes do.
describe.each([
  { protocol: 'HTTP', flag: '--no-session' },
  { protocol: 'a runner session', flag: '--session' },
])('disk full under the server database while a task runs, over $protocol', ({ flag }) => {
  it(
    'keeps the task on attempt 1 through a 20 s outage and stores all 150,000 lines once, in order',
    {
      timeout: 180_000,
    },
    async () => {
      const server = await startServerInTmpfs();
      const runner = await startRunner(await registerRunner(server, 'steady'), undefined, [flag]);
      // 150 bursts of 1,000 lines, a quarter second apart: the step is still printing well after the outage.
      const run = await server.client.submitRun(`
tasks:
  count:
    run: |
      for b in $(seq 0 149); do
        seq -f 'line %06.0f' $((b * 1000 + 1)) $((b * 1000 + 1000))
        sleep 0.25
      done
      echo done
`);
      const task = await waitForTask(server.client, run.id, 'count', (t) => t.status === 'running', 'to run');
      await poll(
        async () => (await storedLines(server, run.id)) >= 10_000,
        'ten thousand lines to be stored',
        30_000,
        250,
      );

      const inNamespace = (...cmd: string[]) =>
        execFileSync('nsenter', ['-t', String(server.proc.pid), '-m', '--', ...cmd], { stdio: 'pipe' });
      const filledAt = performance.now();
      try {
        inNamespace('dd', 'if=/dev/zero', `of=${server.dataDir}/filler`, 'bs=1M');
      } catch {
        // dd exits non-zero when the disk is full: that is the point.
      }
      // The runner's renewals and log chunks are refused with 507 storage_full meanwhile.
      await poll(() => /storage full/.test(server.output()), 'the server to refuse a write', 10_000);
      await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (performance.now() - filledAt))));
      const storedDuringOutage = await storedLines(server, run.id);
      inNamespace('rm', '-f', `${server.dataDir}/filler`);
      const freedAt = performance.now();

      const result = await waitForRunEnd(server.client, run.id, 120_000);
      expect(result.results['count']).toMatchObject({ status: 'succeeded', attempt: 1, runner: 'steady' });
      expect(result.status).toBe('succeeded');
      const database = server.snapshot();
      expect(storedAttempts(database, task.id).map((a) => a.state)).toEqual(['finished']);
      // The step was still printing when the outage ended, so the runner spooled and replayed past it.
      expect(storedDuringOutage).toBeLessThan(LINES);

      const log = await server.client.taskLog(run.id, 'count');
      const numbered = log.split('\n').filter((l) => l.startsWith('line '));
      expect(numbered.length).toBe(LINES);
      expect(numbered).toEqual(
        Array.from({ length: LINES }, (_, k) => `line ${String(k + 1).padStart(6, '0')}`),
      );
      expect(log).toContain('done\n');
      expect(runner.output()).toMatch(/keeping the task running and spooling its log/);
      expect(runner.output()).not.toMatch(/lease lost/);
      expect(runner.proc.child.exitCode).toBeNull();
      await expectInvariants({ database, client: server.client, serverOutput: server.output() });
      reportTiming('server storage full for 20 s', {
        outage: freedAt - filledAt,
        'recover (task succeeded)': performance.now() - freedAt,
      });
    },
  );
});
