// The runner's key pair: made at registration, the private key kept in its state dir (mode 0600) and never
// sent anywhere. Secrets arrive sealed to the public key.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, type KeyPair } from '../protocol/sealed.ts';

export function identityPath(stateDir: string): string {
  return join(stateDir, 'runner-key.json');
}

export async function createIdentity(stateDir: string): Promise<KeyPair> {
  const keys = await generateKeyPair();
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = identityPath(stateDir);
  writeFileSync(path, JSON.stringify(keys) + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
  return keys;
}

/** The key pair, or undefined for a runner registered before runners had one (it cannot receive secrets). */
export function loadIdentity(stateDir: string): KeyPair | undefined {
  const path = identityPath(stateDir);
  if (!existsSync(path)) return undefined;
  const keys = JSON.parse(readFileSync(path, 'utf8')) as KeyPair;
  if (typeof keys.publicKey !== 'string' || typeof keys.privateKey !== 'string')
    throw new Error(`${path} is not a runner key pair`);
  return keys;
}
