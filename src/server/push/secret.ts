// Push-runner secrets: generated or chosen (at least 12 characters), checked against a salted scrypt hash in
// constant time. A runner heartbeats with its secret every few seconds, so the last secret that verified is
// remembered (as a sha256, in memory) to spare a scrypt per heartbeat. The dispatcher must present the secret
// to the runner's `/api/run`, so once a runner registered with it, it is also kept encrypted with the master
// key (never in plain text): any replica, and the server after a restart, can dispatch to it at once.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { MasterKey } from '../master-key.ts';

export const PUSH_SECRET_MIN_LENGTH = 12;
export const PUSH_SECRET_MAX_LENGTH = 512;
const KEY_LENGTH = 32;

function derive(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEY_LENGTH, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export function generatePushSecret(): string {
  return randomBytes(24).toString('base64url');
}

export async function hashPushSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64url')}$${(await derive(secret, salt)).toString('base64url')}`;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Verifies secrets against stored hashes; `verified` remembers the last good secret per stored hash. */
export class PushSecretVerifier {
  private readonly verified = new Map<string, Buffer>();

  async verify(secret: string, stored: string): Promise<boolean> {
    const known = this.verified.get(stored);
    if (known && timingSafeEqual(known, sha256(secret))) return true;
    const [scheme, salt, hash] = stored.split('$');
    if (scheme !== 'scrypt' || !salt || !hash) return false;
    const want = Buffer.from(hash, 'base64url');
    const got = await derive(secret, Buffer.from(salt, 'base64url'));
    if (got.length !== want.length || !timingSafeEqual(got, want)) return false;
    // One entry per stored hash: a rotation leaves the old one unreachable, so bound the map instead.
    if (this.verified.size >= 10_000) this.verified.clear();
    this.verified.set(stored, sha256(secret));
    return true;
  }
}

/** The associated data of a push runner's sealed secret: a ciphertext cannot be moved to another runner or a secret. */
const sealedName = (runnerId: string) => `push-runner:${runnerId}`;

export function sealPushSecret(masterKey: MasterKey, runnerId: string, secret: string): string {
  return masterKey.encrypt(sealedName(runnerId), secret);
}

/** The secret runner `runnerId` registered with, or undefined when none is kept (or it does not open). */
export function openPushSecret(
  masterKey: MasterKey,
  runnerId: string,
  sealed: string | null,
): string | undefined {
  if (sealed === null) return undefined;
  try {
    return masterKey.decrypt(sealedName(runnerId), sealed);
  } catch {
    return undefined;
  }
}
