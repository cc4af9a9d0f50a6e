// Fault (issue 13, resource limits): a task that allocates past its memory limit must end `failed` with reason
// `out_of_memory` and a message naming the limit, not as an anonymous "killed by SIGKILL" — and the runner
// must say in its status whether it enforces limits at all. Real server and runner processes; the limit is
// the runner's default (`--limit-memory`), since the workflow's `limits` key is parsed on another branch.
// Runs wherever this machine can make cgroups (the runner process makes the same probe).

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { limitsSupport } from '../../src/engine/cgroups.ts';
import { startRunnerProcess, startServerProcess, waitFor, waitForRun } from '../helpers/cluster.ts';
import { BIN } from '../helpers/fault-cluster.ts';
import { startTracked, stopTracked } from '../helpers/processes.ts';

const support = await limitsSupport();

describe.runIf(support.ok)('a task over its memory limit (writable cgroups)', () => {
  it('ends failed/out_of_memory naming the limit, on a runner that reports limits: true', async () => {
    if (!support.ok) return;
    const server = await startServerProcess();
    const runner = await startRunnerProcess(server, 'limited', { extraArgs: ['--limit-memory', '64M'] });
    await waitFor(
      async () =>
        (await server.client.listRunners()).runners.find((r) => r.name === 'limited')?.report?.limits ===
        true,
      "the runner's status to report limits: true",
    );
    const run = await server.client.submitRun(`
tasks:
  hog:
    steps:
      - name: allocate
        run: head -c 1G /dev/zero | tail > /dev/null
  small:
    steps:
      - run: echo fits
`);
    const result = await waitForRun(server.client, run.id);
    const hog = result.results.hog!;
    expect({ status: hog.status, reason: hog.reason }).toEqual({ status: 'failed', reason: 'out_of_memory' });
    expect(hog.message).toContain("step 'allocate' ran out of memory");
    expect(hog.message).toContain('64 MiB');
    expect(result.results.small!.status).toBe('succeeded');
    // The task cgroups under the runner's own are gone with their tasks.
    for (const own of new Set(Object.values(support.backend.own))) {
      const parent = join(own, `baton-${runner.proc.pid}`);
      const left = existsSync(parent) ? readdirSync(parent).filter((n) => n.startsWith('task-')) : [];
      expect(left).toEqual([]);
    }
    await stopTracked(runner.proc);

    // A default it cannot parse stops the runner at start, naming the flag, the value and the limit.
    const bad = startTracked('runner bad limit', process.execPath, [
      BIN,
      'runner',
      'start',
      '--config',
      runner.config,
      '--limit-memory',
      '512',
    ]);
    let said = '';
    bad.child.stdout?.on('data', (b: Buffer) => (said += b.toString()));
    bad.child.stderr?.on('data', (b: Buffer) => (said += b.toString()));
    const exit = await bad.exited;
    expect(exit.code).not.toBe(0);
    expect(said).toContain('--limit-memory');
    expect(said).toContain('"512"');
    expect(said).toContain('4 MiB');
  });
});
