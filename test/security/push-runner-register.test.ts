// Issue 15 (host side): a Baton server is an Automn host for push runners. Every request of the recorded
// fixtures host-register.json and host-runner-hosts-admin.json (real upstream traffic) is replayed against a
// real `baton server` process and must get upstream's status, error strings and answer shape (field names and
// types; values where they do not vary). Secrets are stored hashed: the database file never holds one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

const FIXTURES = new URL('../../../shared/fixtures/automn', import.meta.url).pathname;
const SECRETS: Record<string, string> = {
  '{{RUNNER_SECRET}}': 'fixture-runner-secret-r1',
  '{{RUNNER_SECRET_R2}}': 'fixture-runner-secret-r2',
  '{{RUNNER_SECRET_R2_ROTATED}}': 'fixture-rotated-secret-r2',
  '{{RUNNER_SECRET_CAPTURE}}': 'fixture-capture-secret-000',
};

interface Exchange {
  name: string;
  request: {
    method: string;
    path: string;
    headers: Record<string, string>;
    body?: unknown;
    bodyText?: string;
  };
  response: { status: number; headers: Record<string, string>; body?: unknown; bodyText?: string };
}

function load(file: string): Exchange[] {
  let text = readFileSync(join(FIXTURES, file), 'utf8');
  for (const [k, v] of Object.entries(SECRETS)) text = text.split(k).join(v);
  return (JSON.parse(text) as { exchanges: Exchange[] }).exchanges;
}

/** The shape of a JSON value: the same keys, recursively, with the type of each leaf (null stays null). */
/**
 * Baton's two extension fields of a runner host (docs/adr/0013): checked to be booleans, then removed so the rest
 * is compared with upstream's answer exactly. The fixtures' runners send no key, so both are false.
 */
function withoutExtensions(body: Record<string, unknown>): Record<string, unknown> {
  const hosts = [body.runnerHost, ...(Array.isArray(body.runnerHosts) ? body.runnerHosts : [])];
  for (const h of hosts as Array<Record<string, unknown> | undefined>) {
    if (h === undefined || h === null) continue;
    expect({ hasKey: h.hasKey, canReceiveSecrets: h.canReceiveSecrets }).toEqual({
      hasKey: false,
      canReceiveSecrets: false,
    });
    delete h.hasKey;
    delete h.canReceiveSecrets;
  }
  return body;
}

function shape(v: unknown): unknown {
  if (v === null) return null;
  if (Array.isArray(v)) return v.map(shape);
  if (typeof v === 'object')
    return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

/** The values that vary between recordings (times, generated ids and secrets, the caller's address). */
const VARYING = new Set([
  'createdAt',
  'updatedAt',
  'lastSeenAt',
  'disabledAt',
  'runnerUptime',
  'statusMessage',
]);
function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as object)
        .filter(([k]) => !VARYING.has(k))
        .map(([k, x]) => [k, stable(x)]),
    );
  return v;
}

let server: ServerProcess;

async function send(e: Exchange, auth: boolean) {
  const headers: Record<string, string> = { ...e.request.headers };
  if (auth) headers.authorization = `Bearer ${server.adminToken}`;
  const hasBody = e.request.body !== undefined && e.request.body !== null;
  if (!hasBody && e.request.bodyText === undefined) delete headers['content-type'];
  const res = await fetch(server.url + e.request.path, {
    method: e.request.method,
    headers,
    body: e.request.bodyText ?? (hasBody ? JSON.stringify(e.request.body) : undefined),
  });
  const text = await res.text();
  return { status: res.status, text, type: res.headers.get('content-type') ?? '' };
}

function admin(name: string): Exchange {
  const e = load('host-runner-hosts-admin.json').find((x) => x.name === name);
  if (!e) throw new Error(`no exchange named ${name}`);
  return e;
}

describe('push runners: the Automn host API of a Baton server', () => {
  // One server for the whole replay: the fixtures are one session in order (create r1, then register it...).
  it('replays the recorded admin and registration traffic with upstream answers; only hashes are stored', async () => {
    server = await startServerProcess();
    await adminReplay();
    await registerReplay();
    await listAfterRegistrations();
    await unauthenticated();
    await cliRoundTrip();
    databaseHoldsNoSecret();
  });
});

