// The runner's secret sources (Vault, Baton's store) run by the engine's `secret` task type, against a fake Vault (test/helpers/fake-vault.ts: there
// is no Vault server here) and Baton's own store: KV v1 and v2, token and AppRole auth, namespaces, one key or
// every key, and the failures a user must be able to act on — each naming the path and Vault's errors.

import { afterEach, describe, expect, it } from 'vitest';
import { startFakeVault, type FakeVault, type FakeVaultOptions } from '../../../test/helpers/fake-vault.ts';
import { tempDir } from '../../../test/helpers/temp.ts';
import { makeTask, runCollected } from '../../engine/test-support.ts';
import { SECRET_SOURCES } from './index.ts';

const TOKEN = 'hvs.root-token-0a1b2c3d';
const PASSWORD = 'pw-vault-4f8e2a91c7';
const API_KEY = 'key-vault-77d1e0b3a5';
let vault: FakeVault | undefined;

afterEach(async () => {
  await vault?.close();
  vault = undefined;
});

async function fakeVault(extra: Partial<FakeVaultOptions> = {}): Promise<FakeVault> {
  vault = await startFakeVault({
    tokens: [TOKEN],
    kv2: { secret: { 'app/db': { password: PASSWORD, api_key: API_KEY } } },
    kv1: { kv: { 'legacy/db': { password: PASSWORD } } },
    ...extra,
  });
  return vault;
}

function secretTask(
  driverSpec: Record<string, unknown>,
  secrets: Record<string, string> = {},
  timeoutMs?: number,
) {
  return {
    task: makeTask([], { type: 'secret', driverSpec, ...(timeoutMs === undefined ? {} : { timeoutMs }) }),
    secrets,
  };
}

async function run(
  driverSpec: Record<string, unknown>,
  secrets: Record<string, string> = {},
  timeoutMs?: number,
) {
  const { task } = secretTask(driverSpec, secrets, timeoutMs);
  return runCollected(task, { workRoot: tempDir(), secrets, secretSources: SECRET_SOURCES });
}

