// Issue 16: tasks of a custom type run by a runner's CGI driver. A real server and real runner processes (started
// through the CLI): a runner without the driver never gets the task and "why pending" names the missing type; a
// runner started with --drivers takes it, the driver's outputs reach a dependent task, and its secret is masked in
// that task's log; a type no runner has is refused at submit unless the workflow declares it.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/client/http.ts';
import {
  startRunnerProcess,
  startServerProcess,
  waitFor,
  waitForRun,
  type ServerProcess,
} from '../helpers/cluster.ts';
import { startPool } from '../helpers/pool.ts';
import { stepVisibleDir, tempDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;
const execFileAsync = promisify(execFile);

interface PendingAnswer {
  summary: string;
  runners: { name: string; eligible: boolean; reasons: { code: string; message: string }[] }[];
}

async function whyPending(server: ServerProcess, runId: string, task: string): Promise<PendingAnswer> {
  const res = await fetch(`${server.url}/api/v1/runs/${runId}/tasks/${encodeURIComponent(task)}/pending`, {
    headers: { authorization: `Bearer ${server.adminToken}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as PendingAnswer;
}

/** A CGI driver in bash: reads the JSON request, answers a greeting and a secret. */
const GREETER = `#!/bin/bash
body=$(head -c "$CONTENT_LENGTH")
echo "greeter got $body" >&2
who=$(printf '%s' "$body" | sed -n 's/.*"who":"\\([^"]*\\)".*/\\1/p')
printf 'Status: 200 OK\\r\\nContent-Type: application/json\\r\\n\\r\\n'
printf '{"outputs":{"greeting":"hello %s"},"secrets":{"password":"pw-%s-7f3a9c21"}}' "$who" "$who"
`;

const WORKFLOW = `
name: greet
drivers: [greeter]
taskGroup:
- name: hello
  type: greeter
  spec:
    who: world
  exports:
  - name: greeting
    scope: global
  - name: password
    confidential: true
    scope: local
- name: use
  type: os_exec
  depends_on: [hello]
  spec:
    command: |
      echo "said: {{ .hello.greeting }}"
      echo "pw: {{ .hello.password }}"
`;

describe('custom task types run by CGI drivers', () => {
  it('only a runner with the driver takes the task, why pending names the type, and outputs and secrets flow on', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'plain-runner');
    const run = await server.client.submitRun(WORKFLOW);
    await waitFor(async () => {
      const pending = await whyPending(server, run.id, 'hello');
      return pending.runners.some((r) => r.name === 'plain-runner' && r.reasons.length > 0);
    }, 'the plain runner to be listed');
    const pending = await whyPending(server, run.id, 'hello');
    expect(pending.summary).toMatch(/no runner can take this task now/);
    expect(pending.runners.find((r) => r.name === 'plain-runner')!.reasons).toEqual([
      expect.objectContaining({
        code: 'no_driver',
        message: expect.stringMatching(/type 'greeter' and runner 'plain-runner' has no driver for it/),
      }),
    ]);
    expect((await server.client.getRun(run.id)).results['hello']).toMatchObject({
      status: 'queued',
      attempt: 0,
    });
    // The CLI says the same.
    const cli = await execFileAsync(process.execPath, [BIN, 'runs', 'explain', run.id, 'hello'], {
      env: { ...process.env, BATON_SERVER: server.url, BATON_TOKEN: server.adminToken },
    });
    expect(cli.stdout).toContain("plain-runner (idle): no_driver — the task has type 'greeter'");
    // `runs pending` is the same command; without TASK it explains every waiting task of the run.
    const all = await execFileAsync(process.execPath, [BIN, 'runs', 'pending', run.id, '--json'], {
      env: { ...process.env, BATON_SERVER: server.url, BATON_TOKEN: server.adminToken },
    });
    const parsed = JSON.parse(all.stdout) as {
      tasks: Array<{ task: string; runners: Array<{ reason: unknown }> }>;
    };
    expect(parsed.tasks.map((t) => t.task)).toContain('hello');
    expect(parsed.tasks.find((t) => t.task === 'hello')!.runners[0]!.reason).toMatchObject({
      code: 'no_driver',
    });

    const drivers = join(stepVisibleDir(), 'drivers');
    mkdirSync(drivers);
    writeFileSync(join(drivers, 'greeter.cgi'), GREETER);
    chmodSync(join(drivers, 'greeter.cgi'), 0o755);
    await startRunnerProcess(server, 'driver-runner', { extraArgs: ['--drivers', drivers] });
    const done = await waitForRun(server.client, run.id);
    expect(done.status).toBe('succeeded');
    expect(done.results['hello']).toMatchObject({ status: 'succeeded', runner: 'driver-runner' });
    expect(done.outputs).toEqual({ greeting: 'hello world' });
    const helloLog = await server.client.taskLog(run.id, 'hello');
    expect(helloLog).toContain('greeter got {"who":"world"}');
    const useLog = await server.client.taskLog(run.id, 'use');
    expect(useLog).toContain('said: hello world');
    expect(useLog).toContain('pw: ***');
    expect(useLog).not.toContain('pw-world-7f3a9c21');

    const { runners } = await server.client.listRunners();
    const advertised = runners.find((r) => r.name === 'driver-runner')?.report?.drivers;
    expect(advertised).toEqual([
      { type: 'greeter', version: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
    ]);
  });

  it('a type no registered runner has is refused at submit with its place, unless the workflow declares it', async () => {
    const server = await startServerProcess();
    const undeclared = 'tasks:\n  a:\n    type: nowhere\n    spec: {x: 1}\n';
    const error = await server.client.submitRun(undeclared).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('invalid_workflow');
    expect((error as ApiError).details.issues).toEqual([
      expect.objectContaining({
        line: 3,
        column: 11,
        message: expect.stringMatching(
          /type 'nowhere', which no registered runner has a driver for.*drivers: \[nowhere\]/,
        ),
      }),
    ]);
    expect((await server.client.listRuns()).runs).toEqual([]);
    const declared = await server.client.submitRun(`drivers: [nowhere]\n${undeclared}`);
    expect((await server.client.getRun(declared.id)).results['a']).toMatchObject({ status: 'queued' });
  });

  it('the example task group runs with the example driver', async () => {
    const server = await startServerProcess();
    const drivers = new URL('../../examples/drivers', import.meta.url).pathname;
    await startRunnerProcess(server, 'example-runner', { extraArgs: ['--drivers', drivers] });
    const workflow = readFileSync(new URL('../../examples/custom-driver.yml', import.meta.url), 'utf8');
    const done = await waitForRun(server.client, (await server.client.submitRun(workflow)).id);
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toEqual({ greeting: 'hello world' });
    const log = await server.client.taskLog(done.id, 'show');
    expect(log).toMatch(/^hello world\nticket: \*\*\*\n$/);
  });

  it('a pool started with --drivers gives them to every slot', async () => {
    const server = await startServerProcess();
    const drivers = new URL('../../examples/drivers', import.meta.url).pathname;
    startPool(server, 1, ['--drivers', drivers]);
    // Declared: the slot may not have registered yet when the run is submitted.
    const run = await server.client.submitRun(
      'drivers: [greeter]\ntasks:\n  greet:\n    type: greeter\n    spec: {who: pool}\n    exports: [{name: greeting, scope: global}]\n',
    );
    const done = await waitForRun(server.client, run.id);
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toEqual({ greeting: 'hello pool' });
  });

  it('baton run --drivers runs the example with its embedded runner', async () => {
    const drivers = new URL('../../examples/drivers', import.meta.url).pathname;
    // Without its `drivers:` line: the local runner's report must reach the server before the submit checks it.
    const workflow = join(tempDir(), 'undeclared.yml');
    const example = readFileSync(new URL('../../examples/custom-driver.yml', import.meta.url), 'utf8');
    expect(example).toContain('drivers: [greeter]\n');
    writeFileSync(workflow, example.replace('drivers: [greeter]\n', ''));
    const { stdout } = await execFileAsync(process.execPath, [
      BIN,
      'run',
      workflow,
      '--drivers',
      drivers,
      '--json',
    ]);
    const result = JSON.parse(stdout) as { status: string; outputs: Record<string, string> };
    expect(result.status).toBe('succeeded');
    expect(result.outputs).toEqual({ greeting: 'hello world' });
  });
});
