// Fault: the work dir's disk fills up while the engine zips a task's uploads. The work root is a 16 MiB
// tmpfs mounted for this test (as root) and unmounted in `finally`; the step writes 10 MiB of random bytes,
// which fit, and the zip of them does not.
import { execFileSync } from 'node:child_process';
import { readdirSync, statfsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeTask, runCollected } from '../../src/engine/test-support.ts';
import { tempDir } from '../helpers/temp.ts';

/** The mount may be busy for a moment after the task ends (its processes exit after the answer): retry while busy. */
async function unmount(dir: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      return;
    } catch {
      // Busy: try again; still held at the deadline (a leaked descriptor, which the assertions report): detach lazily.
      if (performance.now() > deadline) {
        execFileSync('umount', ['--lazy', dir], { stdio: 'pipe' });
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

describe('disk full while zipping uploads', () => {
  it('the task fails with reason disk_full, a message naming the zip in the work dir, and no partial zip left', async () => {
    const workRoot = tempDir('baton-upload-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', workRoot]);
    try {
      const task = makeTask([{ run: 'head -c 10485760 /dev/urandom > big.bin\necho "wrote big.bin"' }], {
        uploads: ['big.bin'],
      });
      const { outcome, output } = await runCollected(task, { workRoot });
      expect(output).toContain('wrote big.bin');
      expect(outcome.status).toBe('failed');
      expect(outcome.message).toMatch(
        /no space left on device while zipping the uploads into \/\S+upload\.zip/,
      );
      expect(outcome.message).toContain(workRoot);
      expect(outcome.upload).toBeUndefined();
      expect(outcome.reason).toBe('disk_full');
      // The failed task's work dir (and its partial zip) is gone, so the next task has the room back.
      expect(readdirSync(workRoot)).toEqual([]);
      // ...and no descriptor of the runner's still holds the deleted upload: the space is free again.
      const fs = statfsSync(workRoot);
      expect(fs.bfree * fs.bsize).toBeGreaterThan(15 * 1024 * 1024);
    } finally {
      await unmount(workRoot);
    }
  });
});
