// The blob store: artifact bytes on the filesystem under server-generated keys, written by streaming to a
// temporary file and renamed into place only when complete. A directory shared by replicas serves them all;
// object storage would implement the same interface.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BatonError } from '../protocol/errors.ts';

export interface StoredBlob {
  key: string;
  sizeBytes: number;
  sha256: string;
}

/** Inspects a complete body (at a local path) before it is stored; throwing stores nothing. */
export type BlobCheck = (path: string) => Promise<void>;

/**
 * Contract: `put` streams the body and either stores all of it under a new key or nothing (a body over
 * `maxBytes` rejects with `payload_too_large`; a `check` that throws rejects with its error); `open` streams a stored blob; keys are opaque and never
 * derived from user input.
 */
export interface BlobStore {
  put(body: Readable, maxBytes: number, check?: BlobCheck): Promise<StoredBlob>;
  open(key: string): Promise<{ stream: Readable; sizeBytes: number }>;
  delete(key: string): Promise<void>;
}

export function createFsBlobStore(root: string): BlobStore {
  const pathOf = (key: string) => {
    if (!/^[0-9a-f]{32}$/.test(key)) throw new BatonError('not_found', 'no such blob');
    return join(root, key.slice(0, 2), key);
  };
  return {
    async put(body, maxBytes, check) {
      const key = randomBytes(16).toString('hex');
      const final = pathOf(key);
      await mkdir(join(root, key.slice(0, 2)), { recursive: true });
      const temp = `${final}.part`;
      const hash = createHash('sha256');
      let size = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (size > maxBytes) {
            done(
              new BatonError(
                'payload_too_large',
                `the artifact is larger than the limit of ${maxBytes} bytes`,
              ),
            );
            return;
          }
          hash.update(chunk);
          done(null, chunk);
        },
      });
      try {
        await pipeline(body, meter, createWriteStream(temp, { mode: 0o600 }));
        await check?.(temp);
        await rename(temp, final);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
      return { key, sizeBytes: size, sha256: hash.digest('hex') };
    },
    async open(key) {
      const path = pathOf(key);
      const info = await stat(path).catch(() => undefined);
      if (!info) throw new BatonError('not_found', 'the artifact file is missing from the blob store');
      return { stream: createReadStream(path), sizeBytes: info.size };
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}
