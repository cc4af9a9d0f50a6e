// Issue 16's example (examples/harness-signed-request.yml): a Harness task group with a `secret`, two
// `expression`s and the custom CGI driver examples/drivers/hmac, run as the README says — `baton run --drivers
// examples/drivers --secret API_TOKEN` in a real process — and through a server and a runner process started with
// the drivers. Each task succeeds, the task-group result holds the global exports only (the confidential header
// as ***), the driver's signature is the HMAC of the payload under the token, the token appears in no output,
// and a second run on the same data dir takes `digest` from the cache.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRunnerProcess, startServerProcess, waitForRun } from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;
const EXAMPLE = new URL('../../examples/harness-signed-request.yml', import.meta.url).pathname;
const DRIVERS = new URL('../../examples/drivers', import.meta.url).pathname;
const PAYLOAD = 'release 2.1.0';
const TASKS = ['fetch', 'release', 'payload', 'digest', 'sign', 'header', 'send'];

async function baton(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = startTracked(`baton ${args[0]}`, process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  proc.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const { code } = await proc.exited;
  return { code, stdout, stderr };
}

/** The task-group result the example must give for `token`: every task a success, only global exports. */
function expectTaskGroup(result: unknown, token: string): void {
  const shaped = result as { id: string; results: Record<string, { id: string }> };
  const entry = (name: string, outputs: Record<string, string>) => ({
    name,
    id: shaped.results[name]?.id,
    status: 'success',
    outputs,
  });
  expect(shaped).toEqual({
    id: shaped.id,
    results: {
      fetch: entry('fetch', {}),
      release: entry('release', { version: '2.1.0' }),
      payload: entry('payload', { result: PAYLOAD }),
      digest: entry('digest', { digest: createHash('sha256').update(PAYLOAD).digest('hex') }),
      sign: entry('sign', { signature: createHmac('sha256', token).update(PAYLOAD).digest('hex') }),
      header: entry('header', { result: '***' }),
      send: entry('send', {}),
    },
  });
  for (const name of TASKS) expect(shaped.results[name]?.id).toMatch(/\S/);
}

describe('the Harness example with a secret, expressions and a CGI driver', () => {
  it('runs with baton run: each task succeeds, the token is masked everywhere, digest is cached on a rerun', async () => {
    const token = `tok-${randomBytes(10).toString('hex')}`;
    const env = { API_TOKEN: token };
    const data = join(tempDir(), 'data');
    const common = ['--drivers', DRIVERS, '--secret', 'API_TOKEN', '--data-dir', data];

    const live = await baton(['run', ...common, EXAMPLE], env);
    expect(live.stderr).not.toContain(token);
    expect(live.code).toBe(0);
    expect(live.stdout).not.toContain(token);
    for (const name of TASKS) expect(live.stdout).toMatch(new RegExp(`✓ ${name}\\s+succeeded`));
    expect(live.stdout).toContain('POST /releases release 2.1.0');
    expect(live.stdout).toContain('Authorization: ***');
    expect(live.stdout).toContain('hmac: signing a 13-byte message with a 24-byte key');
    expect(live.stdout).toContain('digest   | [baton] cache miss');

    const shaped = await baton(['run', ...common, '--json', '--shape', 'task-group', EXAMPLE], env);
    expect(shaped.stderr + shaped.stdout).not.toContain(token);
    expect(shaped.code).toBe(0);
    expectTaskGroup(JSON.parse(shaped.stdout), token);

    // The run shape says where `digest` came from: the first run stored it, this one reused it.
    const full = await baton(['run', ...common, '--json', EXAMPLE], env);
    expect(full.code).toBe(0);
    expect(full.stdout + full.stderr).not.toContain(token);
    const run = JSON.parse(full.stdout) as {
      status: string;
      results: Record<string, { status: string; cached?: boolean; outputs: Record<string, string> }>;
    };
    expect(run.status).toBe('succeeded');
    expect(run.results.digest).toMatchObject({ status: 'succeeded', cached: true });
    expect(run.results.sign?.cached).toBeUndefined();
    expect(run.results.fetch?.outputs).toEqual({ value: '***' });

    // Without the token the secret task fails naming it, and everything after it is skipped.
    const missing = await baton(
      ['run', '--drivers', DRIVERS, '--data-dir', join(tempDir(), 'd2'), '--json', EXAMPLE],
      {},
    );
    expect(missing.code).not.toBe(0);
    const failed = JSON.parse(missing.stdout) as {
      results: Record<string, { status: string; message: string | null }>;
    };
    expect(failed.results.fetch).toMatchObject({ status: 'failed' });
    expect(failed.results.fetch?.message).toContain("the Baton secret 'API_TOKEN' is not set");
    expect(failed.results.send?.status).toBe('skipped');
  });

  it('runs through a server and a runner started with --drivers examples/drivers', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'signer', { extraArgs: ['--drivers', DRIVERS] });
    const token = `tok-${randomBytes(10).toString('hex')}`;
    await server.client.setSecret('API_TOKEN', token);
    const run = await server.client.submitRun(readFileSync(EXAMPLE, 'utf8'));
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('succeeded');
    expectTaskGroup(await server.client.getTaskGroupResult(run.id), token);
    const send = await server.client.taskLog(run.id, 'send');
    expect(send).toContain('Authorization: ***');
    expect(send).toContain(`X-Signature: ${createHmac('sha256', token).update(PAYLOAD).digest('hex')}`);
    for (const name of TASKS) expect(await server.client.taskLog(run.id, name)).not.toContain(token);
    expect(server.output()).not.toContain(token);
  });
});
