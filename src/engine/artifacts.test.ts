import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import { tempDir } from '../../test/helpers/temp.ts';
import type { ArtifactRef } from '../protocol/plan.ts';
import { ARCHIVE_LIMITS, archiveLimits } from './archive-limits.ts';
import { extractArtifacts } from './artifacts.ts';
import { makeTask, runCollected } from './test-support.ts';
import { writeRawZip, type RawEntry } from './test-zips.ts';

const REF: ArtifactRef = { id: 'a-1', task: 'compile', name: 'dist', sizeBytes: 0 };

async function yazlZip(path: string, build: (zip: ZipFile) => void): Promise<string> {
  const zip = new ZipFile();
  build(zip);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
  return path;
}

/** Extracts one raw zip into a fresh workspace beside a canary dir; returns the error and the workspace. */
async function extractRaw(entries: RawEntry[], limits = ARCHIVE_LIMITS) {
  const base = tempDir();
  const workspace = join(base, 'work', 'ws');
  mkdirSync(workspace, { recursive: true });
  const zip = join(base, 'in.zip');
  writeRawZip(zip, entries);
  const { error } = await extractArtifacts([REF], { fetch: () => Promise.resolve(zip), workspace, limits });
  return { error, workspace, base };
}

describe('artifacts: extraction into the work dir', () => {
  it('extracts each artifact before the first step, keeping directories and the executable bit', async () => {
    const dir = tempDir();
    const first = await yazlZip(join(dir, 'first.zip'), (zip) => {
      zip.addBuffer(Buffer.from('hello\n'), 'dist/hello.txt');
      zip.addBuffer(Buffer.from('#!/bin/sh\necho tool-ran\n'), 'bin/tool', { mode: 0o100755 });
      zip.addEmptyDirectory('cache');
    });
    const second = await yazlZip(join(dir, 'second.zip'), (zip) => {
      zip.addBuffer(Buffer.from('x'.repeat(100_000)), 'big/zeros.txt'); // compresses well, but small
    });
    const zips: Record<string, string> = { one: first, two: second };
    const fetched: string[] = [];
    const task = makeTask(
      [{ run: 'cat dist/hello.txt\n./bin/tool\ntest -d cache && echo cache-dir\nwc -c < big/zeros.txt' }],
      {
        artifacts: [
          { ...REF, id: 'one' },
          { ...REF, id: 'two', task: 'docs' },
        ],
      },
    );
    const { outcome, output } = await runCollected(task, {
      workRoot: tempDir(),
      fetchArtifact: (ref) => {
        fetched.push(ref.id);
        return Promise.resolve(zips[ref.id] ?? '');
      },
    });
    expect(outcome.status).toBe('succeeded');
    expect(fetched).toEqual(['one', 'two']);
    expect(output).toBe('hello\ntool-ran\ncache-dir\n100000\n');
  });

  it('fails the task with setup_failed naming the artifact and the entry, before any step', async () => {
    const zip = join(tempDir(), 'bad.zip');
    writeRawZip(zip, [
      { name: 'ok.txt', data: 'fine' },
      { name: '../../evil.txt', data: 'x' },
    ]);
    const task = makeTask([{ run: 'echo never' }], { artifacts: [REF] });
    const { outcome, output } = await runCollected(task, {
      workRoot: tempDir(),
      fetchArtifact: () => Promise.resolve(zip),
    });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'setup_failed' });
    expect(outcome.message).toBe(
      "artifact 'dist' of task 'compile' is unsafe: entry '../../evil.txt' has a '..' segment",
    );
    expect(output).toBe('');
  });

  it('fails the task when the artifact cannot be fetched, or no fetcher is given', async () => {
    const task = makeTask([{ run: 'echo never' }], { artifacts: [REF] });
    const none = await runCollected(task, { workRoot: tempDir() });
    expect(none.outcome.message).toBe(
      "artifact 'dist' of task 'compile' is needed, but this runner cannot fetch artifacts",
    );
    const failing = await runCollected(task, {
      workRoot: tempDir(),
      fetchArtifact: () => Promise.reject(new Error('HTTP 404')),
    });
    expect(failing.outcome).toMatchObject({ reason: 'setup_failed' });
    expect(failing.outcome.message).toBe("artifact 'dist' of task 'compile' could not be fetched: HTTP 404");
  });

  const hostile: Array<[string, RawEntry[], string]> = [
    ['a .. segment', [{ name: 'a/../../x', data: 'x' }], "entry 'a/../../x' has a '..' segment"],
    [
      'an absolute path',
      [{ name: '/tmp/baton-zip-slip', data: 'x' }],
      "entry '/tmp/baton-zip-slip' has an absolute path",
    ],
    ['a backslash', [{ name: '..\\..\\x', data: 'x' }], "entry '..\\..\\x' has a backslash in its name"],
    ['a drive letter', [{ name: 'C:/x', data: 'x' }], "entry 'C:/x' starts with a drive letter"],
    [
      'a NUL',
      [{ name: Buffer.from('a\0b'), data: 'x' }],
      "entry 'a\\u0000b' has a NUL character in its name",
    ],
    ['a symlink', [{ name: 'link', data: '/etc/passwd', unixMode: 0o120777 }], "entry 'link' is a symlink"],
    ['a FIFO', [{ name: 'pipe', unixMode: 0o010644 }], "entry 'pipe' is not a regular file or directory"],
    [
      'a duplicate name',
      [
        { name: 'same.txt', data: '1' },
        { name: './same.txt', data: '2' },
      ],
      "entry './same.txt' appears twice",
    ],
    [
      'a compression bomb',
      [{ name: 'bomb.bin', data: Buffer.alloc(4 * 1024 * 1024), method: 8 }],
      "entry 'bomb.bin' expands",
    ],
  ];
  for (const [what, entries, why] of hostile) {
    it(`refuses an archive with ${what}, writing nothing`, async () => {
      const good: RawEntry = { name: 'good.txt', data: 'fine' };
      const { error, workspace, base } = await extractRaw([good, ...entries]);
      expect(error).toContain(`artifact 'dist' of task 'compile' is unsafe: ${why}`);
      expect(readdirSync(workspace)).toEqual([]);
      expect(readdirSync(join(base, 'work'))).toEqual(['ws']);
      expect(existsSync('/tmp/baton-zip-slip')).toBe(false);
    });
  }

  it('refuses more entries than the limit of 10,000', async () => {
    const entries = Array.from({ length: 10_001 }, (_, i) => ({ name: `f${i}`, data: '' }));
    const { error } = await extractRaw(entries);
    expect(error).toBe(
      "artifact 'dist' of task 'compile' has 10001 entries; with earlier artifacts that is over the limit of 10000",
    );
  });

  it('refuses more uncompressed bytes than the limit, naming the entry that crosses it', async () => {
    const { error, workspace } = await extractRaw(
      [
        { name: 'a', data: 'x'.repeat(600) },
        { name: 'b', data: 'y'.repeat(600) },
      ],
      archiveLimits({ maxBytes: 1000 }),
    );
    expect(error).toBe(
      "artifact 'dist' of task 'compile' is unsafe: entry 'b' takes the uncompressed size over the limit of 1000 bytes",
    );
    expect(readdirSync(workspace)).toEqual([]);
  });

  it('stops extracting an entry that holds more bytes than it declares', async () => {
    const { error } = await extractRaw([
      { name: 'liar.bin', data: Buffer.alloc(64 * 1024), method: 8, declaredSize: 10 },
    ]);
    expect(error).toMatch(/^artifact 'dist' of task 'compile' cannot be read: too many bytes in the stream/);
  });

  it('accepts a well-formed archive made by hand: stored, deflated, directories and modes', async () => {
    const { error, workspace } = await extractRaw([
      { name: 'dir/', unixMode: 0o040755 },
      { name: 'dir/plain.txt', data: 'plain', unixMode: 0o100644 },
      { name: 'dir/packed.txt', data: 'p'.repeat(5000), method: 8 },
      { name: 'exe', data: '#!/bin/sh\n', unixMode: 0o100755 },
    ]);
    expect(error).toBeUndefined();
    expect(readFileSync(join(workspace, 'dir/plain.txt'), 'utf8')).toBe('plain');
    expect(readFileSync(join(workspace, 'dir/packed.txt'), 'utf8')).toBe('p'.repeat(5000));
    expect(statSync(join(workspace, 'exe')).mode & 0o777).toBe(0o755);
    expect(statSync(join(workspace, 'dir/plain.txt')).mode & 0o777).toBe(0o644);
  });
});
