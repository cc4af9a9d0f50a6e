// `type: secret` forwarded into a "private network" and the sealed relay (issue 16, docs/adr/0014), with real
// server and runner processes and a fake Vault (there is no Vault server here): only runner `inside` knows
// where the Vault is (its VAULT_ADDR), the secret task is forwarded to it, and the importing task runs on
// runner `outside`. The value reaches the importing step (compared by hash through a file), every log shows
// `***`, and the plain value is nowhere the server keeps anything: database, its logs, its data dir.

import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startRunnerProcess, startServerProcess, waitFor, waitForRun } from '../helpers/cluster.ts';
import { startFakeVault } from '../helpers/fake-vault.ts';
import { startTracked } from '../helpers/processes.ts';
import { stepVisibleDir, tempDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

function workflow(hashFile: string): string {
  return `taskGroup:
  - name: fetch
    type: secret
    forward: { to: inside }
    spec:
      source: vault
      path: app/db
      key: password
      auth: { token: "\${{ secrets.VAULT_TOKEN }}" }
    exports: [{ name: value, confidential: true, scope: global }]
  - name: use
    type: os_exec
    forward: { to: outside }
    depends_on: [fetch]
    imports: [{ from: fetch, variable: value }]
    spec:
      command: |
        echo "the password is {{ .fetch.value }}"
        printf '%s' "$value" | sha256sum | cut -d' ' -f1 > ${hashFile}
`;
}

describe('secret task forwarded into a private network, relayed sealed (fake Vault)', () => {
  it('reaches the importing runner sealed end to end: masked in every log, absent from the server', async () => {
    const password = `pw-${randomBytes(16).toString('hex')}`;
    const token = `hvs.${randomBytes(12).toString('hex')}`;
    const vault = await startFakeVault({ tokens: [token], kv2: { secret: { 'app/db': { password } } } });
    onTestFinished(() => vault.close());
    const server = await startServerProcess();
    await server.client.setSecret('VAULT_TOKEN', token);
    const inside = await startRunnerProcess(server, 'inside', { env: { VAULT_ADDR: vault.url } });
    const outside = await startRunnerProcess(server, 'outside');
    const hashFile = join(stepVisibleDir(), 'hash');

    const run = await server.client.submitRun(workflow(hashFile));
    const result = await waitForRun(server.client, run.id);
    expect(result.status, JSON.stringify(result.results)).toBe('succeeded');
    expect(result.results.fetch).toMatchObject({ runner: 'inside', outputs: { value: '***' } });
    expect(result.results.use?.runner).toBe('outside');
    expect(result.outputs).toEqual({ value: '***' });
    expect(vault.requests).toEqual([{ method: 'GET', path: '/v1/secret/data/app/db', token }]);

    // The importing step saw exactly the value.
    expect(readFileSync(hashFile, 'utf8').trim()).toBe(createHash('sha256').update(password).digest('hex'));
    const fetchLog = await server.client.taskLog(run.id, 'fetch');
    const useLog = await server.client.taskLog(run.id, 'use');
    expect(fetchLog).toContain("secret 'app/db' fetched from vault: output 'value'");
    expect(useLog).toContain('the password is ***');

    // Nowhere in plain text: logs, API answers, the server's output, every file of its data dir (the SQLite
    // database and its WAL included), the runners' output.
    const group = await server.client.getTaskGroupResult(run.id);
    expect(group.results.fetch?.outputs).toEqual({ value: '***' });
    for (const text of [
      fetchLog,
      useLog,
      JSON.stringify(result),
      JSON.stringify(group),
      server.output(),
      inside.output(),
      outside.output(),
    ])
      expect(text).not.toContain(password);
    const files = filesUnder(server.dataDir);
    expect(files.some((f) => /\.(db|sqlite)/.test(f))).toBe(true);
    for (const file of files) expect(readFileSync(file).includes(password), file).toBe(false);
  });

  it('offers an importing task to no runner its secret was not sealed to, and says why it waits', async () => {
    const password = `pw-${randomBytes(16).toString('hex')}`;
    const token = `hvs.${randomBytes(12).toString('hex')}`;
    const vault = await startFakeVault({ tokens: [token], kv2: { secret: { 'app/db': { password } } } });
    onTestFinished(() => vault.close());
    const server = await startServerProcess();
    await server.client.setSecret('VAULT_TOKEN', token);
    await startRunnerProcess(server, 'inside', { env: { VAULT_ADDR: vault.url } });
    // `use` needs label `late`: no runner has it when `fetch` runs, so the value is sealed to nobody that can.
    const run = await server.client.submitRun(
      workflow(join(stepVisibleDir(), 'hash')).replace('forward: { to: outside }', 'forward: { to: late }'),
    );
    await waitFor(async () => {
      const r = await server.client.getRun(run.id);
      return r.results.use?.status === 'queued' ? r : undefined;
    }, "'use' queued");
    await startRunnerProcess(server, 'late');
    const res = await fetch(`${server.url}/api/v1/runs/${run.id}/tasks/use/pending`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    const why = (await res.json()) as {
      runners: Array<{ name: string; eligible: boolean; reasons: Array<{ code: string; detail?: string }> }>;
    };
    const late = why.runners.find((r) => r.name === 'late');
    expect(late?.eligible).toBe(false);
    expect(late?.reasons.map((r) => r.detail)).toContain('not_a_relay_recipient');
    const after = await server.client.getRun(run.id);
    expect(after.results.use?.status).toBe('queued');
    await server.client.cancelRun(run.id);
  });

  it('runs with baton run: --secret puts the value in the embedded store, the example reads it, no output shows it', async () => {
    const token = `tok-${randomBytes(8).toString('hex')}`;
    const dir = tempDir();
    const example = new URL('../../examples/harness-expression.yml', import.meta.url).pathname;
    const proc = startTracked(
      'baton run',
      process.execPath,
      [BIN, 'run', example, '--secret', 'API_TOKEN', '--data-dir', join(dir, 'data')],
      {
        env: { ...process.env, API_TOKEN: token },
      },
    );
    let text = '';
    proc.child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
    proc.child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
    const { code } = await proc.exited;
    expect(code, text).toBe(0);
    expect(text).toContain('would send the header: ***');
    expect(text).not.toContain(token);
    // (Not grepping the data dir here: `header` derives 'Bearer <token>', an ordinary confidential output, which
    // the server stores as such; the relay test above checks a fetched value's absence.)

    const missing = startTracked(
      'baton run',
      process.execPath,
      [BIN, 'run', example, '--secret', 'NOT_SET_ANYWHERE_X'],
      {},
    );
    let err = '';
    missing.child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    expect((await missing.exited).code).toBe(2);
    expect(err).toContain(
      '--secret NOT_SET_ANYWHERE_X: the environment variable NOT_SET_ANYWHERE_X is not set',
    );
  });
});
