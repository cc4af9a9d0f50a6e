// Push-runner secrets: generated or chosen (at least 12 characters), kept only as a salted scrypt hash, and
// checked in constant time. A runner heartbeats with its secret every few seconds, so the last secret that
// verified is remembered (as a sha256, in memory) to spare a scrypt per heartbeat.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

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
