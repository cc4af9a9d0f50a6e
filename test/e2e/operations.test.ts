// Operating Baton: Prometheus metrics on the server and the runner scraped from real processes and parsed as
// exposition text, structured JSON logs with levels, and the server's config file, variables and flags.
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  launchRunner,
  startRunnerProcess,
  startServerProcess,
  waitFor,
  waitForOutput,
  waitForRun,
} from '../helpers/cluster.ts';
import { startTracked, stopTracked } from '../helpers/processes.ts';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.ts';
import { tempDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

const WORKFLOW = `
name: metrics-run
tasks:
  talk:
    run: |
      for i in 1 2 3 4 5; do echo "line $i of some log output"; done
  fail:
    run: exit 3
`;

async function scrape(url: string, token?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, text: await res.text() };
}

/** JSON log lines of a process's output (other lines, such as the CLI's own messages, are left out). */
function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('metrics', () => {
  it('server and runner metrics move with a run, parse as Prometheus text, and need a token on the API port', async () => {
    const server = await startServerProcess({ extraArgs: ['--metrics-port', '0', '--log-level', 'trace'] });
    const metricsUrl = (
      await waitForOutput(
        server.proc,
        server.output,
        /metrics \(no authentication\) on (http:\/\/\S+)/,
        'the metrics listener',
      )
    )[1]!;
    const runner = await startRunnerProcess(server, 'm1', { extraArgs: ['--metrics-addr', '127.0.0.1:0'] });
    const runnerMetricsUrl = (
      await waitForOutput(
        runner.proc,
        runner.output,
        /metrics \(no authentication\) on (http:\/\/[^\s"]+)/,
        'the runner metrics listener',
      )
    )[1]!;

    const run = await server.client.submitRun(WORKFLOW);
    expect((await waitForRun(server.client, run.id)).status).toBe('failed');
    // A task no runner can take stays queued under its label set.
    await server.client.submitRun('name: waits\ntasks:\n  t:\n    runs_on: [gpu, arm64]\n    run: "true"\n');

    expect((await scrape(`${server.url}/metrics`)).status).toBe(401);
    expect((await scrape(`${server.url}/metrics`, 'baton_u_not_a_real_token_at_all_00000')).status).toBe(401);
    const authed = await scrape(`${server.url}/metrics`, server.adminToken);
    expect(authed.status).toBe(200);
    const m = parsePrometheus(authed.text);
    expect(m.get('baton_task_duration_seconds')?.type).toBe('histogram');
    expect(m.get('process_cpu_seconds_total')?.type).toBe('counter');
    expect(sampleValue(m, 'baton_tasks_finished_total', { status: 'succeeded' })).toBe(1);
    expect(sampleValue(m, 'baton_tasks_finished_total', { status: 'failed' })).toBe(1);
    expect(sampleValue(m, 'baton_task_duration_seconds_count', { status: 'failed' })).toBe(1);
    expect(sampleValue(m, 'baton_task_pickup_latency_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(sampleValue(m, 'baton_log_bytes_stored')).toBeGreaterThan(0);
    expect(sampleValue(m, 'baton_tasks_queued', { labels: 'arm64,gpu' })).toBe(1);
    expect(sampleValue(m, 'baton_runners', { status: 'offline' })).toBe(0);
    expect(
      (sampleValue(m, 'baton_runners', { status: 'idle' }) ?? 0) +
        (sampleValue(m, 'baton_runners', { status: 'busy' }) ?? 0),
    ).toBe(1);
    expect(
      sampleValue(m, 'baton_http_request_duration_seconds_count', {
        route: '/api/v1/runs',
        method: 'POST',
        status: '201',
      }),
    ).toBe(2);
    // Route templates only: no sample names a run id.
    const http = m.get('baton_http_request_duration_seconds')!;
    expect(http.samples.some((s) => s.labels.route?.includes(run.id))).toBe(false);

    // The separate listener answers without a token, and only /metrics.
    const open = await scrape(metricsUrl);
    expect(open.status).toBe(200);
    expect(sampleValue(parsePrometheus(open.text), 'baton_tasks_finished_total', { status: 'failed' })).toBe(
      1,
    );
    expect((await scrape(metricsUrl.replace('/metrics', '/api/v1/runs'))).status).toBe(404);

    // The runner counts a task once the server acknowledged its result, a moment after the run ended there.
    const r = await waitFor(async () => {
      const parsed = parsePrometheus((await scrape(runnerMetricsUrl)).text);
      return sampleValue(parsed, 'baton_runner_slots_busy') === 0 ? parsed : undefined;
    }, 'the runner to free its slot');
    expect(sampleValue(r, 'baton_runner_tasks_total', { outcome: 'succeeded' })).toBe(1);
    expect(sampleValue(r, 'baton_runner_tasks_total', { outcome: 'failed' })).toBe(1);
    expect(sampleValue(r, 'baton_runner_tasks_total', { outcome: 'lost' })).toBe(0);
    expect(sampleValue(r, 'baton_runner_slots')).toBe(1);
    expect(sampleValue(r, 'baton_runner_slots_busy')).toBe(0);
    expect(sampleValue(r, 'baton_runner_log_unacknowledged_bytes')).toBe(0);
    expect(sampleValue(r, 'baton_runner_spool_bytes')).toBeGreaterThanOrEqual(0);

    // One JSON line per request with its id, route, status and duration; never a token.
    const requests = jsonLines(server.output()).filter((l) => l.msg === 'request');
    const submit = requests.find((l) => l.route === '/api/v1/runs' && l.method === 'POST');
    expect(submit).toMatchObject({ level: 30, status: 201 });
    expect(typeof submit?.reqId).toBe('string');
    expect(typeof submit?.durationMs).toBe('number');
    expect(server.output()).not.toContain(server.adminToken);
    expect(runner.output()).not.toContain(server.registrationToken);
    // The runner's lines are JSON too, named after it.
    const started = jsonLines(runner.output()).find((l) => String(l.msg).startsWith("runner 'm1' started"));
    expect(started).toMatchObject({ level: 30, name: 'm1' });
  });

  it('parsePrometheus refuses what is not exposition text', () => {
    expect(() => parsePrometheus('x 1\n')).toThrow(/no # TYPE/);
    expect(() => parsePrometheus('# TYPE x gauge\nx{a="b} 1\n')).toThrow(/unterminated/);
    expect(() => parsePrometheus('# TYPE x gauge\nx one\n')).toThrow(/bad value/);
  });
});

function register(serverUrl: string, registrationToken: string, name: string): string {
  const config = join(tempDir(`baton-runner-${name}-`), 'runner.json');
  const r = spawnSync(process.execPath, [
    BIN,
    'runner',
    'register',
    '--server',
    serverUrl,
    '--registration-token',
    registrationToken,
    '--name',
    name,
    '--config',
    config,
  ]);
  if (r.status !== 0) throw new Error(`register failed: ${r.stderr.toString()}`);
  return config;
}

describe('logs', () => {
  it('--log-level warn hides the info lines; --log-format pretty prints lines for people', async () => {
    const server = await startServerProcess({ extraArgs: ['--log-level', 'info', '--log-format', 'pretty'] });
    const quiet = startTracked(
      'runner quiet',
      process.execPath,
      [
        BIN,
        'runner',
        'start',
        '--config',
        register(server.url, server.registrationToken, 'quiet'),
        '--log-level',
        'warn',
      ],
      {},
      true,
    );
    let quietOut = '';
    quiet.child.stdout?.on('data', (d: Buffer) => (quietOut += d.toString()));
    quiet.child.stderr?.on('data', (d: Buffer) => (quietOut += d.toString()));
    const run = await server.client.submitRun('name: one\ntasks:\n  t:\n    run: echo hi\n');
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('succeeded');
    expect(result.results.t?.runner).toBe('quiet');
    await stopTracked(quiet);
    // It ran a task and stopped, which it logs at info: none of it shows at warn.
    expect(quietOut).not.toMatch(/running task|started|stopped after/);

    const pretty = await launchRunner('loud', register(server.url, server.registrationToken, 'loud'), [
      '--log-format',
      'pretty',
    ]);
    expect(pretty.output()).toMatch(/^\d{4}-\d\d-\d\dT\S+Z INFO \[loud\] runner 'loud' started: /m);
    expect(pretty.output()).not.toMatch(/^\{/m);
    // The server's request lines, pretty: level, message, then the fields as key=value.
    expect(server.output()).toMatch(
      /^\S+Z INFO request reqId=\S+ method=POST route=\/api\/v1\/runs status=201 durationMs=[\d.]+$/m,
    );
    expect(server.output()).not.toMatch(/^\{/m);
  });

  it('an unknown log level is a usage error listing the levels, on the server and the runner', () => {
    for (const args of [
      ['server', '--log-level', 'loud', '--data-dir', tempDir()],
      ['runner', 'start', '--log-level', 'loud', '--config', join(tempDir(), 'none.json')],
    ]) {
      const r = spawnSync(process.execPath, [BIN, ...args]);
      expect(r.status).toBe(2);
      expect(r.stderr.toString()).toContain(
        "--log-level must be one of trace, debug, info, warn, error, fatal, silent; got 'loud'",
      );
    }
  });
});

function printConfig(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, 'server', '--print-config', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: tempDir(), ...env },
  });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe('server configuration', () => {
  it('takes a setting from the flag over the environment over the file over the default', () => {
    const dir = tempDir();
    const file = join(dir, 'baton.yaml');
    writeFileSync(file, `port: 9001\nhost: 0.0.0.0\nlog_level: debug\ndata_dir: ${dir}\n`);
    expect(printConfig([]).stdout).toMatch(/^port: 8480$/m);
    expect(printConfig(['--config', file]).stdout).toMatch(/^port: 9001$/m);
    const env = { BATON_PORT: '9002' };
    expect(printConfig(['--config', file], env).stdout).toMatch(/^port: 9002$/m);
    const all = printConfig(['--config', file, '--port', '9003'], env);
    expect(all.status).toBe(0);
    expect(all.stdout).toMatch(/^port: 9003$/m);
    // The file's other settings still count.
    expect(all.stdout).toMatch(/^host: 0\.0\.0\.0$/m);
    expect(all.stdout).toMatch(/^log_level: debug$/m);
  });

  it('reads secrets from BATON_*_FILE and never prints them', () => {
    const dir = tempDir();
    const admin = 'baton_u_admin-token-from-a-file-0123456789';
    const password = 'pg-pass-w0rd-canary';
    const key = 'a'.repeat(64);
    for (const [name, value] of [
      ['admin', admin],
      ['db', `postgres://baton:${password}@db.internal:5432/baton`],
      ['key', key],
    ] as const) {
      writeFileSync(join(dir, name), `${value}\n`);
      chmodSync(join(dir, name), 0o600);
    }
    const r = printConfig(['--data-dir', dir], {
      BATON_ADMIN_TOKEN_FILE: join(dir, 'admin'),
      BATON_DATABASE_URL_FILE: join(dir, 'db'),
      BATON_MASTER_KEY_FILE: join(dir, 'key'),
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^admin_token: "\[redacted\]"$/m);
    expect(r.stdout).toMatch(/^master_key: "\[redacted\]"$/m);
    expect(r.stdout).toMatch(/^database: postgres:\/\/baton:\*\*\*@db\.internal:5432\/baton$/m);
    for (const secret of [admin, password, key]) expect(r.stdout + r.stderr).not.toContain(secret);

    const missing = printConfig([], { BATON_ADMIN_TOKEN_FILE: join(dir, 'nope') });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`BATON_ADMIN_TOKEN_FILE names ${join(dir, 'nope')}`);
  });

  it('refuses an unknown key or a wrongly typed value with its line and column', () => {
    const file = join(tempDir(), 'baton.yaml');
    writeFileSync(file, 'port: 9001\n# a comment\n  \nlog_levle: debug\n');
    const r = printConfig(['--config', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}:4:1: unknown key 'log_levle'`);
    writeFileSync(file, 'host: x\nport: "eighty"\n');
    expect(printConfig(['--config', file]).stderr).toContain(
      `${file}:2:7: 'port' must be a non-negative integer`,
    );
    writeFileSync(file, 'log_level: loud\n');
    const level = printConfig(['--config', file]);
    expect(level.status).toBe(2);
    expect(level.stderr).toContain("log level 'loud' is not one of trace, debug, info");
  });
});
