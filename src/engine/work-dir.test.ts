// stepCwd with GitHub's absolute working-directory ("Workflow syntax", steps[*].working-directory; issue 18):
// inside the workspace it is checked and created like a relative one; outside, it must exist and is not created.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stepCwd } from './work-dir.ts';

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
