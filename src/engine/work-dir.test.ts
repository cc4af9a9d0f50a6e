// stepCwd with GitHub's absolute working-directory ("Workflow syntax", steps[*].working-directory; issue 18):
// inside the workspace it is checked and created like a relative one; outside, it must exist and is not created.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkDir, removeWorkDir, stepCwd } from './work-dir.ts';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function scratch(): { workspace: string; outside: string } {
  const root = mkdtempSync(join(tmpdir(), 'baton-cwd-'));
  made.push(root);
  const workspace = join(root, 'ws');
  const outside = join(root, 'outside');
  mkdirSync(workspace);
  mkdirSync(outside);
  return { workspace, outside };
}

describe('stepCwd with an absolute path', () => {
  it('creates an absolute path inside the workspace, as a relative one', async () => {
    const { workspace } = scratch();
    expect(await stepCwd(workspace, [join(workspace, 'a/b')])).toEqual({ cwd: join(workspace, 'a/b') });
    expect(existsSync(join(workspace, 'a/b'))).toBe(true);
  });

  it('uses an existing directory outside the workspace as it is', async () => {
    const { workspace, outside } = scratch();
    expect(await stepCwd(workspace, [outside])).toEqual({ cwd: outside });
  });

  it('never creates a missing directory outside, and refuses a file', async () => {
    const { workspace, outside } = scratch();
    const missing = join(outside, 'new');
    expect(await stepCwd(workspace, [missing])).toEqual({
      error: `working directory '${missing}' does not exist or is not a directory; an absolute working directory outside the task's work dir is used as it is and never created`,
    });
    expect(existsSync(missing)).toBe(false);
    writeFileSync(join(outside, 'file'), 'x');
    expect(await stepCwd(workspace, [join(outside, 'file')])).toHaveProperty('error');
  });

  it('keeps refusing a relative path that leaves the workspace, directly or through a symlink', async () => {
    const { workspace, outside } = scratch();
    expect(await stepCwd(workspace, ['../outside'])).toEqual({
      error: "working directory '../outside' is outside the task's work dir",
    });
    symlinkSync(outside, join(workspace, 'link'));
    expect(await stepCwd(workspace, ['link/sub'])).toEqual({
      error: "working directory 'link/sub' leads outside the task's work dir through a symlink",
    });
    expect(existsSync(join(outside, 'sub'))).toBe(false);
  });
});

describe('stepCwd for the workspace itself', () => {
  it('makes the workspace again when an earlier step removed it', async () => {
    const { workspace } = scratch();
    rmSync(workspace, { recursive: true });
    expect(await stepCwd(workspace, [])).toEqual({ cwd: workspace });
    expect(existsSync(workspace)).toBe(true);
  });
});

describe('removeWorkDir', () => {
  it('removes a small tree and a tree past the synchronous budget alike, never following a link', async () => {
    const { outside } = scratch();
    const root = join(outside, '..', 'work');
    writeFileSync(join(outside, 'keep'), 'kept\n');
    const small = await createWorkDir(root, 'small');
    writeFileSync(join(small.workspace, 'out.txt'), 'x');
    symlinkSync(outside, join(small.workspace, 'link-to-outside'));
    symlinkSync(join(outside, 'keep'), join(small.internal, 'tmp', 'file-link'));
    const big = await createWorkDir(root, 'big');
    // 3 × 50 files in nested dirs: more than the entries removed synchronously, the rest goes to `rm`.
    for (let d = 0; d < 3; d++) {
      const sub = join(big.workspace, `d${d}`, 'nested');
      mkdirSync(sub, { recursive: true });
      for (let f = 0; f < 50; f++) writeFileSync(join(sub, `f${f}`), 'y');
      symlinkSync(outside, join(sub, 'link'));
    }
    expect(await removeWorkDir(small)).toEqual([]);
    expect(await removeWorkDir(big)).toEqual([]);
    for (const gone of [small.workspace, small.internal, big.workspace, big.internal])
      expect(existsSync(gone)).toBe(false);
    expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('kept\n');
  });

  it('leaves the upload archive when asked, and removes everything else', async () => {
    const { outside } = scratch();
    const dir = await createWorkDir(join(outside, '..', 'work'), 'up');
    writeFileSync(dir.uploadFile, 'zip');
    writeFileSync(join(dir.internal, 'tmp', 'scratch'), 's');
    expect(await removeWorkDir(dir, true)).toEqual([]);
    expect(existsSync(dir.workspace)).toBe(false);
    expect(readFileSync(dir.uploadFile, 'utf8')).toBe('zip');
    expect(existsSync(dir.outputFile)).toBe(false);
    expect(existsSync(dir.temp)).toBe(false);
  });
});
