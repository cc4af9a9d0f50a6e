// Resource limits with real cgroups (cgroups.ts): a memory hog ends `out_of_memory`, a fork loop is held at its
// process limit and leaves nothing behind, a root step cannot raise its limits or leave its cgroup, and the
// task's cgroup is gone when the task is. Runs wherever the runner can make cgroups (root, namespace
// containment, memory/pids/cpu controllers); the probe is the same one the runner reports `limits` with.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stepVisibleDir, tempDir } from '../../test/helpers/temp.ts';
import { limitsSupport, removeRunnerCgroups } from './cgroups.ts';
import { makeTask, processesWith, runCollected } from './test-support.ts';

const support = await limitsSupport();
const MiB = 1024 * 1024;

/** The task cgroups this process (the "runner") has under each controller right now. */
function taskCgroups(): string[] {
  if (!support.ok) return [];
  const found: string[] = [];
  for (const own of new Set(Object.values(support.backend.own))) {
    const parent = join(own, `baton-${process.pid}`);
    if (!existsSync(parent)) continue;
    for (const entry of readdirSync(parent, { withFileTypes: true }))
      if (entry.isDirectory() && entry.name.startsWith('task-')) found.push(join(parent, entry.name));
  }
  return found;
}

describe.runIf(support.ok)('resource limits (writable cgroups)', () => {
  afterAll(() => {
    if (support.ok) removeRunnerCgroups(support.backend);
  });

  it('ends a memory hog over its limit as failed/out_of_memory, naming the limit', async () => {
    const { outcome, system } = await runCollected(
      makeTask([{ name: 'hog', run: 'head -c 1G /dev/zero | tail > /dev/null\necho survived' }], {
        limits: { memoryBytes: 64 * MiB },
      }),
      { workRoot: tempDir(), controlDir: tempDir() },
    );
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toBe('out_of_memory');
    expect(outcome.message).toContain("step 'hog' ran out of memory");
    expect(outcome.message).toContain('64 MiB');
    expect(system).not.toContain('cleanup failed');
    expect(taskCgroups()).toEqual([]);
  });

  it("applies the runner's default memory limit to a task that declares none", async () => {
    const { outcome } = await runCollected(
      makeTask([{ name: 'hog', run: 'head -c 1G /dev/zero | tail > /dev/null' }]),
      { workRoot: tempDir(), controlDir: tempDir(), defaultLimits: { memoryBytes: 48 * MiB } },
    );
    expect(outcome.reason).toBe('out_of_memory');
    expect(outcome.message).toContain('48 MiB');
  });

  it('holds a fork loop at its process limit and leaves no process behind', async () => {
    const token = `600.${process.pid}${Date.now() % 100_000}`;
    const loop = [
      'import subprocess',
      'ok = refused = 0',
      'for i in range(100):',
      '    try:',
      `        subprocess.Popen(["sleep", "${token}"])`,
      '        ok += 1',
      '    except OSError:',
      '        refused += 1',
      'print(f"started={ok} refused={refused}")',
    ].join('\n');
    const { outcome, output } = await runCollected(
      makeTask([{ name: 'forks', run: `/usr/bin/python3 -c '${loop}'` }], { limits: { pids: 20 } }),
      { workRoot: tempDir(), controlDir: tempDir() },
    );
    expect(outcome.status).toBe('succeeded');
    const counts = /started=(\d+) refused=(\d+)/.exec(output);
    expect(counts).not.toBeNull();
    expect(Number(counts?.[1])).toBeLessThan(20);
    expect(Number(counts?.[2])).toBeGreaterThan(80);
    expect(processesWith(token)).toEqual([]);
    expect(taskCgroups()).toEqual([]);
  });

  it('keeps a root step from raising its limits or leaving its cgroup, and removes the cgroup after', async () => {
    if (!support.ok) return;
    const shared = stepVisibleDir();
    const own = support.backend.own;
    const v2 = support.backend.version === 2;
    const parent = (dir: string): string => JSON.stringify(join(dir, `baton-${process.pid}`));
    // [file, a value that lifts its limit]
    const files = v2
      ? [
          [`${parent(own.memory)}/task-*/memory.max`, 'max'],
          [`${parent(own.pids)}/task-*/pids.max`, 'max'],
          [`${parent(own.cpu)}/task-*/cpu.max`, 'max'],
        ]
      : [
          [`${parent(own.memory)}/task-*/memory.memsw.limit_in_bytes`, '-1'],
          [`${parent(own.memory)}/task-*/memory.limit_in_bytes`, '-1'],
          [`${parent(own.pids)}/task-*/pids.max`, 'max'],
          [`${parent(own.cpu)}/task-*/cpu.cfs_quota_us`, '-1'],
        ];
    const script = [
      `cat /proc/self/cgroup > ${JSON.stringify(join(shared, 'cgroup'))}`,
      ...files.map(
        ([f, lift]) =>
          `for f in ${f}; do echo ${lift} > "$f" 2>/dev/null && echo "raised $f"; cat "$f"; done`,
      ),
      `echo $$ > ${JSON.stringify(join(own.memory, 'cgroup.procs'))} 2>/dev/null && echo "escaped"`,
      `mkdir ${parent(own.memory)}/mine 2>/dev/null && echo "made a cgroup"`,
      `grep -q 'baton-${process.pid}/task-' /proc/self/cgroup && echo "still inside"`,
    ].join('\n');
    const { outcome, output } = await runCollected(
      makeTask([{ name: 'raise', run: script }], { limits: { memoryBytes: 96 * MiB, pids: 50, cpu: 0.5 } }),
      { workRoot: tempDir(), controlDir: tempDir() },
    );
    expect(outcome.status).toBe('succeeded');
    expect(output).not.toContain('raised');
    expect(output).not.toContain('escaped');
    expect(output).not.toContain('made a cgroup');
    expect(output).toContain('still inside');
    expect(output).toContain(String(96 * MiB));
    expect(output).toContain('50');
    // The step saw itself in a task cgroup of this runner; that cgroup is gone now.
    const seen = readFileSync(join(shared, 'cgroup'), 'utf8');
    expect(seen).toMatch(new RegExp(`/baton-${process.pid}/task-`));
    expect(taskCgroups()).toEqual([]);
  });

  it('fails a task whose limits this runner cannot enforce as setup_failed, naming the limits', async () => {
    const { outcome } = await runCollected(
      makeTask([{ name: 'never', run: 'echo ran' }], { limits: { memoryBytes: 64 * MiB } }),
      { workRoot: tempDir(), controlDir: tempDir(), containment: 'pdeathsig' },
    );
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toBe('setup_failed');
    expect(outcome.message).toContain('memory 64 MiB');
    expect(outcome.message).toContain("'pdeathsig'");
  });
});
