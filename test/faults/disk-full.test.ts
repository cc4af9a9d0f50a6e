// Fault: the runner's work dir fills up. The runner runs in a private mount namespace where its work dir is a
// 16 MiB tmpfs (`unshare -m`, as root); the namespace and its mount vanish with the runner process.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  registerRunner,
  reportTiming,
  startFaultServer,
  startRunner,
  waitForRunEnd,
} from '../helpers/fault-cluster.ts';
import { expectInvariants } from '../helpers/invariants.ts';
import { stopTracked } from '../helpers/processes.ts';

describe('disk full in the work dir', () => {
  it('the step fails with "No space left on device", reason disk_full, the runner stays up and the next task succeeds', async () => {
    const server = await startFaultServer();
    const reg = await registerRunner(server, 'cramped');
    mkdirSync(reg.workDir, { recursive: true });
    // The runner refuses tasks below its free-space threshold (default 256 MiB): set it under the 16 MiB disk.
    const config = JSON.parse(readFileSync(reg.config, 'utf8')) as Record<string, unknown>;
    writeFileSync(reg.config, JSON.stringify({ ...config, min_free_disk_mb: 8 }), { mode: 0o600 });
    const runner = await startRunner(reg, (argv) => ({
      cmd: 'unshare',
      args: ['-m', 'sh', '-c', 'mount -t tmpfs -o size=16m tmpfs "$0" && exec "$@"', reg.workDir, ...argv],
    }));
    try {
      // The runner's view of its work dir, through its own mount namespace.
      const workDirInNs = `/proc/${runner.proc.pid}/root${reg.workDir}`;
      const startedAt = performance.now();
      const full = await server.client.submitRun(`
tasks:
  fill:
    run: |
      echo "writing 64 MiB"
      dd if=/dev/zero of=big.bin bs=1M count=64
`);
      const failed = await waitForRunEnd(server.client, full.id, 30_000).catch(async (err: unknown) => {
        throw new Error(
          `${String(err)}\nrun: ${JSON.stringify((await server.client.getRun(full.id)).results['fill'])}\nlog: ${await server.client.taskLog(full.id, 'fill')}\nrunner output:\n${runner.output()}`,
        );
      });
      const detectMs = performance.now() - startedAt;
      const log = await server.client.taskLog(full.id, 'fill');
      expect(log).toContain('No space left on device');
      expect(failed.results['fill']?.status).toBe('failed');
      const reason = failed.results['fill']?.reason;
      console.log(
        `[fault-timing] disk full: reason=${reason}, message=${JSON.stringify(failed.results['fill']?.message)}`,
      );
      expect(runner.proc.child.exitCode).toBeNull();
      // The failed task's work dir is gone, so the next task has room.
      expect(readdirSync(workDirInNs).filter((e) => e.startsWith('fill-'))).toEqual([]);

      const nextAt = performance.now();
      const next = await server.client.submitRun(`
tasks:
  small:
    run: |
      head -c 1048576 /dev/zero > one.bin
      echo "wrote $(wc -c < one.bin) bytes"
`);
      const ok = await waitForRunEnd(server.client, next.id);
      const recoverMs = performance.now() - nextAt;
      expect(ok.results['small']?.status).toBe('succeeded');
      expect(await server.client.taskLog(next.id, 'small')).toContain('wrote 1048576 bytes');
      await expectInvariants({
        database: server.database,
        client: server.client,
        serverOutput: server.output(),
      });
      reportTiming('disk full in work dir', {
        'failing task reported': detectMs,
        'next task succeeded': recoverMs,
      });
      expect(reason).toBe('disk_full');
    } finally {
      await stopTracked(runner.proc);
    }
  });
});
