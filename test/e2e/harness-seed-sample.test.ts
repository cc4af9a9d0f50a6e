// Seed 001's sample, end to end (issue 16): with `baton run` and through a server and a runner process, `bar`
// receives the password `foo` writes to ${OUTPUT_FILE}_foo, every log shows it masked, and the task-group
// result is the seed's table.
//
// The sample is the seed's text with only its punctuation fixed (`name: foo,` → `foo`, the comma between the
// argv words, `depends_on: foo,` → `[foo]`, `{{ .foo.password )}` → `{{ .foo.password }}`), and one change to
// make the password real: `secret=curl https://vault...;` (which runs a command named `https://vault...` and
// sets nothing) became `secret=$(curl -s <a loopback stand-in for the vault>);`.

import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startRunnerProcess, startServerProcess, waitForRun } from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

/** A loopback HTTP server that answers every request with `password` (the vault of the sample). */
async function fakeVault(password: string): Promise<string> {
  const server: Server = createServer((_req, res) => res.end(password));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}/v1/secret/data/db`;
}

function sample(vaultUrl: string): string {
  return `taskGroup: 
- name: foo
  type: os_exec
  spec:
    command: |
      secret=$(curl -s ${vaultUrl});
      echo "password=\${secret}" > \${OUTPUT_FILE}_foo;
  exports:
  - name: password
    confidential: true
    scope: local
- name: bar
  type: os_exec
  spec:
    command: ["/bin/bash", "-c", "echo '{{ .foo.password }}'"]
    envs:
    - key: value
  depends_on: [foo]
  imports:
  - from: foo
    variable: password
`;
}

async function baton(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = startTracked(`baton ${args[0]}`, process.execPath, [BIN, ...args]);
  let stdout = '';
  let stderr = '';
  proc.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const { code } = await proc.exited;
  return { code, stdout, stderr };
}

function expectSeedTable(result: unknown, runId: string): void {
  const shaped = result as { id: string; results: Record<string, { id: string }> };
  expect(shaped).toEqual({
    id: runId,
    results: {
      foo: { name: 'foo', id: shaped.results.foo?.id, status: 'success', outputs: {} },
      bar: { name: 'bar', id: shaped.results.bar?.id, status: 'success', outputs: {} },
    },
  });
  expect(shaped.results.foo?.id).toMatch(/\S/);
}

describe("seed 001's sample", () => {
  it('runs through a server and a runner: bar gets the password, every log masks it, the task-group result is the table', async () => {
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const server = await startServerProcess();
    await startRunnerProcess(server, 'seed');
    const run = await server.client.submitRun(sample(await fakeVault(password)));
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('succeeded');
    // foo captured it (the API shows a confidential output as ***) and bar printed exactly it, masked.
    expect(result.results.foo?.outputs).toEqual({ password: '***' });
    const fooLog = await server.client.taskLog(run.id, 'foo');
    const barLog = await server.client.taskLog(run.id, 'bar');
    expect(barLog.split('\n')).toContain('***');
    expectSeedTable(await server.client.getTaskGroupResult(run.id), run.id);
    const shown = await baton([
      'runs',
      'show',
      run.id,
      '--shape',
      'task-group',
      '--server',
      server.url,
      '--token',
      server.adminToken,
    ]);
    expect(shown.code).toBe(0);
    expectSeedTable(JSON.parse(shown.stdout), run.id);
    const bad = await baton([
      'runs',
      'show',
      run.id,
      '--shape',
      'harness',
      '--server',
      server.url,
      '--token',
      server.adminToken,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--shape must be one of run, task-group; got 'harness'");
    for (const text of [fooLog, barLog, JSON.stringify(result), shown.stdout, server.output()])
      expect(text).not.toContain(password);
  });

  it('runs with baton run: the same result as JSON in the task-group shape, the password in no output', async () => {
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const dir = tempDir();
    const file = join(dir, 'sample.yml');
    writeFileSync(file, sample(await fakeVault(password)));
    const json = await baton([
      'run',
      file,
      '--json',
      '--shape',
      'task-group',
      '--data-dir',
      join(dir, 'data'),
    ]);
    expect(json.stderr).not.toContain(password);
    expect(json.code).toBe(0);
    const shaped = JSON.parse(json.stdout) as { id: string };
    expectSeedTable(shaped, shaped.id);
    // The human form prints each task's log live: bar's line is the masked password.
    const live = await baton(['run', file]);
    expect(live.code).toBe(0);
    expect(live.stdout + live.stderr).not.toContain(password);
    expect(live.stdout).toMatch(/\*\*\*/);
  });

  it('runs the expression example through a server: a zero-step task, its confidential result masked downstream', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'expr');
    const example = readFileSync(new URL('../../examples/harness-expression.yml', import.meta.url), 'utf8');
    const token = `tok-${randomBytes(8).toString('hex')}`;
    await server.client.setSecret('API_TOKEN', token);
    const run = await server.client.submitRun(example);
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('succeeded');
    const group = await server.client.getTaskGroupResult(run.id);
    expect(group.results.header).toMatchObject({ status: 'success', outputs: { result: '***' } });
    expect(group.results.greeting).toMatchObject({ status: 'success', outputs: { result: 'hello, deploy' } });
    const callLog = await server.client.taskLog(run.id, 'call');
    expect(callLog).toContain('hello, deploy');
    expect(callLog).toContain('would send the header: ***');
    expect(callLog).not.toContain(token);
    expect(server.output()).not.toContain(token);
    expect(await server.client.taskLog(run.id, 'header')).toContain("'result' is confidential");

    // An expression that fails at run time fails its task with the message; its dependent is skipped.
    const failing = await server.client.submitRun(
      'taskGroup:\n  - { name: e, type: expression, spec: { expression: "fromJSON(\'{oops\')" } }\n  - { name: after, type: os_exec, depends_on: [e], spec: { command: echo no } }\n',
    );
    const failed = await waitForRun(server.client, failing.id);
    expect(failed.results.e).toMatchObject({ status: 'failed', reason: 'setup_failed' });
    expect(failed.results.e?.message).toContain('cannot evaluate its expression');
    expect(failed.results.after?.status).toBe('skipped');
  });
});
