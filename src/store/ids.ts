// Identifiers: time-ordered (sortable by creation) with 80 random bits, Crockford base32, 26 characters.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export function newId(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(10);
  let rand = '';
  for (let i = 0; i < 16; i++) {
    // 16 characters × 5 bits = 80 bits drawn from 10 random bytes.
    const bit = i * 5;
    const byte = bit >> 3;
    const shift = bit & 7;
    const v = (((bytes[byte] ?? 0) << 8) | (bytes[byte + 1] ?? 0)) >> (11 - shift);
    rand += ALPHABET[v & 31];
  }
  return time + rand;
}
