// Issue 17: registering runners as Semaphore/Forge users do, without its bugs. The registration token comes
// from stdin or a file (trimmed; empty refused naming the source, nothing written); the runner token can go to
// a `token_file` of mode 0600; re-registering overwrites only this config's token; `unregister` uses the
// runner's own token and treats a runner the server no longer knows as done.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  launchRunner,
  startServerProcess,
  waitFor,
  waitForRun,
  type ServerProcess,
} from '../helpers/cluster.ts';
import { startReceiver, verify } from '../helpers/webhook-receiver.ts';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

async function cli(args: string[], stdin?: string): Promise<{ code: number | null; output: string }> {
  const env = { ...process.env };
  delete env.BATON_RUNNER_REGISTRATION_TOKEN;
  delete env.BATON_SERVER;
  const p = startTracked(`baton ${args.slice(0, 2).join(' ')}`, process.execPath, [BIN, ...args], {
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env,
  });
  if (stdin !== undefined) p.child.stdin?.end(stdin);
  let output = '';
  p.child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  p.child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exit = await p.exited;
  return { code: exit.code, output };
}

interface ConfigFile {
  runner_id: string;
  token?: string;
  token_file?: string;
  labels?: string[];
  max_parallel_tasks?: number;
  state_dir?: string;
}
const readConfig = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as ConfigFile;
const mode = (path: string) => statSync(path).mode & 0o777;

function register(server: ServerProcess, config: string, extra: string[], stdin?: string) {
  return cli(['runner', 'register', '--server', server.url, '--config', config, ...extra], stdin);
}

describe('runner register: where the registration token comes from', () => {
  it('reads it from stdin, trimmed, and refuses an empty one naming stdin, writing nothing', async () => {
    const server = await startServerProcess();
    const dir = tempDir();
    const config = join(dir, 'runner.json');

    const empty = await register(server, config, ['--stdin-registration-token'], '   \n');
    expect(empty.code, empty.output).toBe(2);
    expect(empty.output).toContain('the registration token from stdin is empty');
    expect(existsSync(config)).toBe(false);

    const ok = await register(
      server,
      config,
      ['--stdin-registration-token', '--name', 'from-stdin', '--labels', 'a,b'],
      `  ${server.registrationToken}  \nignored second line\n`,
    );
    expect(ok.code, ok.output).toBe(0);
    expect(mode(config)).toBe(0o600);
    const written = readConfig(config);
    expect(written.labels).toEqual(['a', 'b']);
    const runners = (await server.client.listRunners()).runners;
    expect(runners.map((r) => r.name)).toContain('from-stdin');
  });

  it('reads it from --registration-token-file, and refuses an empty file or a directory by name', async () => {
    const server = await startServerProcess();
    const dir = tempDir();
    const config = join(dir, 'runner.json');
    const emptyFile = join(dir, 'empty-token');
    writeFileSync(emptyFile, '\n\n');
    const empty = await register(server, config, ['--registration-token-file', emptyFile]);
    expect(empty.code, empty.output).toBe(2);
    expect(empty.output).toContain(
      `the registration token from --registration-token-file ${emptyFile} is empty`,
    );
    const asDir = join(dir, 'a-dir');
    mkdirSync(asDir);
    const directory = await register(server, config, ['--registration-token-file', asDir]);
    expect(directory.code, directory.output).toBe(2);
    expect(directory.output).toContain(`--registration-token-file ${asDir} is a directory`);
    const two = await register(
      server,
      config,
      ['--registration-token-file', asDir, '--stdin-registration-token'],
      '',
    );
    expect(two.code).toBe(2);
    expect(two.output).toContain('give one registration token source');
    expect(existsSync(config)).toBe(false);

    const tokenFile = join(dir, 'reg-token');
    writeFileSync(tokenFile, `\n${server.registrationToken}\n`);
    const ok = await register(server, config, [
      '--registration-token-file',
      tokenFile,
      '--name',
      'from-file',
    ]);
    expect(ok.code, ok.output).toBe(0);
  });
});

describe('runner token in a token_file', () => {
  it('is written with mode 0600, the config names it, and the runner runs a task with it', async () => {
    const server = await startServerProcess();
    const dir = tempDir();
    const config = join(dir, 'runner.json');
    const reg = await register(
      server,
      config,
      [
        '--stdin-registration-token',
        '--name',
        'tokfile',
        '--labels',
        'tokfile',
        '--token-file',
        'secrets/runner.token',
      ],
      server.registrationToken + '\n',
    );
    expect(reg.code, reg.output).toBe(0);
    const tokenPath = join(dir, 'secrets', 'runner.token');
    const written = readConfig(config);
    expect(written.token).toBeUndefined();
    expect(written.token_file).toBe('secrets/runner.token');
    expect(mode(tokenPath)).toBe(0o600);
    expect(mode(join(dir, 'secrets'))).toBe(0o700);
    expect(mode(config)).toBe(0o600);
    expect(readFileSync(tokenPath, 'utf8')).toMatch(/^baton_r_\S+\n$/);

    await launchRunner('tokfile', config);
    const run = await server.client.submitRun('tasks:\n  hi:\n    runs_on: [tokfile]\n    run: echo hello\n');
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('succeeded');
    expect(result.results.hi?.runner).toBe('tokfile');
  });
});

