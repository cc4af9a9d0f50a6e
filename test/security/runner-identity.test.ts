// Issue 12 finding 4: one identity per runner. Two runner configs registered in one directory each get a key
// pair (and spool) of their own: the second `register` leaves the first's key file byte for byte, and both
// runners then run secret-using tasks. A state dir that holds another runner's key is refused at `register`
// (nothing registered) and at `runner start`; a config of the old shared layout keeps working and says why
// it should move.
import { readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchRunner, startServerProcess, waitForRun, type ServerProcess } from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { stepVisibleDir, tempDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;
const SECRET = 'Runner-identity canary 7f3a9c!';

async function cli(args: string[]): Promise<{ code: number | null; output: string }> {
  const p = startTracked(`baton ${args.slice(0, 2).join(' ')}`, process.execPath, [BIN, ...args]);
  let output = '';
  p.child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  p.child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exit = await p.exited;
  return { code: exit.code, output };
}

function register(server: ServerProcess, config: string, label: string, extra: string[] = []) {
  return cli([
    'runner',
    'register',
    '--server',
    server.url,
    '--registration-token',
    server.registrationToken,
    '--name',
    label,
    '--labels',
    label,
    '--config',
    config,
    '--work-dir',
    join(resolve(config, '..'), `work-${label}`),
    ...extra,
  ]);
}

interface ConfigFile {
  runner_id: string;
  state_dir?: string;
}

function readConfig(path: string): ConfigFile {
  return JSON.parse(readFileSync(path, 'utf8')) as ConfigFile;
}

/** Where the runner of `config` keeps its key (the shared `.baton-state` when the config names none). */
function keyFile(config: string): string {
  const dir = resolve(config, '..');
  return join(resolve(dir, readConfig(config).state_dir ?? '.baton-state'), 'runner-key.json');
}

/** A run with one secret-using task per label; each prints the secret (masked) and its length. */
async function runSecretTasks(server: ServerProcess, labels: string[]) {
  const tasks = labels
    .map(
      (l) => `  use-${l}:
    runs_on: [${l}]
    env:
      TOKEN: \${{ secrets.IDENTITY_CANARY }}
    run: |
      echo "secret on ${l} is $TOKEN (\${#TOKEN} chars)"`,
    )
    .join('\n');
  const run = await server.client.submitRun(`tasks:\n${tasks}\n`);
  return waitForRun(server.client, run.id);
}

describe('one identity per runner', () => {
  it('two configs in one directory: the second register keeps the first key, and both runners open secrets', async () => {
    const server = await startServerProcess();
    await server.client.setSecret('IDENTITY_CANARY', SECRET);
    // Where a step could see it (under the test's /tmp it would be out of sight anyway: steps get a private /tmp).
    const dir = stepVisibleDir('baton-two-runners-');
    const a = join(dir, 'runner-a.json');
    const b = join(dir, 'runner-b.json');

    const regA = await register(server, a, 'alpha');
    expect(regA.code, regA.output).toBe(0);
    const keyA = keyFile(a);
    const keyABytes = readFileSync(keyA);

    const regB = await register(server, b, 'beta');
    expect(regB.code, regB.output).toBe(0);
    expect(readFileSync(keyA).equals(keyABytes)).toBe(true);
    expect(keyFile(b)).not.toBe(keyA);

    await launchRunner('alpha', a);
    await launchRunner('beta', b);
    const result = await runSecretTasks(server, ['alpha', 'beta']);
    for (const l of ['alpha', 'beta']) {
      const t = result.results[`use-${l}`]!;
      expect(t, JSON.stringify(t)).toMatchObject({ status: 'succeeded', runner: l });
      const log = await server.client.taskLog(result.id, `use-${l}`);
      expect(log).toContain(`(${SECRET.length} chars)`);
      expect(log).not.toContain(SECRET);
    }
    expect(result.status).toBe('succeeded');
    // A task of one runner reads nothing of the other's: not its config (its token), not any state dir.
    const peek = await server.client.submitRun(`
tasks:
  peek:
    runs_on: [alpha]
    run: |
      echo "config b: $(grep -c runner_id ${b} 2>/dev/null || true)"
      echo "state entries: $(ls -A ${join(dir, '.baton-state')} 2>/dev/null | wc -l)"
`);
    const peeked = await waitForRun(server.client, peek.id);
    expect(peeked.status).toBe('succeeded');
    const seen = await server.client.taskLog(peek.id, 'peek');
    expect(seen).toMatch(/config b: 0?\n/);
    expect(seen).toContain('state entries: 0\n');
    // Each key file records the runner it belongs to (runner start checks it).
    expect(JSON.parse(keyABytes.toString())).toMatchObject({ runnerId: readConfig(a).runner_id });
    expect(JSON.parse(readFileSync(keyFile(b), 'utf8'))).toMatchObject({ runnerId: readConfig(b).runner_id });
  });

  it("a state dir holding another runner's key: register refuses before registering, start refuses to run", async () => {
    const server = await startServerProcess();
    const dir = tempDir('baton-shared-state-');
    const a = join(dir, 'runner-a.json');
    expect((await register(server, a, 'alpha')).code).toBe(0);
    const keyA = keyFile(a);
    const keyABytes = readFileSync(keyA);
    const stateA = resolve(keyA, '..');

    const refused = await register(server, join(dir, 'runner-b.json'), 'beta', ['--state-dir', stateA]);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`${keyA} already exists and holds the key pair of runner`);
    expect(readFileSync(keyA).equals(keyABytes)).toBe(true);
    expect((await server.client.listRunners()).runners.map((r) => r.name)).toEqual(['alpha']);

    // A config edited to point at another runner's state dir is refused at start, naming both runners.
    const c = join(dir, 'runner-c.json');
    expect((await register(server, c, 'gamma')).code).toBe(0);
    const cfg = readConfig(c);
    writeFileSync(c, JSON.stringify({ ...cfg, state_dir: stateA }));
    const start = await cli(['runner', 'start', '--config', c]);
    expect(start.code).toBe(1);
    expect(start.output).toContain(`holds the key pair of runner ${readConfig(a).runner_id}`);
    expect(start.output).toContain(`not of this runner (${cfg.runner_id})`);
  });

  it('a config of the old shared layout keeps working with secrets, and warns how to move', async () => {
    const server = await startServerProcess();
    await server.client.setSecret('IDENTITY_CANARY', SECRET);
    const dir = tempDir('baton-legacy-state-');
    const a = join(dir, 'runner.json');
    expect((await register(server, a, 'legacy')).code).toBe(0);
    // Rewrite it as the old `register` left it: no state_dir, the key in `.baton-state/` without an owner.
    const cfg = readConfig(a);
    const key = JSON.parse(readFileSync(keyFile(a), 'utf8')) as Record<string, string>;
    const shared = join(dir, '.baton-state');
    mkdirSync(shared, { recursive: true });
    renameSync(keyFile(a), join(shared, 'runner-key.json'));
    writeFileSync(
      join(shared, 'runner-key.json'),
      JSON.stringify({ publicKey: key.publicKey, privateKey: key.privateKey }),
    );
    delete cfg.state_dir;
    writeFileSync(a, JSON.stringify(cfg));

    // Pretty lines: the message as written, not JSON-escaped.
    const runner = await launchRunner('legacy', a, ['--log-format', 'pretty']);
    expect(runner.output()).toMatch(/names no "state_dir".*register it again/);
    const result = await runSecretTasks(server, ['legacy']);
    expect(result.results['use-legacy']).toMatchObject({ status: 'succeeded' });
  });
});
