// Zip files for the engine's tests: well-formed ones through yazl, hostile ones byte by byte (yazl
// refuses to write traversal names, symlinks or lying sizes, which is what these tests need).

import { writeFileSync } from 'node:fs';
import { deflateRawSync, crc32 } from 'node:zlib';
import { openPromise } from 'yauzl';

export interface RawEntry {
  name: string | Buffer;
  data?: Buffer | string;
  /** 8 = deflate, 0 = stored (default). */
  method?: 0 | 8;
  /** Unix mode (type and permissions); sets "made by Unix" and the external attributes. */
  unixMode?: number;
  /** The uncompressed size the headers claim (default: the real one). */
  declaredSize?: number;
}

/** Writes a zip built byte by byte from `entries` to `path`. */
export function writeRawZip(path: string, entries: RawEntry[]): void {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.isBuffer(entry.name) ? entry.name : Buffer.from(entry.name, 'utf8');
    const data = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data ?? '', 'utf8');
    const method = entry.method ?? 0;
    const stored = method === 8 ? deflateRawSync(data) : data;
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(entry.declaredSize ?? data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, stored);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(entry.unixMode === undefined ? 20 : (3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(entry.declaredSize ?? data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.unixMode ?? 0) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  writeFileSync(path, Buffer.concat([...locals, directory, end]));
}

/** Every entry of a zip: name → content (directories: ''), with the Unix mode. */
export async function readZip(path: string): Promise<Map<string, { text: string; mode: number }>> {
  const zip = await openPromise(path, { lazyEntries: true, autoClose: false });
  const found = new Map<string, { text: string; mode: number }>();
  try {
    for await (const entry of zip.eachEntry()) {
      const mode = (entry.externalFileAttributes >>> 16) & 0o7777;
      if (entry.fileName.endsWith('/')) {
        found.set(entry.fileName, { text: '', mode });
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
      found.set(entry.fileName, { text: Buffer.concat(chunks).toString('utf8'), mode });
    }
  } finally {
    zip.close();
  }
  return found;
}
