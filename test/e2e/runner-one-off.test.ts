// Issue 17: a one-off runner runs exactly one task — even with several slots and several tasks waiting — and
// exits 0 once the server acknowledged its result; `--idle-timeout` makes a runner that got no task exit 3.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchRunner, startServerProcess, waitForRun, type ServerProcess } from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

async function registered(server: ServerProcess, name: string, extra: string[] = []): Promise<string> {
  const config = join(tempDir(`baton-${name}-`), 'runner.json');
  const p = startTracked('register', process.execPath, [
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
    name,
    '--config',
    config,
    ...extra,
  ]);
  let out = '';
  p.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  expect((await p.exited).code, out).toBe(0);
  return config;
}

describe('one-off runners', () => {
  it('run exactly one task with three slots and three tasks waiting, then exit 0 after the result is acknowledged', async () => {
    const server = await startServerProcess();
    const config = await registered(server, 'once', ['--max-parallel-tasks', '3']);
    const tasks = ['a', 'b', 'c'].map((t) => `  ${t}:\n    runs_on: [once]\n    run: echo ${t}\n`).join('');
    const run = await server.client.submitRun(`tasks:\n${tasks}`);
    const runner = await launchRunner('once', config, ['--one-off']);
    const exit = await runner.proc.exited;
    expect(exit.code, runner.output()).toBe(0);
    expect(runner.output()).toContain('runner stopped after 1 task(s)');
    const now = await server.client.getRun(run.id);
    const statuses = Object.values(now.results).map((r) => r.status);
    expect(statuses.filter((s) => s === 'succeeded')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'queued')).toHaveLength(2);
  });

  it('the config key one_off does the same, and a failing task still exits 0 (its result was acknowledged)', async () => {
    const server = await startServerProcess();
    const config = await registered(server, 'cfg-once');
    const c = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    writeFileSync(config, JSON.stringify({ ...c, one_off: true }, null, 2));
    const run = await server.client.submitRun('tasks:\n  f:\n    runs_on: [cfg-once]\n    run: exit 7\n');
    const runner = await launchRunner('cfg-once', config);
    expect((await runner.proc.exited).code, runner.output()).toBe(0);
    const result = await server.client.getRun(run.id);
    expect(result.results.f).toMatchObject({ status: 'failed', exitCode: 7 });
  });

  it('--idle-timeout: no task came, exit 3 saying so; a bad duration is exit 2 naming it', async () => {
    const server = await startServerProcess();
    const config = await registered(server, 'idle');
    const runner = await launchRunner('idle', config, ['--one-off', '--idle-timeout', '1500ms']);
    expect((await runner.proc.exited).code, runner.output()).toBe(3);
    expect(runner.output()).toContain('no task came within the idle timeout (1500ms); exiting with code 3');

    const bad = startTracked('bad idle', process.execPath, [
      BIN,
      'runner',
      'start',
      '--config',
      config,
      '--idle-timeout',
      'soon',
    ]);
    let out = '';
    bad.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    expect((await bad.exited).code).toBe(2);
    expect(out).toContain("--idle-timeout 'soon' is not a duration");
  });

  it('--idle-timeout after tasks ran: exit 0', async () => {
    const server = await startServerProcess();
    const config = await registered(server, 'idle-after');
    const run = await server.client.submitRun('tasks:\n  t:\n    runs_on: [idle-after]\n    run: "true"\n');
    const runner = await launchRunner('idle-after', config, ['--idle-timeout', '2s']);
    expect((await waitForRun(server.client, run.id)).status).toBe('succeeded');
    expect((await runner.proc.exited).code, runner.output()).toBe(0);
    expect(runner.output()).toContain('runner stopped after 1 task(s)');
  });
});

describe('runner config mistakes at start', () => {
  it('exit 2 naming the file, line and column of an unknown key, and of a bad value', async () => {
    const dir = tempDir();
    const config = join(dir, 'runner.json');
    const start = async () => {
      const p = startTracked('start bad config', process.execPath, [
        BIN,
        'runner',
        'start',
        '--config',
        config,
      ]);
      let out = '';
      p.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      return { code: (await p.exited).code, out };
    };
    writeFileSync(
      config,
      '{\n  "server": "http://127.0.0.1:1",\n  "runner_id": "r",\n  "name": "n",\n  "token": "t",\n    "webhok": "https://x/"\n}\n',
    );
    const unknown = await start();
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain(`${config}:6:5: unknown key "webhok"`);
    writeFileSync(
      config,
      '{"server": "http://127.0.0.1:1", "runner_id": "r", "name": "n", "token": "t",\n"max_parallel_tasks": 0}\n',
    );
    const bad = await start();
    expect(bad.code).toBe(2);
    expect(bad.out).toContain(`${config}:2:1: "max_parallel_tasks" must be an integer from 1 to 256, got 0`);
  });
});
