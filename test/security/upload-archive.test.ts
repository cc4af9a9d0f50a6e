// Hostile upload archives: a runner (or anyone holding a runner token and a lease) sends zips crafted byte
// by byte to a real server process. Each unsafe kind is refused when it is uploaded, with `422 unsafe_archive`
// naming the first bad entry, and nothing is stored: no blob on disk, no artifact in the run. Then a real
// runner: a task that uploads a directory holding a symlink succeeds with the symlink left out (as
// docs/workflows.md says), and a task whose zip ends up with a duplicate entry fails `unsafe_archive`.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClient, type BatonClient } from '../../src/client/index.ts';
import { ARCHIVE_LIMITS } from '../../src/protocol/archive-rules.ts';
import { BatonError } from '../../src/protocol/errors.ts';
import { readZip, writeRawZip, type RawEntry } from '../../src/engine/test-zips.ts';
import {
  startRunnerProcess,
  startServerProcess,
  waitForRun,
  type ServerProcess,
} from '../helpers/cluster.ts';
import { tempDir } from '../helpers/temp.ts';

/** Every file under the server's blob store: what an upload left on disk. */
/** Artifact blobs the server stored (task logs live in the same directory, under `logs/`: docs/adr/0021). */
function storedBlobs(server: ServerProcess): string[] {
  const root = join(server.dataDir, 'blobs');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((path) => !path.startsWith(join(root, 'logs') + '/'));
}

async function leaseOn(
  server: ServerProcess,
): Promise<{ runner: BatonClient; lease: string; runId: string }> {
  const reg = await server.client.register(server.registrationToken, {
    name: `uploader-${randomBytes(4).toString('hex')}`,
    labels: ['hostile-uploader'],
    capacity: 1,
    version: 'test',
  });
  const runner = createClient({ baseUrl: server.url, token: reg.token });
  const run = await server.client.submitRun(`
tasks:
  build:
    runs_on: [hostile-uploader]
    run: echo hi
`);
  const offer = await runner.acquire(1, 5_000);
  if (!offer) throw new Error('no offer for the uploader');
  await runner.start(offer.lease);
  return { runner, lease: offer.lease, runId: run.id };
}

async function refusal(p: Promise<unknown>): Promise<BatonError & { status?: number }> {
  try {
    await p;
  } catch (error) {
    if (error instanceof BatonError) return error;
    throw error;
  }
  throw new Error('the server accepted the archive');
}

const file = (name: string, data = 'x'): RawEntry => ({ name, data });
const many = (n: number): RawEntry[] =>
  Array.from({ length: n }, (_, i) => file(`f${String(i).padStart(5, '0')}`, ''));

const CASES: Array<[string, RawEntry[], string, RegExp]> = [
  [
    'a path that climbs out',
    [file('ok.txt'), file('../../etc/evil')],
    '../../etc/evil',
    /has a '\.\.' segment/,
  ],
  ['an absolute path', [file('/etc/cron.d/evil')], '/etc/cron.d/evil', /has an absolute path/],
  ['a backslash', [file('..\\evil.txt')], '..\\evil.txt', /has a backslash in its name/],
  ['a symlink entry', [{ name: 'link', data: '/etc/passwd', unixMode: 0o120777 }], 'link', /is a symlink/],
  // Zip has no hardlink type (Info-ZIP stores a hardlink as a regular file); any other Unix type is refused.
  [
    'a device or other non-regular entry',
    [{ name: 'tty', data: '', unixMode: 0o020644 }],
    'tty',
    /is not a regular file or directory/,
  ],
  ['a duplicate name', [file('a.txt'), file('b.txt'), file('a.txt')], 'a.txt', /appears twice/],
  [
    'one entry more than the limit',
    many(ARCHIVE_LIMITS.maxEntries + 1),
    `f${String(ARCHIVE_LIMITS.maxEntries).padStart(5, '0')}`,
    new RegExp(`takes the number of entries over the limit of ${ARCHIVE_LIMITS.maxEntries}`),
  ],
  [
    // 12 MiB of random bytes claiming 1.1 GiB: a ratio under the limit, a total over it.
    'an uncompressed total over the limit',
    [
      file('small.txt'),
      {
        name: 'big.bin',
        data: randomBytes(12 * 1024 * 1024),
        method: 8,
        declaredSize: 1100 * 1024 * 1024,
      },
    ],
    'big.bin',
    new RegExp(`takes the uncompressed size over the limit of ${ARCHIVE_LIMITS.maxBytes} bytes`),
  ],
  [
    'a zip bomb',
    [{ name: 'bomb.bin', data: Buffer.alloc(8 * 1024 * 1024), method: 8 }],
    'bomb.bin',
    new RegExp(`expands \\d+:1, over the limit of ${ARCHIVE_LIMITS.maxRatio}:1`),
  ],
  [
    // 8 MiB of zeros whose headers claim 4 KiB: the declared ratio passes, the bytes do not.
    'a zip bomb whose headers lie about its size',
    [
      file('ok.txt'),
      { name: 'liar.bin', data: Buffer.alloc(8 * 1024 * 1024), method: 8, declaredSize: 4096 },
    ],
    'liar.bin',
    /does not hold what its header declares: too many bytes in the stream/,
  ],
];

