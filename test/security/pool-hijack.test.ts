// A task on an ephemeral pool tries to stop or hijack it: kill its parent, kill the pool by pid and by name,
// `kill -9 -1`, write the control files an upstream-style pool would obey, read the pool's environment for
// the registration token, leave `nohup`/`setsid` processes behind. None of it works, and the pool keeps serving
// on fresh identities.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containmentPlan } from '../../src/engine/containment.ts';
import { exitWithin, poll, startFaultServer, uniqueMarker, waitForRunEnd } from '../helpers/fault-cluster.ts';
import { startPool } from '../helpers/pool.ts';
import { pidAlive, processesWithArg } from '../helpers/processes.ts';
import { stepVisibleDir } from '../helpers/temp.ts';

// `kill -9 -1` from a task is only harmless where steps get their own pid namespace (root, as in CI); without
// it the task could signal every process of the user, this test runner included.
const contained = (await containmentPlan()).level === 'namespace';

describe.runIf(contained)('a task cannot stop or hijack the runner pool', () => {
  it('kills, guessed control files and /proc/<pool>/environ reach nothing; the pool keeps serving', async () => {
    const server = await startFaultServer();
    // The pool's dir where a step could see it but for the pool hiding it (not under the steps' private /tmp).
    // Its work root outside that dir, where a step could see the other slot's work dir but for the hiding.
    const work = join(stepVisibleDir('baton-pool-work-'), 'work');
    const pool = startPool(server, 2, ['--work-dir', work], stepVisibleDir('baton-pool-dir-'));
    const seen = stepVisibleDir('baton-pool-hijack-');
    writeFileSync(join(seen, 'pool.pid'), String(pool.proc.pid));
    await poll(() => pool.status()?.slots.every((s) => s.state === 'idle'), 'both slots to wait for a task');
    const before = pool.status()!;
    const q = (s: string) => `'${s}'`;
    const marker = uniqueMarker();
    const run = await server.client.submitRun(`
tasks:
  hijack:
    run: |
      S=${q(seen)}; P=${q(pool.dir)}; W=${q(work)}; POOL=$(cat "$S/pool.pid")
      ls -A "$W" > "$S/work-root"; echo "$BATON_RUNNER_NAME" > "$S/runner-name"
      cat /proc/$POOL/environ > "$S/environ" 2> "$S/environ.err" || true
      cat /proc/$POOL/cmdline > "$S/cmdline" 2>/dev/null || true
      cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -E '^BATON_(RUNNER_REGISTRATION_TOKEN|ADMIN_TOKEN)=' > "$S/all-environ" || true
      ls -laR "$P" > "$S/pool-dir" 2>&1 || true
      cat "$P/status.json" > "$S/status" 2>&1 || true
      for f in status.json stop drain terminate 0.brk 0.trm 1.brk slots/stop; do
        echo "$POOL x" > "$P/$f" 2>> "$S/write.err" || true
      done
      kill -TERM $POOL 2> "$S/kill.err" || true
      kill -KILL $POOL 2>> "$S/kill.err" || true
      pkill -KILL -f 'runner pool' 2>> "$S/kill.err" || true
      nohup sleep ${marker} > /dev/null 2>&1 &
      setsid sleep ${marker} > /dev/null 2>&1 < /dev/null &
      echo done > "$S/tried"
      kill -KILL $PPID || true
      kill -KILL -1 || true
`);
    const hijack = await waitForRunEnd(server.client, run.id, 60_000);
    // Nothing it started outlives it (nohup, setsid): its slot's namespace took them.
    await poll(() => processesWithArg(marker).length === 0, 'the task’s background processes to be gone');
    expect(existsSync(join(seen, 'tried'))).toBe(true);
    // Whether the task's own shell survives its `kill -9 -1` (pid 1 of its namespace and the caller are
    // spared) does not matter: what it aimed at is checked below.
    expect(hijack.results.hijack!.runner).toMatch(/./);

    // The pool and its slots are untouched.
    expect(pidAlive(pool.proc.pid)).toBe(true);
    // Nothing the task read holds the registration token or the pool's files.
    for (const name of readdirSync(seen)) {
      const text = readFileSync(join(seen, name), 'utf8');
      expect(text, name).not.toContain(server.registrationToken);
      expect(text, name).not.toContain('"slots"');
    }
    expect(readFileSync(join(seen, 'all-environ'), 'utf8')).toBe('');
    // Of the pool's work root the task sees its own slot's dir only, not the other slot's.
    const ownSlot = readFileSync(join(seen, 'runner-name'), 'utf8')
      .trim()
      .replace(/^.*?-(\d+-[0-9a-f]+)$/, '$1');
    expect(readFileSync(join(seen, 'work-root'), 'utf8').trim().split('\n')).toEqual([ownSlot]);
    // No slot's key pair (its own or its sibling's) shows in the pool dir as the task sees it.
    expect(readFileSync(join(seen, 'pool-dir'), 'utf8')).not.toContain('runner-key.json');
    // The guessed control files landed nowhere the pool looks: its real dir holds only what it wrote (and,
    // where gcc built one, `init`: the slots' shared compiled step init, out of a task's reach as
    // src/engine/step-init-binary.test.ts checks; and, caught mid-write, the pool's own `status.json.<pid>.tmp`,
    // which it renames over status.json on every update).
    expect(
      readdirSync(pool.dir)
        .filter((name) => name !== 'init' && !/^status\.json\.\d+\.tmp$/.test(name))
        .sort(),
    ).toEqual(['slots', 'status.json']);
    expect(JSON.parse(readFileSync(join(pool.dir, 'status.json'), 'utf8'))).toMatchObject({
      pid: pool.proc.pid,
      stopping: false,
    });

    // And it keeps serving: the next tasks run on fresh identities.
    const next = await server.client.submitRun(
      `tasks:\n  a:\n    run: echo "ok on $BATON_RUNNER_NAME"\n  b:\n    run: echo "ok on $BATON_RUNNER_NAME"\n`,
    );
    const result = await waitForRunEnd(server.client, next.id, 60_000);
    expect(result.status).toBe('succeeded');
    const names = [result.results.a!.runner, result.results.b!.runner, hijack.results.hijack!.runner];
    expect(new Set(names).size).toBe(3);
    expect(before.slots.map((s) => s.runnerName)).not.toContain(result.results.a!.runner);
    expect(pidAlive(pool.proc.pid)).toBe(true);

    pool.proc.child.kill('SIGTERM');
    expect((await exitWithin(pool.proc, 30_000)).code).toBe(0);
  });
});
