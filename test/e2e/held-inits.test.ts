// A real `baton runner start` holds two step inits per slot while it waits (docs/adr/0024-held-step-init.md):
// its tasks start in them, a new one is held for the next task, and a runner that stops leaves none behind.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLive } from '../../src/engine/process-group.ts';
import { startRunnerProcess, startServerProcess, waitFor, waitForRun } from '../helpers/cluster.ts';
import { parentOf, stopTracked } from '../helpers/processes.ts';

const asRoot = process.getuid?.() === 0;

/** Live processes started as `<something under dir>/baton-init-… --held` (or `flag`), by pid. */
function heldUnder(dir: string, wanted = '--held'): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [exe = '', flag] = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (isLive(Number(entry)) && flag === wanted && exe.startsWith(`${dir}/`)) found.push(Number(entry));
    } catch {
      continue; // gone while we looked
    }
  }
  return found;
}

describe.runIf(asRoot)('a runner holding step inits', () => {
  it('holds two per slot, starts tasks in them, holds new ones, and leaves none when it stops', async () => {
    const server = await startServerProcess();
    const runner = await startRunnerProcess(server, 'holder', { parallel: 2 });
    const dir = dirname(runner.config);
    // The runner builds its step init with gcc first: generous on a loaded machine.
    const first = await waitFor(
      () => heldUnder(dir).length === 4 && heldUnder(dir),
      'four held inits (two slots)',
      60_000,
    );
    const run = await server.client.submitRun(
      'tasks:\n  a:\n    run: echo "a in pid $$"\n  b:\n    run: echo "b in pid $$"\n',
    );
    const result = await waitForRun(server.client, run.id);
    expect(result.status, runner.output()).toBe('succeeded');
    for (const name of ['a', 'b'])
      expect(await server.client.taskLog(run.id, name)).toBe(`${name} in pid 2\n`);
    // Two were used (a task's first step starts in one), and replaced; the other two still wait.
    const next = await waitFor(() => {
      const now = heldUnder(dir);
      return now.length === 4 && now.filter((p) => !first.includes(p)).length === 2 && now;
    }, 'two new held inits beside the two not used');
    expect(first.filter((pid) => !next.includes(pid))).toHaveLength(2);
    // One init host started them all (init-host.ts): the runner itself forked none of them.
    const hosts = heldUnder(dir, '--host');
    expect(hosts).toHaveLength(1);
    for (const pid of next) expect(parentOf(pid)).toBe(hosts[0]);
    expect(parentOf(hosts[0]!)).toBe(runner.proc.child.pid);
    // A task sees its own init and nothing of the other slot's held one, waiting in the runner's namespace
    // (the pattern does not match the grep's own command line).
    const spy = await server.client.submitRun(
      `tasks:\n  spy:\n    run: 'grep -la -e "[-]-held" /proc/[0-9]*/cmdline | sed "s,/cmdline,," | tr "\\n" " "'\n`,
    );
    expect((await waitForRun(server.client, spy.id)).status, runner.output()).toBe('succeeded');
    expect(heldUnder(dir).length).toBeGreaterThanOrEqual(1);
    expect((await server.client.taskLog(spy.id, 'spy')).trim()).toBe('/proc/1');
    await stopTracked(runner.proc);
    await waitFor(() => heldUnder(dir).length === 0, 'no held init after the runner stopped');
    await waitFor(() => heldUnder(dir, '--host').length === 0, 'no init host after the runner stopped');
  });
});