describe('secret task (fake Vault)', () => {
  it('reads one key of a KV v2 secret with a token given as a sealed secret, and never prints it', async () => {
    const v = await fakeVault();
    const { outcome, system, output } = await run(
      {
        source: 'vault',
        address: v.url,
        path: 'app/db',
        key: 'password',
        engine: 'kv2',
        auth: { token: '${{ secrets.VAULT_TOKEN }}' },
      },
      { VAULT_TOKEN: TOKEN },
    );
    expect(outcome).toMatchObject({
      status: 'succeeded',
      outputs: { value: PASSWORD },
      confidential: ['value'],
    });
    expect(system).toContain("secret 'app/db' fetched from vault: output 'value'");
    expect(system + output).not.toContain(PASSWORD);
    expect(v.requests).toEqual([{ method: 'GET', path: '/v1/secret/data/app/db', token: TOKEN }]);
  });

  it('gives one confidential output per key when no key is named, and reads KV v1 from its mount', async () => {
    const v = await fakeVault();
    const all = await run({
      source: 'vault',
      address: v.url,
      path: 'app/db',
      engine: 'kv2',
      auth: { token: TOKEN },
    });
    expect(all.outcome.outputs).toEqual({ password: PASSWORD, api_key: API_KEY });
    expect(all.outcome.confidential.sort()).toEqual(['api_key', 'password']);
    const v1 = await run({
      source: 'vault',
      address: `${v.url}/`,
      path: '/legacy/db',
      engine: 'kv1',
      mount: 'kv',
      key: 'password',
      auth: { token: TOKEN },
    });
    expect(v1.outcome.outputs).toEqual({ value: PASSWORD });
    expect(v.requests.at(-1)?.path).toBe('/v1/kv/legacy/db');
  });

  it('logs in with AppRole and sends the namespace on every request', async () => {
    const v = await fakeVault({
      namespace: 'team-a',
      approle: { roleId: 'role-1234', secretId: 'sid-98765432' },
    });
    const { outcome } = await run(
      {
        source: 'vault',
        address: v.url,
        path: 'app/db',
        key: 'api_key',
        engine: 'kv2',
        namespace: 'team-a',
        auth: { approle: { role_id: 'role-1234', secret_id: '${{ secrets.SECRET_ID }}' } },
      },
      { SECRET_ID: 'sid-98765432' },
    );
    expect(outcome).toMatchObject({ status: 'succeeded', outputs: { value: API_KEY } });
    expect(v.requests.map((r) => [r.method, r.path, r.namespace])).toEqual([
      ['POST', '/v1/auth/approle/login', 'team-a'],
      ['GET', '/v1/secret/data/app/db', 'team-a'],
    ]);
    expect(v.requests[1]!.token).toMatch(/^hvs\./);
  });

  it("fails naming the path and Vault's errors: a wrong token, a wrong namespace, a missing path or key, a bad login", async () => {
    const v = await fakeVault({ approle: { roleId: 'role-1234', secretId: 'sid-98765432' } });
    const base = { source: 'vault', address: v.url, engine: 'kv2' };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { ...base, path: 'app/db', auth: { token: 'hvs.wrong-token-000' } },
        /'secret\/app\/db'.*403: permission denied/,
      ],
      [{ ...base, path: 'nope', auth: { token: TOKEN } }, /'secret\/nope'.*404/],
      [
        { ...base, path: 'app/db', key: 'missing', auth: { token: TOKEN } },
        /has no key 'missing'; it has: password, api_key/,
      ],
      [
        { ...base, path: 'app/db', auth: { approle: { role_id: 'role-1234', secret_id: 'bad-secret-id' } } },
        /AppRole login at 'auth\/approle\/login'.*400: invalid role or secret ID/,
      ],
      [
        { ...base, address: 'http://127.0.0.1:1', path: 'app/db', auth: { token: TOKEN } },
        /cannot reach http:\/\/127\.0\.0\.1:1/,
      ],
      [{ ...base, engine: 'kv1', path: 'app/db', auth: { token: TOKEN } }, /'secret\/app\/db'.*404/],
    ];
    for (const [spec, message] of cases) {
      const { outcome, system } = await run(spec);
      expect(outcome.status, JSON.stringify(spec)).toBe('failed');
      expect(outcome.reason).toBe('setup_failed');
      expect(outcome.message).toMatch(message);
      expect(system).toMatch(message);
      expect(outcome.outputs).toEqual({});
    }
    const ns = await fakeVault({ namespace: 'team-a' });
    const wrongNs = await run({
      ...base,
      address: ns.url,
      path: 'app/db',
      namespace: 'team-b',
      auth: { token: TOKEN },
    });
    expect(wrongNs.outcome.message).toMatch(/403: permission denied/);
  });

  it('refuses an answer past the size limit, stops at the task timeout, and refuses keys that cannot be outputs', async () => {
    const v = await fakeVault({
      huge: { 'secret/big': 2 * 1024 * 1024 },
      hang: ['secret/slow'],
      kv2: { secret: { odd: { 'not-a-name': 'value-1234567' }, short: { pin: '12' } } },
    });
    const base = { source: 'vault', address: v.url, engine: 'kv2', auth: { token: TOKEN } };
    const big = await run({ ...base, path: 'big' });
    expect(big.outcome.message).toMatch(/larger than the limit of 1048576 bytes/);
    const slow = await run({ ...base, path: 'slow' }, {}, 500);
    expect(slow.outcome).toMatchObject({ status: 'timed_out', reason: 'timeout' });
    expect(slow.outcome.message).toMatch(/took longer than 500 ms/);
    const odd = await run({ ...base, path: 'odd' });
    expect(odd.outcome.message).toMatch(/key 'not-a-name', which cannot be an output name/);
    const short = await run({ ...base, path: 'short' });
    expect(short.outcome.message).toMatch(/too short to be masked safely/);
    expect(short.system).not.toContain("'12'");
  });
});

describe('secret task (Baton store)', () => {
  it("gives the Baton secret the server sealed to this runner as 'value'", async () => {
    const { outcome, system } = await run(
      { source: 'baton', name: 'DB_PASSWORD', value: '${{ secrets.DB_PASSWORD }}' },
      { DB_PASSWORD: PASSWORD },
    );
    expect(outcome).toMatchObject({
      status: 'succeeded',
      outputs: { value: PASSWORD },
      confidential: ['value'],
    });
    expect(system).not.toContain(PASSWORD);
    const missing = await run({ source: 'baton', name: 'NOPE', value: '${{ secrets.NOPE }}' });
    expect(missing.outcome.message).toMatch(/the Baton secret 'NOPE' is not set on the server/);
  });
});
