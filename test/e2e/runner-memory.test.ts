// Issue 20: a runner streams a log far larger than what it may hold in memory with bounded RSS — its heap
// settings are chosen before its heap exists (bin/baton.js re-executes `runner start`, same pid), and the
// shipper's backpressure makes a fast step wait on its pipe. docs/adr/0020-runner-heap-and-log-backpressure.md.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startRunnerProcess, startServerProcess, waitForRun } from '../helpers/cluster.ts';

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

/** A /proc/<pid>/status field in MiB (VmRSS, VmHWM). */
function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/**
 * What streaming may add to an idle runner: the young generation (2 × 1 MiB semi-spaces), the old generation's
 * growth before a full collection (20 % over what is live, plus V8's minimum step), the 1 MiB of log the shipper
 * may hold and the requests carrying it, the 100 KiB pieces of the kept tail — about 30 MiB measured, doubled
 * for a loaded machine. A generous bound, not a figure: docs/performance.md has the measurements (a 200 MiB log
 * took 64–150 MiB over idle with V8's defaults).
 */
const STREAMING_BUDGET_MIB = 64;

describe('runner memory while streaming', () => {
  it('stores logs far past its in-memory bound byte-exact (head, marker, tail) with a bounded peak RSS', async () => {
    const server = await startServerProcess();
    const runner = await startRunnerProcess(server, 'mem');
    const pid = runner.proc.pid;
    // Re-executed in place: the process the test started runs with the heap settings.
    expect(cmdline(pid)).toEqual(
      expect.arrayContaining(['--max-semi-space-size=1', '--heap-growing-percent=20', 'runner', 'start']),
    );
    const idle = statusMiB(pid, 'VmRSS');
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, statusMiB(pid, 'VmRSS'))), 50);
    try {
      // 12 MiB: under the 16 MiB cap, so stored whole. 100 MiB: past it, so head + marker + tail.
      const whole = 12 * 1024 * 1024;
      const big = 100 * 1024 * 1024;
      /** What `yes <99 × c> | head -c n` prints. */
      const printed = (c: string, n: number): string =>
        `${c.repeat(99)}\n`.repeat(Math.ceil(n / 100)).slice(0, n);
      const workflow =
        `tasks:\n` +
        `  whole:\n    run: "yes ${'a'.repeat(99)} | head -c ${whole} || true"\n` +
        `  big:\n    depends_on: [whole]\n    run: "yes ${'b'.repeat(99)} | head -c ${big} || true"\n`;
      const run = await server.client.submitRun(workflow);
      const result = await waitForRun(server.client, run.id);
      expect(result.status, JSON.stringify(result.results)).toBe('succeeded');
      expect(await server.client.taskLog(run.id, 'whole')).toBe(printed('a', whole));
      const stored = await server.client.taskLog(run.id, 'big');
      const m = /\n\[baton\] log truncated: (\d+) bytes dropped here[^\n]*\n/.exec(stored);
      expect(m).not.toBeNull();
      const head = stored.slice(0, m!.index);
      const tail = stored.slice(m!.index + m![0].length);
      const all = printed('b', big);
      expect(all.startsWith(head)).toBe(true);
      expect(all.endsWith(tail)).toBe(true);
      expect(head.length + Number(m![1]) + tail.length).toBe(big);
      expect(head.length).toBeGreaterThan(7 * 1024 * 1024);
      expect(tail.length).toBeGreaterThan(7 * 1024 * 1024);
    } finally {
      clearInterval(sampler);
    }
    const hwm = statusMiB(pid, 'VmHWM');
    expect(Math.max(peak, hwm) - idle).toBeLessThan(STREAMING_BUDGET_MIB);
  });

  it('keeps a heap setting the user chose in NODE_OPTIONS and adds only the other one', async () => {
    const server = await startServerProcess();
    const runner = await startRunnerProcess(server, 'own', {
      env: { NODE_OPTIONS: '--max-semi-space-size=8' },
    });
    const args = cmdline(runner.proc.pid);
    expect(args).toContain('--heap-growing-percent=20');
    expect(args.some((a) => a.startsWith('--max-semi-space-size'))).toBe(false);
  });
});
