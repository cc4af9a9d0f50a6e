import { describe, expect, it } from 'vitest';
import { generateKeyPair, isPublicKey, openSealed, seal } from './sealed.ts';

describe('sealed boxes', () => {
  it('only the runner whose public key sealed a payload can open it', async () => {
    const a = await generateKeyPair();
    const b = await generateKeyPair();
    const box = await seal('{"TOKEN":"hunter2-Sup3r-s3cret"}', a.publicKey);
    expect(box).not.toContain('hunter2');
    expect(await openSealed(box, a)).toBe('{"TOKEN":"hunter2-Sup3r-s3cret"}');
    await expect(openSealed(box, b)).rejects.toThrow();
    await expect(openSealed(box, { publicKey: a.publicKey, privateKey: b.privateKey })).rejects.toThrow();
  });

  it('a box altered in transit does not open', async () => {
    const a = await generateKeyPair();
    const box = await seal('payload-value', a.publicKey);
    const flipped = box.slice(0, 40) + (box[40] === 'A' ? 'B' : 'A') + box.slice(41);
    await expect(openSealed(flipped, a)).rejects.toThrow();
  });

  it('accepts only 32-byte public keys', async () => {
    expect(await isPublicKey((await generateKeyPair()).publicKey)).toBe(true);
    expect(await isPublicKey('not-a-key')).toBe(false);
    expect(await isPublicKey(Buffer.alloc(16).toString('base64url'))).toBe(false);
  });
});
