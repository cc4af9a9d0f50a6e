// Fault: a runner frozen with SIGSTOP while its task runs. Its timers are frozen with it, so the self-fence
// cannot act; the step's own process tree must still die before the server re-offers the task (invariant 2
// of RELIABILITY.md: at most one live attempt), because the dead-man switch inside the step's namespace is
// no longer renewed. Checked from the steps' own clocks: attempt 1's last timestamp comes before attempt 2's
// first, and attempt 1's processes are gone while its runner is still frozen. The frozen runner runs with
// host isolation, then with --isolation sandbox (the switch lives in the same init inside bubblewrap).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  poll,
  registerRunner,
  reportTiming,
  startFaultServer,
  startRunner,
  uniqueMarker,
  waitForRunEnd,
  waitForTask,
} from '../helpers/fault-cluster.ts';
import { sandboxPlan } from '../../src/engine/sandbox.ts';
import { processesWithArg } from '../helpers/processes.ts';

const canRunBwrap = !('error' in (await sandboxPlan()));

const LEVELS = [
  { isolation: 'host', extra: [] as string[], runs: true, title: '' },
  { isolation: 'sandbox', extra: ['--isolation', 'sandbox'], runs: canRunBwrap, title: ' (bwrap)' },
];

describe.each(LEVELS)('runner frozen while its step runs: $isolation', ({ extra, runs, title }) => {
  it.runIf(runs)(
    `the step tree kills itself before the task is re-offered, without the runner${title}`,
    async () => {
      const server = await startFaultServer({ heartbeatMs: 500, leaseTtlMs: 4_000, sweepMs: 500 });
      const marker = uniqueMarker();
      const frozenReg = await registerRunner(server, 'frozen');
      const frozen = await startRunner(frozenReg, (argv) => ({
        cmd: argv[0]!,
        args: [...argv.slice(1), ...extra],
      }));
      const spareReg = await registerRunner(server, 'spare');
      const run = await server.client.submitRun(`
tasks:
  work:
    retries: { max: 1, backoff: 1s }
    run: |
      if [ "$BATON_ATTEMPT" = 1 ]; then
        sleep ${marker} &
        setsid sleep ${marker} &
        while true; do date +%s%3N >> stamps; sleep 0.05; done
      fi
      echo "attempt 2 started at $(date +%s%3N)"
`);
      await waitForTask(server.client, run.id, 'work', (t) => t.runner === 'frozen', 'to run on frozen');
      const stamps = await poll(() => {
        const dir = readdirSync(frozenReg.workDir).find(
          (n) => n.startsWith('work-') && !n.endsWith('.baton'),
        );
        const file = dir === undefined ? undefined : join(frozenReg.workDir, dir, 'stamps');
        return file !== undefined && existsSync(file) && processesWithArg(marker).length === 2
          ? file
          : undefined;
      }, "attempt 1's step to write its timestamps");

      const stoppedAt = performance.now();
      process.kill(frozen.proc.pid, 'SIGSTOP');
      try {
        await startRunner(spareReg);
        const result = await waitForRunEnd(server.client, run.id);
        const lines = readFileSync(stamps, 'utf8').trim().split('\n');
        const lastOfAttempt1 = Number(lines.at(-1));
        // Every process of attempt 1 is gone although its runner has not run a single instruction since.
        expect(processesWithArg(marker)).toEqual([]);
        expect(result.results['work']).toMatchObject({ status: 'succeeded', attempt: 2, runner: 'spare' });
        const log = await server.client.taskLog(run.id, 'work');
        const firstOfAttempt2 = Number(/attempt 2 started at (\d+)/.exec(log)?.[1]);
        expect(firstOfAttempt2).toBeGreaterThan(0);
        expect(lastOfAttempt1).toBeLessThan(firstOfAttempt2);
        // And attempt 1 wrote nothing more after it died: the file is as it was.
        expect(readFileSync(stamps, 'utf8').trim().split('\n')).toHaveLength(lines.length);
        reportTiming('runner SIGSTOP during a step', {
          'step tree dead before attempt 2 started': firstOfAttempt2 - lastOfAttempt1,
          'retry finished': performance.now() - stoppedAt,
        });
      } finally {
        process.kill(frozen.proc.pid, 'SIGCONT');
      }
      // Back from the freeze, the runner learns its lease is gone and reports nothing for attempt 1.
      await poll(
        () => /not reporting a result/.test(frozen.output()),
        'the stale runner to give the attempt up',
      );
    },
  );
});
