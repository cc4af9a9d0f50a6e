// Global test hooks: every child process a test starts through test/helpers/processes.ts must be gone
// when the test ends.
import { afterEach, expect } from 'vitest';
import { liveChildren, killAllChildren } from './helpers/processes.ts';

afterEach(async () => {
  const leaked = liveChildren();
  if (leaked.length > 0) {
    await killAllChildren();
    expect.fail(`test leaked processes: ${leaked.map((c) => `${c.label} (pid ${c.pid})`).join(', ')}`);
  }
});
