import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { makeTask, runCollected } from './test-support.ts';
import { readZip } from './test-zips.ts';
import { removeUpload } from './work-dir.ts';

const MAKE_TREE = [
  'mkdir -p dist/sub dist/empty',
  'printf "alpha" > dist/a.txt',
  'printf "beta" > dist/sub/b.txt',
  'printf "hidden" > dist/.hidden',
  'printf "#!/bin/sh\\n" > dist/run.sh && chmod 755 dist/run.sh',
  'printf "report" > report.txt',
  'printf "l1" > one.log && printf "l2" > two.log',
  'printf "not uploaded" > other.txt',
].join('\n');

describe('runTask: uploads', () => {
  it('zips declared paths, directories recursively and globs, with names relative to the work dir', async () => {
    const root = tempDir();
    const task = makeTask([{ run: MAKE_TREE }], { uploads: ['dist', 'report.txt', '*.log'] });
    const { outcome, system } = await runCollected(task, { workRoot: root });
    expect(outcome.status).toBe('succeeded');
    const upload = outcome.upload;
    if (upload === undefined) throw new Error('no upload');
    const entries = await readZip(upload.path);
    expect([...entries.keys()].sort()).toEqual([
      'dist/.hidden',
      'dist/a.txt',
      'dist/empty/',
      'dist/run.sh',
      'dist/sub/b.txt',
      'one.log',
      'report.txt',
      'two.log',
    ]);
    expect(entries.get('dist/sub/b.txt')?.text).toBe('beta');
    expect(entries.get('one.log')?.text).toBe('l1');
    expect(entries.get('dist/run.sh')?.mode).toBe(0o755);
    expect(upload.entries).toBe(8);
    expect(upload.bytes).toBeGreaterThan(0);
    expect(system).toContain('uploads: 8 entries');
    // Only the archive outlives the task, and removeUpload takes it and its side dir.
    expect(readdirSync(root)).toHaveLength(1);
    await removeUpload(upload.path);
    expect(readdirSync(root)).toEqual([]);
  });

  it('fails the task naming a declared path that does not exist', async () => {
    const root = tempDir();
    const task = makeTask([{ run: 'echo hi' }], { uploads: ['output.txt'] });
    const { outcome } = await runCollected(task, { workRoot: root });
    expect(outcome).toMatchObject({
      status: 'failed',
      reason: 'setup_failed',
      message: "upload 'output.txt' not found in the work dir",
    });
    expect(outcome.upload).toBeUndefined();
    expect(readdirSync(root)).toEqual([]);
  });

  it('fails the task naming a glob that matches nothing', async () => {
    const task = makeTask([{ run: 'echo hi' }], { uploads: ['dist/*.tgz'] });
    const { outcome } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.message).toBe("upload 'dist/*.tgz' matched nothing in the work dir");
  });

  it('refuses a declared symlink that leads outside the work dir, and paths that climb out', async () => {
    const outside = tempDir();
    const viaLink = makeTask([{ run: `ln -s ${outside} escape` }], { uploads: ['escape'] });
    const first = await runCollected(viaLink, { workRoot: tempDir() });
    expect(first.outcome).toMatchObject({ status: 'failed', reason: 'setup_failed' });
    expect(first.outcome.message).toBe(
      "upload 'escape' leads outside the work dir through a symlink; refused",
    );

    for (const path of ['../x', '/etc/passwd']) {
      const task = makeTask([{ run: 'true' }], { uploads: [path] });
      const { outcome } = await runCollected(task, { workRoot: tempDir() });
      expect(outcome.message).toBe(`upload '${path}' is outside the work dir: use a path relative to it`);
    }
  });

  it('skips symlinks inside an uploaded directory with a warning, never following them', async () => {
    const task = makeTask(
      [{ run: 'mkdir d\nprintf ok > d/real.txt\nln -s /etc/passwd d/passwd\nln -s /etc d/etc' }],
      {
        uploads: ['d'],
      },
    );
    const { outcome, system } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.status).toBe('succeeded');
    expect([...(await readZip(outcome.upload?.path ?? '')).keys()]).toEqual(['d/real.txt']);
    expect(system).toContain(
      "upload: skipped symlink 'd/passwd' (symlinks inside an upload are not followed)",
    );
    expect(system).toContain("upload: skipped symlink 'd/etc'");
  });

  it('fails naming the limit when the uploads hold too many entries or bytes', async () => {
    const many = makeTask([{ run: 'touch a b c' }], { uploads: ['*'] });
    const first = await runCollected(many, { workRoot: tempDir(), archiveLimits: { maxEntries: 2 } });
    expect(first.outcome.message).toBe('uploads hold more than 2 entries, the limit');
    const big = makeTask([{ run: 'head -c 2000 /dev/zero > big' }], { uploads: ['big'] });
    const second = await runCollected(big, { workRoot: tempDir(), archiveLimits: { maxBytes: 1000 } });
    expect(second.outcome.message).toBe('uploads hold more than 1000 bytes, the limit');
  });

  it('uploads nothing when the task failed', async () => {
    const root = tempDir();
    const task = makeTask([{ run: 'touch out.txt\nexit 1' }], { uploads: ['out.txt'] });
    const { outcome } = await runCollected(task, { workRoot: root });
    expect(outcome.status).toBe('failed');
    expect(outcome.upload).toBeUndefined();
    expect(existsSync(root) && readdirSync(root)).toEqual([]);
  });
});
