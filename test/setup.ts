// Global test hooks: every child process a test starts through test/helpers/processes.ts is stopped when the
// test ends; one that no helper owned counts as a leak and fails the test.
import { afterEach, expect } from 'vitest';
import { liveChildren, killAllChildren } from './helpers/processes.ts';

afterEach(async () => {
  const leaked = liveChildren().filter((c) => !c.managed);
  await killAllChildren();
  if (leaked.length > 0) {
    expect.fail(`test leaked processes: ${leaked.map((c) => `${c.label} (pid ${c.pid})`).join(', ')}`);
  }
});
