// A real `baton runner serve` process (an Automn-compatible push runner) on an ephemeral loopback port, and
// the Automn fixtures it is checked against (../shared/fixtures/automn).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForOutput } from './cluster.ts';
import { startTracked, stopTracked, type TrackedChild } from './processes.ts';
import { stepVisibleDir, tempDir } from './temp.ts';
import { onTestFinished } from 'vitest';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;
export const FIXTURES = new URL('../../../shared/fixtures/automn/', import.meta.url).pathname;

/** The values the fixtures' placeholders stood for while recording (fixtures README). */
export const PLACEHOLDERS: Record<string, string> = {
  '{{RUNNER_SECRET}}': 'fixture-runner-secret-r1',
  '{{RUNNER_SECRET_R2}}': 'fixture-runner-secret-r2',
  '{{RUNNER_SECRET_R2_ROTATED}}': 'fixture-rotated-secret-r2',
  '{{RUNNER_SECRET_CAPTURE}}': 'fixture-capture-secret-000',
  '{{RESET_TOKEN}}': 'fixture-reset-token-0123',
};

export function fixture(name: string): Record<string, unknown> {
  let text = readFileSync(join(FIXTURES, name), 'utf8');
  for (const [k, v] of Object.entries(PLACEHOLDERS)) text = text.split(k).join(v);
  return JSON.parse(text) as Record<string, unknown>;
}

export interface ServeRunner {
  url: string;
  proc: TrackedChild;
  dataDir: string;
  output: () => string;
}

/**
 * `stepVisible`: the runner's data dir under /var/tmp, where a step could see it were it not hidden (steps get a
 * private /tmp, so a data dir under /tmp proves nothing about hiding).
 */
export async function startServeRunner(
  env: Record<string, string>,
  o: { stepVisible?: boolean } = {},
): Promise<ServeRunner> {
  const dataDir = o.stepVisible === true ? stepVisibleDir('baton-serve-') : tempDir('baton-serve-');
  let output = '';
  const proc = startTracked(
    'runner serve',
    process.execPath,
    [BIN, 'runner', 'serve', '--listen', '127.0.0.1', '--grace', '2000'],
    {
      cwd: dataDir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        LANG: 'C.UTF-8',
        AUTOMN_RUNNER_PORT: '0',
        AUTOMN_RUNNER_DATA_DIR: join(dataDir, 'data'),
        ...env,
      },
    },
    true,
  );
  proc.child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  onTestFinished(() => stopTracked(proc));
  const m = await waitForOutput(proc, () => output, /listening on 127\.0\.0\.1:(\d+)/, 'listening');
  return { url: `http://127.0.0.1:${m[1]}`, proc, dataDir, output: () => output };
}

export interface FixtureRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  bodyText?: string;
  form?: Record<string, string>;
}

export async function send(base: string, r: FixtureRequest): Promise<Response> {
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  let body: string | undefined;
  if (r.form !== undefined) {
    body = new URLSearchParams(r.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (r.bodyText !== undefined) body = r.bodyText;
  else if (r.body !== undefined) body = JSON.stringify(r.body);
  return fetch(`${base}${r.path}`, { method: r.method, headers, ...(body === undefined ? {} : { body }) });
}

export interface Frame {
  type: string;
  line?: string;
  data?: Record<string, unknown>;
}

export function frames(text: string): Frame[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Frame);
}
