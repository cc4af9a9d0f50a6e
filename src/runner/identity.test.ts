import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertNoIdentity, identityPath, loadIdentity, newIdentity, saveIdentity } from './identity.ts';

const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'baton-identity-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('runner identity', () => {
  it('saves the key pair with its owner (mode 0600) and loads it back for that runner only', async () => {
    const state = join(dir(), 'r1');
    const keys = await newIdentity();
    saveIdentity(state, 'r1', keys);
    expect(statSync(identityPath(state)).mode & 0o777).toBe(0o600);
    expect(loadIdentity(state, 'r1')).toEqual({ keys, ownerRunnerId: 'r1' });
    expect(() => loadIdentity(state, 'r2')).toThrow(
      /holds the key pair of runner r1, not of this runner \(r2\)/,
    );
  });

  it('never replaces a key file: a second save or a chosen dir holding a key is refused, bytes unchanged', async () => {
    const state = dir();
    saveIdentity(state, 'r1', await newIdentity());
    const before = readFileSync(identityPath(state));
    expect(() => saveIdentity(state, 'r2', { publicKey: 'x', privateKey: 'y' })).toThrow(
      /already exists and holds the key pair of runner r1/,
    );
    expect(() => assertNoIdentity(state)).toThrow(/choose another --state-dir/);
    expect(readFileSync(identityPath(state)).equals(before)).toBe(true);
  });

  it('reads a key file of the old layout (no owner) and says so; none at all is undefined', async () => {
    const state = dir();
    expect(loadIdentity(state, 'r1')).toBeUndefined();
    const keys = await newIdentity();
    writeFileSync(identityPath(state), JSON.stringify(keys));
    expect(loadIdentity(state, 'r1')).toEqual({ keys, ownerRunnerId: undefined });
  });
});
