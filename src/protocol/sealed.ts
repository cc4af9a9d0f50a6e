// Sealed boxes (libsodium `crypto_box_seal`): how the server sends secrets to exactly one runner. The runner
// makes an X25519 key pair at registration and keeps the private key; anything sealed to its public key can
// be opened only with that private key. Keys and boxes travel as base64 (URL-safe, no padding).
import { createRequire } from 'node:module';
import type * as Sodium from 'libsodium-wrappers';

// The package's ESM entry imports a file it does not ship (0.7.x): load its CommonJS build instead.
const require = createRequire(import.meta.url);
let loaded: Promise<typeof Sodium> | undefined;

async function sodium(): Promise<typeof Sodium> {
  loaded ??= (async () => {
    const s = require('libsodium-wrappers') as typeof Sodium;
    await s.ready;
    return s;
  })();
  return loaded;
}

/** Loads libsodium ahead of its first use (its WebAssembly takes tens of milliseconds to start). */
export async function warmUpSealing(): Promise<void> {
  await sodium();
}

export interface KeyPair {
  publicKey: string;
  privateKey: string;
}

export async function generateKeyPair(): Promise<KeyPair> {
  const s = await sodium();
  const kp = s.crypto_box_keypair();
  return { publicKey: s.to_base64(kp.publicKey), privateKey: s.to_base64(kp.privateKey) };
}

export async function seal(plaintext: string, publicKey: string): Promise<string> {
  const s = await sodium();
  return s.to_base64(s.crypto_box_seal(s.from_string(plaintext), s.from_base64(publicKey)));
}

/** Opens a box sealed to `keys.publicKey`; throws when it was sealed to another key or was altered. */
export async function openSealed(box: string, keys: KeyPair): Promise<string> {
  const s = await sodium();
  const opened = s.crypto_box_seal_open(
    s.from_base64(box),
    s.from_base64(keys.publicKey),
    s.from_base64(keys.privateKey),
  );
  return s.to_string(opened);
}

/** A public key as runners send it: 32 bytes, base64. */
export async function isPublicKey(value: string): Promise<boolean> {
  const s = await sodium();
  try {
    return s.from_base64(value).length === s.crypto_box_PUBLICKEYBYTES;
  } catch {
    return false;
  }
}

/** A value encrypted under a fresh random key (`crypto_secretbox`); the key is returned to be wrapped. */
export async function secretBox(
  plaintext: string,
): Promise<{ key: string; nonce: string; ciphertext: string }> {
  const s = await sodium();
  const key = s.crypto_secretbox_keygen();
  const nonce = s.randombytes_buf(s.crypto_secretbox_NONCEBYTES);
  const ciphertext = s.crypto_secretbox_easy(s.from_string(plaintext), nonce, key);
  return { key: s.to_base64(key), nonce: s.to_base64(nonce), ciphertext: s.to_base64(ciphertext) };
}

/** Opens a secretBox(); throws when the key is wrong or the box was altered. */
export async function openSecretBox(ciphertext: string, nonce: string, key: string): Promise<string> {
  const s = await sodium();
  return s.to_string(
    s.crypto_secretbox_open_easy(s.from_base64(ciphertext), s.from_base64(nonce), s.from_base64(key)),
  );
}
