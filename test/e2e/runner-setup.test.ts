// Issue 17: `baton runner setup` in a real pseudo-terminal (tmux), against a real server process. A full
// setup writes a 0600 config and registers a runner that then runs a task; Ctrl-C leaves nothing behind; an
// existing runner token in a token_file is checked (a directory is refused); without a terminal it exits 2
// naming the flags to use instead.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchRunner, startServerProcess, waitForRun } from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';
import { inTerminal, type Terminal } from '../helpers/terminal.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

/** `baton runner setup` in a terminal of its own, killed when the test ends. */
function setupInTmux(config: string): Terminal {
  const env = { ...process.env };
  delete env.BATON_SERVER;
  return inTerminal(
    `'${process.execPath}' '${BIN}' runner setup --config '${config}'; echo "SETUP-EXIT=$?"; sleep 600`,
    env,
  );
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe('baton runner setup in a terminal', () => {
  it('asks everything, writes a 0600 config in a new 0700 dir, registers, and the runner runs a task', async () => {
    const server = await startServerProcess();
    const dir = join(tempDir(), 'etc-baton');
    const config = join(dir, 'runner.json');
    const t = setupInTmux(config);
    await t.waitFor(/Server URL/, 'the server question');
    t.type(server.url);
    t.keys('Enter');
    await t.waitFor(/already have a runner token/, 'the token question');
    t.keys('Enter'); // No (the default)
    await t.waitFor(/Registration token/, 'the registration token question');
    t.type(`  ${server.registrationToken} `);
    t.keys('Enter');
    await t.waitFor(/Runner name/, 'the name question');
    t.keys('Enter');
    await t.waitFor(/Labels/, 'the labels question');
    t.type('tmux-a, tmux-b');
    t.keys('Enter');
    await t.waitFor(/max_parallel_tasks/, 'the slots question');
    t.keys('BSpace');
    t.type('2');
    t.keys('Enter');
    await t.waitFor(/Isolation/, 'the isolation question');
    t.keys('Enter'); // host
    await t.waitFor(/Work dir/, 'the work dir question');
    t.keys('Enter');
    const screen = await t.waitFor(/SETUP-EXIT=\d+/, 'setup to end');
    expect(screen).toContain('SETUP-EXIT=0');
    expect(screen).not.toContain(server.registrationToken);

    expect(mode(config)).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    const written = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    expect(written).toMatchObject({
      server: server.url,
      labels: ['tmux-a', 'tmux-b'],
      max_parallel_tasks: 2,
      isolation: 'host',
      work_dir: '_work',
    });
    const { runners } = await server.client.listRunners();
    expect(runners.map((r) => [r.id, r.labels, r.capacity])).toEqual([
      [written.runner_id, ['tmux-a', 'tmux-b'], 2],
    ]);
    await launchRunner('from-setup', config);
    const run = await server.client.submitRun('tasks:\n  t:\n    runs_on: [tmux-b]\n    run: echo set up\n');
    expect((await waitForRun(server.client, run.id)).status).toBe('succeeded');
  });

  it('Ctrl-C leaves nothing behind: no config, no runner registered', async () => {
    const server = await startServerProcess();
    const dir = join(tempDir(), 'cancelled');
    const config = join(dir, 'runner.json');
    const t = setupInTmux(config);
    await t.waitFor(/Server URL/, 'the server question');
    t.type(server.url);
    t.keys('Enter');
    await t.waitFor(/already have a runner token/, 'the token question');
    t.keys('Enter');
    await t.waitFor(/Registration token/, 'the registration token question');
    t.type(server.registrationToken);
    t.keys('C-c');
    const screen = await t.waitFor(/SETUP-EXIT=\d+/, 'setup to end');
    expect(screen).toContain('SETUP-EXIT=1');
    expect(screen).toContain('setup cancelled; nothing was written');
    expect(existsSync(config)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect((await server.client.listRunners()).runners).toEqual([]);
  });

  it('an existing runner token in a token_file: a directory is refused, a file is checked with the server', async () => {
    const server = await startServerProcess();
    const reg = await server.client.register(server.registrationToken, {
      name: 'pre-made',
      labels: [],
      capacity: 1,
      version: 'test',
    });
    const dir = tempDir();
    const config = join(dir, 'runner.json');
    mkdirSync(join(dir, 'tokdir'));
    writeFileSync(join(dir, 'runner.token'), reg.token + '\n', { mode: 0o600 });
    const t = setupInTmux(config);
    await t.waitFor(/Server URL/, 'the server question');
    t.type(server.url);
    t.keys('Enter');
    await t.waitFor(/already have a runner token/, 'the token question');
    t.keys('Left'); // Yes
    t.keys('Enter');
    await t.waitFor(/Where is it/, 'where the token is');
    t.keys('Down');
    t.keys('Enter');
    await t.waitFor(/Path of the token file/, 'the token file question');
    t.type('tokdir');
    t.keys('Enter');
    await t.waitFor(/is a directory, not a file holding the token/, 'the directory refused');
    for (let i = 0; i < 6; i++) t.keys('BSpace');
    t.type('runner.token');
    t.keys('Enter');
    await t.waitFor(/Runner name/, 'the name question');
    t.keys('Enter');
    await t.waitFor(/Labels/, 'the labels question');
    t.keys('Enter');
    await t.waitFor(/max_parallel_tasks/, 'the slots question');
    t.keys('Enter');
    await t.waitFor(/Isolation/, 'the isolation question');
    t.keys('Enter');
    await t.waitFor(/Work dir/, 'the work dir question');
    t.keys('Enter');
    const screen = await t.waitFor(/SETUP-EXIT=\d+/, 'setup to end');
    expect(screen).toContain('SETUP-EXIT=0');
    const written = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    expect(written).toMatchObject({ runner_id: reg.runnerId, name: 'pre-made', token_file: 'runner.token' });
    expect(written.token).toBeUndefined();
    expect(mode(config)).toBe(0o600);
    await launchRunner('pre-made', config);
  });

  it('without a terminal: exit 2, naming the flags to use instead', async () => {
    const p = startTracked('setup no tty', process.execPath, [
      BIN,
      'runner',
      'setup',
      '--config',
      join(tempDir(), 'r.json'),
    ]);
    let out = '';
    p.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    expect((await p.exited).code).toBe(2);
    expect(out).toContain('stdin is not one');
    expect(out).toContain('--stdin-registration-token');
    expect(out).toContain('--registration-token-file');
  });
});
