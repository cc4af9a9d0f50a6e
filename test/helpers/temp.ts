// Temporary directories that are removed when the test ends.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

export function tempDir(prefix = 'baton-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A directory a running step can see, for files a test uses to signal it (gates) or that the step writes for
 * the test to read. Under a runner's host isolation every task has a private /tmp, so a path under the test's
 * /tmp would be a different, empty directory inside the step; /var/tmp is not made private.
 */
export function stepVisibleDir(prefix = 'baton-test-'): string {
  const base = join('/var/tmp', 'baton-tests');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
