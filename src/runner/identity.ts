// The runner's key pair: made at registration, the private key kept in its state dir (mode 0600) and never
// sent anywhere. Secrets arrive sealed to the public key.
//
// One state dir belongs to one runner: the key file records the id of the runner it was made for, is created
// exclusively (registering never replaces another runner's key), and `runner start` refuses a key file that
// names another runner. Key files written before ids were recorded (the old shared `.baton-state/` layout)
// are still read, and `ownerRunnerId` is then undefined so the caller can warn.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, type KeyPair } from '../protocol/sealed.ts';

/** The state dir of every runner registered next to a config: `<config dir>/.baton-state`. */
export const STATE_ROOT = '.baton-state';

export function identityPath(stateDir: string): string {
  return join(stateDir, 'runner-key.json');
}

interface IdentityFile extends KeyPair {
  /** The runner this key pair was made for (absent in files written before runners recorded it). */
  runnerId?: string;
}

export class IdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityError';
  }
}

/** A key pair in memory; registration sends its public half, then `saveIdentity` keeps it. */
export async function newIdentity(): Promise<KeyPair> {
  return generateKeyPair();
}

/** Refuses a state dir that already holds a key pair (of another runner, or of this config's previous one). */
export function assertNoIdentity(stateDir: string): void {
  const path = identityPath(stateDir);
  if (!existsSync(path)) return;
  throw new IdentityError(`${path} already exists${ownerSuffix(path)}; ${KEEP_OUT}`);
}

const KEEP_OUT =
  'a state dir belongs to one runner and its key is never replaced: choose another --state-dir, or unregister that runner and remove the directory first';

function ownerSuffix(path: string): string {
  try {
    const f = JSON.parse(readFileSync(path, 'utf8')) as IdentityFile;
    return typeof f.runnerId === 'string' ? ` and holds the key pair of runner ${f.runnerId}` : '';
  } catch {
    return '';
  }
}

/**
 * Writes the key pair of `runnerId` into its state dir with an exclusive create: if any key file is there
 * already (another runner's), nothing is written and an IdentityError says so.
 */
export function saveIdentity(stateDir: string, runnerId: string, keys: KeyPair): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = identityPath(stateDir);
  const file: IdentityFile = { runnerId, publicKey: keys.publicKey, privateKey: keys.privateKey };
  try {
    writeFileSync(path, JSON.stringify(file) + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new IdentityError(`${path} already exists${ownerSuffix(path)}; ${KEEP_OUT}`);
    throw err;
  }
  chmodSync(path, 0o600);
}

export interface LoadedIdentity {
  keys: KeyPair;
  /** The runner recorded in the key file; undefined for a key file of the old shared layout. */
  ownerRunnerId: string | undefined;
}

/**
 * The key pair of runner `runnerId`, or undefined for a runner registered before runners had one (it cannot
 * receive secrets). A key file recorded for another runner is refused: its secrets would not open.
 */
export function loadIdentity(stateDir: string, runnerId: string): LoadedIdentity | undefined {
  const path = identityPath(stateDir);
  if (!existsSync(path)) return undefined;
  let f: IdentityFile;
  try {
    f = JSON.parse(readFileSync(path, 'utf8')) as IdentityFile;
  } catch (err) {
    throw new IdentityError(`${path} is not a runner key pair (${(err as Error).message})`);
  }
  if (typeof f.publicKey !== 'string' || typeof f.privateKey !== 'string')
    throw new IdentityError(`${path} is not a runner key pair`);
  if (f.runnerId !== undefined && f.runnerId !== runnerId)
    throw new IdentityError(
      `${path} holds the key pair of runner ${f.runnerId}, not of this runner (${runnerId}): two runner configs point at one state dir. Give each config its own "state_dir", or register this runner again (baton runner register), which makes one under ${STATE_ROOT}/<runner id>/`,
    );
  return { keys: { publicKey: f.publicKey, privateKey: f.privateKey }, ownerRunnerId: f.runnerId };
}