async function cli(args: string[]): Promise<{ code: number | null; output: string }> {
  const p = startTracked(`baton ${args.slice(0, 2).join(' ')}`, process.execPath, [BIN, ...args], {
    env: { ...process.env, BATON_SERVER: server.url, BATON_TOKEN: server.adminToken },
  });
  let output = '';
  p.child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  p.child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exit = await p.exited;
  return { code: exit.code, output };
}

/** `baton push-runners`: the same API from the CLI; a secret comes from a file, never from argv. */
async function cliRoundTrip() {
  const file = join(tempDir(), 'secret');
  writeFileSync(file, 'cli-chosen-secret-0001\n');
  const created = await cli([
    'push-runners',
    'create',
    '--name',
    'cli-one',
    '--id',
    'cli-1',
    '--secret-file',
    file,
  ]);
  expect(created).toMatchObject({ code: 0 });
  expect(created.output).toContain('cli-chosen-secret-0001\n');
  const short = join(tempDir(), 'short');
  writeFileSync(short, 'short');
  const refused = await cli(['push-runners', 'create', '--name', 'cli-two', '--secret-file', short]);
  expect(refused.code).not.toBe(0);
  expect(refused.output).toContain('Secret must be at least 12 characters long');
  const dup = await cli(['push-runners', 'create', '--name', 'cli-one']);
  expect(dup.code).not.toBe(0);
  expect(dup.output).toContain('Runner name or id already exists');

  const reg = (secret: string) =>
    fetch(`${server.url}/api/settings/runner-hosts/cli-1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret, endpoint: 'http://127.0.0.1:9/api/run' }),
    });
  expect((await reg('cli-chosen-secret-0001')).status).toBe(200);

  const rotated = await cli(['push-runners', 'rotate-secret', 'cli-1', '--json']);
  expect(rotated.code).toBe(0);
  const { secret, runnerHost } = JSON.parse(rotated.output) as {
    secret: string;
    runnerHost: { status: string };
  };
  expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
  expect(runnerHost.status).toBe('pending');
  // The old secret stops working at once (even though it verified a moment ago); the new one works.
  expect((await reg('cli-chosen-secret-0001')).status).toBe(401);
  expect((await reg(secret)).status).toBe(200);

  expect((await cli(['push-runners', 'disable', 'cli-1', '--reason', 'upgrade'])).output).toContain(
    'disabled',
  );
  expect((await reg(secret)).status).toBe(403);
  expect((await cli(['push-runners', 'enable', 'cli-1'])).code).toBe(0);
  expect((await reg(secret)).status).toBe(200);
  const list = await cli(['push-runners', 'list']);
  expect(list.output).toMatch(/cli-1 +cli-one +healthy/);
  expect(list.output).not.toContain(secret);
  expect((await cli(['push-runners', 'remove', 'cli-1'])).code).toBe(0);
  expect((await reg(secret)).status).toBe(404);
  const gone = await cli(['push-runners', 'remove', 'cli-1']);
  expect(gone.code).toBe(1);
  expect(gone.output).toContain("no push runner has the id or name 'cli-1'");
}

/** The admin API answers every recorded admin request as upstream did (status, error text, shape). */
async function adminReplay() {
  for (const e of load('host-runner-hosts-admin.json')) {
    if (e.request.path.startsWith('/api/auth/')) continue; // Baton authenticates with its own tokens.
    if (e.request.path === '/api/settings/runner-hosts' && e.request.method === 'GET') continue; // below
    const got = await send(e, true);
    expect({ name: e.name, status: got.status }).toEqual({ name: e.name, status: e.response.status });
    expect(got.type).toBe('application/json; charset=utf-8');
    if (e.response.status >= 400) {
      expect({ name: e.name, body: got.text }).toEqual({ name: e.name, body: e.response.bodyText });
      continue;
    }
    const body = withoutExtensions(JSON.parse(got.text) as Record<string, unknown>);
    const want = e.response.body as Record<string, unknown>;
    if (e.name.startsWith('rotate')) {
      // Upstream's r2 had registered before the rotation; ours has not: compare what a rotation sets.
      const wantHost = want.runnerHost as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(Object.keys(want));
      expect(body.secret).toBe(want.secret);
      expect(Object.keys(body.runnerHost as object)).toEqual(Object.keys(wantHost));
      expect(body.runnerHost).toMatchObject({
        status: wantHost.status,
        endpoint: wantHost.endpoint,
        lastSeenAt: wantHost.lastSeenAt,
        statusMessage: wantHost.statusMessage,
      });
      continue;
    }
    // A generated secret is as long as upstream's (32 characters of base64url).
    if (typeof body.secret === 'string' && !(e.request.body as Record<string, unknown>).secret)
      expect(body.secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect({ name: e.name, shape: shape(body) }).toEqual({ name: e.name, shape: shape(want) });
    if (e.request.body && (e.request.body as Record<string, unknown>).id !== undefined)
      expect({ name: e.name, body: stable(body) }).toEqual({ name: e.name, body: stable(want) });
    if (e.name.startsWith('disable') || e.name.startsWith('enable'))
      expect((body.runnerHost as Record<string, unknown>).statusMessage).toBe(
        (want.runnerHost as Record<string, unknown>).statusMessage,
      );
  }
}

/** Registration answers every recorded branch as upstream did, in upstream order. */
async function registerReplay() {
  for (const e of load('host-register.json')) {
    const got = await send(e, false);
    expect({ name: e.name, status: got.status }).toEqual({ name: e.name, status: e.response.status });
    if (e.response.status >= 400) {
      if (
        e.response.bodyText !== undefined &&
        e.response.headers['content-type']?.startsWith('application/json')
      )
        expect({ name: e.name, body: got.text }).toEqual({ name: e.name, body: e.response.bodyText });
      continue;
    }
    expect(got.type).toBe('application/json; charset=utf-8');
    const body = withoutExtensions(JSON.parse(got.text) as Record<string, unknown>);
    const want = e.response.body as Record<string, unknown>;
    expect({ name: e.name, shape: shape(body) }).toEqual({ name: e.name, shape: shape(want) });
    expect({ name: e.name, body: stable(body) }).toEqual({ name: e.name, body: stable(want) });
    const host = body.runnerHost as Record<string, unknown>;
    // statusMessage: the body's, or else who sent the heartbeat.
    if ((e.request.body as Record<string, unknown>).statusMessage === undefined)
      expect(host.statusMessage).toMatch(/^Heartbeat from \S+$/);
    else expect(host.statusMessage).toBe((e.request.body as Record<string, unknown>).statusMessage);
  }
}

/** The list shows the registered runner healthy within the 120 s window, and never a secret. */
async function listAfterRegistrations() {
  const got = await send(admin('list runner hosts after registrations (r1 healthy)'), true);
  expect(got.status).toBe(200);
  const body = withoutExtensions(JSON.parse(got.text) as Record<string, unknown>) as {
    runnerHosts: Array<Record<string, unknown>>;
    heartbeatWindowMs: number;
  };
  expect(body.heartbeatWindowMs).toBe(120_000);
  const r1 = body.runnerHosts.find((r) => r.id === 'r1')!;
  expect(r1).toMatchObject({
    status: 'healthy',
    isHealthy: true,
    isStale: false,
    endpoint: 'http://127.0.0.1:13030/api/run',
  });
  const off = body.runnerHosts.find((r) => r.id === 'r-off')!;
  expect(off).toMatchObject({ status: 'disabled', isHealthy: false });
  for (const secret of Object.values(SECRETS)) expect(got.text).not.toContain(secret);
  const wantShape = shape(
    (
      admin('list runner hosts after registrations (r1 healthy)').response.body as {
        runnerHosts: unknown[];
      }
    ).runnerHosts[0],
  );
  for (const r of body.runnerHosts) expect(Object.keys(r)).toEqual(Object.keys(wantShape as object));
}

/** Without an admin token the admin API refuses (401). */
async function unauthenticated() {
  const got = await send(admin('list without a session: 401'), false);
  expect(got.status).toBe(401);
}

/** The database holds only hashes of the secrets. */
function databaseHoldsNoSecret() {
  // Every file of the server's data dir: the database and its journal.
  const files = readdirSync(server.dataDir, { recursive: true, withFileTypes: true }).filter((f) =>
    f.isFile(),
  );
  expect(files.some((f) => f.name.endsWith('.db'))).toBe(true);
  for (const f of files) {
    const db = readFileSync(join(f.parentPath, f.name));
    for (const secret of [...Object.values(SECRETS), 'fixture-disabled-secret', 'fixture-enabled-secret'])
      expect({ file: f.name, secret, found: db.includes(Buffer.from(secret)) }).toMatchObject({
        found: false,
      });
  }
}