describe('upload archives are checked when uploaded', () => {
  it('each unsafe kind is refused with 422 unsafe_archive naming the first bad entry, and nothing is stored', async () => {
    const server = await startServerProcess();
    const { runner, lease, runId } = await leaseOn(server);
    const dir = tempDir('baton-hostile-zips-');
    for (const [kind, entries, entry, why] of CASES) {
      const path = join(dir, `${kind.replace(/\W+/g, '-')}.zip`);
      writeRawZip(path, entries);
      // Renewed before each upload, as a real runner's heartbeats would: writing these zips can take longer
      // than the test server's 4 s lease on a loaded machine.
      await runner.heartbeat(lease);
      const err = await refusal(runner.uploadArtifact(lease, 'uploads', path));
      expect({ kind, code: err.code, status: err.status }).toEqual({
        kind,
        code: 'unsafe_archive',
        status: 422,
      });
      expect(err.message, kind).toContain(`entry '${entry}'`);
      expect(err.message, kind).toMatch(why);
      expect(err.details['entry'], kind).toBe(entry);
      expect(storedBlobs(server), kind).toEqual([]);
    }
    const notZip = join(dir, 'not-a-zip.zip');
    writeFileSync(notZip, 'this is not a zip archive at all');
    const err = await refusal(runner.uploadArtifact(lease, 'uploads', notZip));
    expect(err.code).toBe('unsafe_archive');
    expect(err.message).toMatch(/artifact 'uploads' is not a readable zip archive/);
    expect((await server.client.listArtifacts(runId)).artifacts).toEqual([]);
    expect(storedBlobs(server)).toEqual([]);

    // The same lease can still upload a well-formed archive: it is stored and listed.
    const good = join(dir, 'good.zip');
    writeRawZip(good, [file('dist/'), file('dist/app.js', 'console.log(1)'), file('README', 'ok')]);
    const stored = await runner.uploadArtifact(lease, 'uploads', good);
    expect(stored.sizeBytes).toBeGreaterThan(0);
    expect((await server.client.listArtifacts(runId)).artifacts.map((a) => a.name)).toEqual(['uploads']);
    expect(storedBlobs(server)).toHaveLength(1);
  });

  it('a real runner: a symlink inside an uploaded dir is left out; a zip the server refuses fails the task as unsafe_archive', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'zipper');
    const run = await server.client.submitRun(String.raw`
tasks:
  linked:
    run: |
      mkdir out
      echo built > out/app.txt
      ln -s /etc/passwd out/passwd
    uploads: [out]
  collide:
    run: |
      mkdir a
      echo one > 'a\b'
      echo two > a/b
    uploads: ['a\b', a]
`);
    const result = await waitForRun(server.client, run.id);

    expect(result.results['linked']?.status).toBe('succeeded');
    expect(await server.client.taskLog(run.id, 'linked')).toContain(
      "upload: skipped symlink 'out/passwd' (symlinks inside an upload are not followed)",
    );
    const { artifacts } = await server.client.listArtifacts(run.id);
    expect(artifacts.map((a) => a.task)).toEqual(['linked']);
    const dest = join(tempDir('baton-linked-'), 'linked.zip');
    await server.client.downloadArtifact(run.id, artifacts[0]!.id, dest);
    expect([...(await readZip(dest)).keys()]).toEqual(['out/app.txt']);

    // yazl writes `a\b` as `a/b`, so the zip holds `a/b` twice: refused on upload, the task fails with that reason.
    expect(result.results['collide']).toMatchObject({ status: 'failed', reason: 'unsafe_archive' });
    expect(result.results['collide']?.message).toMatch(/entry 'a\/b' appears twice/);
    expect(await server.client.taskLog(run.id, 'collide')).toMatch(
      /uploading the task's files failed: .*entry 'a\/b' appears twice/,
    );
    expect(storedBlobs(server)).toHaveLength(1);
  });
});