describe('re-registering', () => {
  it("overwrites only this config's token; a second runner's config, token file and key stay as they were", async () => {
    const server = await startServerProcess();
    const dir = tempDir();
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    const token = server.registrationToken + '\n';
    expect(
      (
        await register(
          server,
          a,
          [
            '--stdin-registration-token',
            '--name',
            'ra',
            '--labels',
            'x',
            '--max-parallel-tasks',
            '3',
            '--token-file',
            'a.token',
          ],
          token,
        )
      ).code,
    ).toBe(0);
    expect(
      (
        await register(
          server,
          b,
          ['--stdin-registration-token', '--name', 'rb', '--token-file', 'b.token'],
          token,
        )
      ).code,
    ).toBe(0);
    const before = readConfig(a);
    const tokenA = readFileSync(join(dir, 'a.token'), 'utf8');
    const bBytes = readFileSync(b);
    const bToken = readFileSync(join(dir, 'b.token'));
    const bKey = readFileSync(join(dir, readConfig(b).state_dir!, 'runner-key.json'));

    const again = await register(server, a, ['--stdin-registration-token'], token);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain(
      `the previous registration (${before.runner_id}) was removed from the server`,
    );
    const after = readConfig(a);
    expect(after.runner_id).not.toBe(before.runner_id);
    // Its settings are kept from the config.
    expect(after.labels).toEqual(['x']);
    expect(after.max_parallel_tasks).toBe(3);
    expect(after.token_file).toBe('a.token');
    expect(readFileSync(join(dir, 'a.token'), 'utf8')).not.toBe(tokenA);
    expect(mode(join(dir, 'a.token'))).toBe(0o600);
    // The other runner: byte for byte.
    expect(readFileSync(b).equals(bBytes)).toBe(true);
    expect(readFileSync(join(dir, 'b.token')).equals(bToken)).toBe(true);
    expect(readFileSync(join(dir, readConfig(b).state_dir!, 'runner-key.json')).equals(bKey)).toBe(true);
    const ids = (await server.client.listRunners()).runners.map((r) => r.id).sort();
    expect(ids).toEqual([after.runner_id, readConfig(b).runner_id].sort());
  });
});

describe('runner unregister', () => {
  it('uses the runner token, and a runner already removed counts as done (exit 0)', async () => {
    const server = await startServerProcess();
    const dir = tempDir();
    const config = join(dir, 'runner.json');
    expect(
      (
        await register(
          server,
          config,
          ['--stdin-registration-token', '--name', 'gone', '--token-file', 'tok'],
          server.registrationToken,
        )
      ).code,
    ).toBe(0);
    const saved = readFileSync(config);
    const savedToken = readFileSync(join(dir, 'tok'));
    const id = readConfig(config).runner_id;

    const first = await cli(['runner', 'unregister', '--config', config]);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain("runner 'gone' unregistered;");
    expect(existsSync(config)).toBe(false);
    expect(existsSync(join(dir, 'tok'))).toBe(false);
    expect((await server.client.listRunners()).runners.map((r) => r.id)).not.toContain(id);

    // The same config again (restored from a backup, or an unregister whose answer was lost).
    writeFileSync(config, saved, { mode: 0o600 });
    writeFileSync(join(dir, 'tok'), savedToken, { mode: 0o600 });
    const second = await cli(['runner', 'unregister', '--config', config]);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain('it was already removed');
    expect(existsSync(config)).toBe(false);
  });

  it('after removal from the server side (baton runners remove) is done too', async () => {
    const server = await startServerProcess();
    const config = join(tempDir(), 'runner.json');
    expect(
      (
        await register(
          server,
          config,
          ['--stdin-registration-token', '--name', 'removed'],
          server.registrationToken,
        )
      ).code,
    ).toBe(0);
    await server.client.removeRunner(readConfig(config).runner_id);
    const out = await cli(['runner', 'unregister', '--config', config]);
    expect(out.code, out.output).toBe(0);
    expect(out.output).toContain('it was already removed');
  });

  it('leaves the config when the server cannot be reached (exit non-zero)', async () => {
    const server = await startServerProcess();
    const config = join(tempDir(), 'runner.json');
    expect(
      (
        await register(
          server,
          config,
          ['--stdin-registration-token', '--name', 'kept'],
          server.registrationToken,
        )
      ).code,
    ).toBe(0);
    const c = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    writeFileSync(config, JSON.stringify({ ...c, server: 'http://127.0.0.1:1' }));
    const out = await cli(['runner', 'unregister', '--config', config]);
    expect(out.code).not.toBe(0);
    expect(existsSync(config)).toBe(true);
  });
});

describe('runner webhook from registration (seed 003)', () => {
  it('register --webhook sends it, prints its signing secret once, keeps it in the config, and signed start and finish arrive', async () => {
    const server = await startServerProcess();
    const receiver = await startReceiver('not-known-until-registration');
    const dir = tempDir();
    const config = join(dir, 'runner.json');
    const ok = await register(
      server,
      config,
      ['--stdin-registration-token', '--name', 'hooked', '--labels', 'hooked', '--webhook', receiver.url],
      `${server.registrationToken}\n`,
    );
    expect(ok.code, ok.output).toBe(0);
    const secret = /signing secret \(X-Baton-Signature; shown only now\): (\S+)/.exec(ok.output)?.[1];
    expect(secret).toBeDefined();
    expect((readConfig(config) as ConfigFile & { webhook?: string }).webhook).toBe(receiver.url);
    expect(readFileSync(config, 'utf8')).not.toContain(secret!);

    await launchRunner('hooked', config);
    const run = await server.client.submitRun('tasks:\n  hi:\n    runs_on: [hooked]\n    run: echo hello\n');
    expect((await waitForRun(server.client, run.id)).status).toBe('succeeded');
    await waitFor(() => receiver.received.length >= 2, 'the start and finish deliveries');
    const actions = receiver.received.map((r) => r.json.action);
    expect(actions).toEqual(['start', 'finish']);
    for (const r of receiver.received) {
      expect(verify(secret!, r.body, r.headers['x-baton-signature'])).toBe(true);
      expect(r.json).toMatchObject({ runId: run.id });
    }
    expect(receiver.received[1]!.json.status).toBe('succeeded');
  });
});
