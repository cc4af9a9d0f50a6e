// The server's master key: encrypts secret values at rest (AES-256-GCM, the secret's name as associated data,
// so a ciphertext cannot be moved to another name). From BATON_MASTER_KEY (32 bytes, base64 or hex), or a key
// file generated at first start with mode 0600.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface MasterKey {
  encrypt(name: string, value: string): string;
  decrypt(name: string, ciphertext: string): string;
}

function parseKey(text: string, where: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32)
    throw new Error(`${where} must hold 32 bytes (64 hex characters or 44 base64), got ${key.length} bytes`);
  return key;
}

/** `value` when given (BATON_MASTER_KEY), else the key file at `path`, created with a new random key if missing. */
export function loadMasterKey(o: { value?: string; path: string }): MasterKey {
  let key: Buffer;
  if (o.value) key = parseKey(o.value, 'BATON_MASTER_KEY');
  else if (existsSync(o.path)) key = parseKey(readFileSync(o.path, 'utf8'), o.path);
  else {
    key = randomBytes(32);
    mkdirSync(dirname(o.path), { recursive: true });
    writeFileSync(o.path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  return {
    encrypt(name, value) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(name, 'utf8'));
      const ct = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
      return `v1:${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64')}`;
    },
    decrypt(name, ciphertext) {
      if (!ciphertext.startsWith('v1:')) throw new Error(`secret '${name}' has an unknown encryption format`);
      const raw = Buffer.from(ciphertext.slice(3), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(name, 'utf8'));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}
