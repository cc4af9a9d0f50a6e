// Step inits held ahead of their tasks (held-inits.ts, docs/adr/0024-held-step-init.md): a task's first step
// runs in the very process that was waiting, exactly as a spawned init would run it; a held init that died is
// passed over; one that no task took is killed when the runner closes them, and dies with the runner when the
// runner is killed; and what the runner hands it reaches no other process.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { parentOf, startTracked, stopTracked } from '../../test/helpers/processes.ts';
import { tempDir } from '../../test/helpers/temp.ts';
import { containmentPlan } from './containment.ts';
import { compiledInit, HeldInits } from './held-inits.ts';
import { isLive } from './process-group.ts';
import { setStepInitDir } from './step-init-binary.ts';
import { escapees, escapeesAlive, makeTask, processesWith, runCollected, waitFor } from './test-support.ts';
import type { StepEvent } from './types.ts';

const asRoot = process.getuid?.() === 0;

/** The runner's state dir, hidden from every step; the compiled init is kept inside. */
const stateRoot = mkdtempSync(join('/var/tmp', 'baton-held-test-'));
afterAll(() => rmSync(stateRoot, { recursive: true, force: true }));
const state = join(stateRoot, 'state');
setStepInitDir(join(state, 'engine', 'init'));

const cmdline = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

/** HeldInits for namespace containment, `want` of them held; closed when the test ends. */
async function holding(want: number): Promise<{ held: HeldInits; pids: number[]; initPath: string }> {
  const plan = await containmentPlan('namespace');
  const initPath = compiledInit(plan);
  if (initPath === undefined) throw new Error(`no compiled init: ${JSON.stringify(plan.init)}`);
  const held = new HeldInits(() => containmentPlan('namespace'), want);
  onTestFinished(() => held.close());
  held.fill();
  await waitFor(() => held.pids.length === want, `${want} held init(s)`);
  return { held, pids: held.pids, initPath };
}

describe.runIf(asRoot)('held step inits', () => {
  it("run the task's first step in the held process, as a spawned init would; later steps spawn their own", async () => {
    const { held, pids, initPath } = await holding(1);
    const [heldPid = 0] = pids;
    expect(cmdline(heldPid).slice(0, 2)).toEqual([initPath, '--held']);
    const events: StepEvent[] = [];
    const { outcome, output } = await runCollected(
      makeTask(
        [
          {
            name: 'first',
            run: 'echo "exe=$(readlink /proc/1/exe) self=$$ pwd=$PWD greeting=$GREETING"; ls /proc | grep -c "^[0-9]"; test ! -e "$STATE/engine"',
          },
          { name: 'second', run: 'echo "second self=$$"' },
        ],
        { env: { GREETING: 'hello', STATE: state } },
      ),
      {
        workRoot: tempDir(),
        hide: [state],
        containment: 'namespace',
        heldInit: (path) => held.take(path),
        onStep: (e) => events.push(e),
      },
    );
    expect(outcome.status, output).toBe('succeeded');
    const [first, count, second] = output.trim().split('\n');
    expect(first).toMatch(new RegExp(`^exe=${initPath} self=2 pwd=/.+ greeting=hello$`));
    // pid 1 (the init), the step's shell, ls and grep: nothing of the runner's machine.
    expect(Number(count)).toBeLessThanOrEqual(4);
    expect(second).toBe('second self=2');
    const started = events.filter((e) => e.state === 'started');
    expect(started.map((e) => e.pid)).toHaveLength(2);
    expect(started[0]?.pid).toBe(heldPid);
    expect(started[1]?.pid).not.toBe(heldPid);
    expect(isLive(heldPid)).toBe(false);
  });

  it('hand the step its environment only after the acknowledgement, behind its arguments', async () => {
    const { held } = await holding(1);
    let acknowledge = () => {};
    const started = new Promise<void>((resolve) => (acknowledge = resolve));
    let printed = '';
    const run = runCollected(makeTask([{ run: 'echo "late=$LATE"' }], { env: { LATE: 'yes' } }), {
      workRoot: tempDir(),
      containment: 'namespace',
      started,
      heldInit: (path) => held.take(path),
      onLog: (e) => (printed += e.text),
    });
    await waitFor(() => held.pids.length === 0, 'the held init to be taken');
    await new Promise((r) => setTimeout(r, 300));
    expect(printed).toBe('');
    acknowledge();
    const { outcome, output } = await run;
    expect(outcome.status, output).toBe('succeeded');
    expect(output).toBe('late=yes\n');
  });

  it('pass over a held init that died before its task, and start the step in a new one', async () => {
    const { held, pids } = await holding(1);
    const [dead = 0] = pids;
    process.kill(dead, 'SIGKILL');
    await waitFor(() => !isLive(dead), 'the held init to die');
    const events: StepEvent[] = [];
    const { outcome, output } = await runCollected(makeTask([{ run: 'echo ran' }]), {
      workRoot: tempDir(),
      containment: 'namespace',
      heldInit: (path) => held.take(path),
      onStep: (e) => events.push(e),
    });
    expect(outcome.status, output).toBe('succeeded');
    expect(output).toBe('ran\n');
    const pid = events.find((e) => e.state === 'started')?.pid;
    expect(pid).toBeDefined();
    expect(pid).not.toBe(dead);
  });

  it('are killed when closed, having run nothing', async () => {
    const { held, pids } = await holding(2);
    expect(pids).toHaveLength(2);
    held.close();
    await waitFor(() => pids.every((pid) => !isLive(pid)), 'both held inits to end');
    expect(held.pids).toEqual([]);
    held.fill(); // closed: none is held again
    await new Promise((r) => setTimeout(r, 200));
    expect(held.pids).toEqual([]);
  });

  it('die with a runner that is killed: the parent-death signal is set before anything else', async () => {
    const plan = await containmentPlan('namespace');
    const initPath = compiledInit(plan) ?? '';
    const module = new URL('./held-inits.ts', import.meta.url).pathname;
    // A stand-in runner: holds one init, prints its pid, waits to be killed.
    const script =
      `const { holdStepInit } = await import(${JSON.stringify(module)});` +
      `const c = holdStepInit({ level: 'namespace', prefix: [${JSON.stringify(initPath)}], ` +
      `init: { kind: 'compiled', path: ${JSON.stringify(initPath)} } });` +
      `console.log(c.pid); setInterval(() => {}, 1000);`;
    const runner = startTracked('held init owner', process.execPath, ['--input-type=module', '-e', script]);
    onTestFinished(() => stopTracked(runner));
    let out = '';
    runner.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => /^\d+\n/.test(out), 'the held init pid');
    const heldPid = Number(out.trim());
    expect(isLive(heldPid)).toBe(true);
    expect(cmdline(heldPid).slice(0, 2)).toEqual([initPath, '--held']);
    process.kill(runner.pid, 'SIGKILL');
    await runner.exited;
    await waitFor(() => !isLive(heldPid), 'the held init to die with its runner');
  });

  it('are started by the init host, a small process that dies with its owner and takes its inits along', async () => {
    const plan = await containmentPlan('namespace');
    const initPath = compiledInit(plan) ?? '';
    const module = new URL('./init-host.ts', import.meta.url).pathname;
    // A stand-in runner: one init host, one held init from it; prints both pids and waits to be killed.
    const script =
      // (The host's channel keeps no loop alive: the interval does, as a runner's own work does.)
      `setInterval(() => {}, 1000); const { InitHost } = await import(${JSON.stringify(module)});` +
      `const host = new InitHost(${JSON.stringify(initPath)}); const init = await host.hold();` +
      `console.log(host.pid, init.pid);`;
    const runner = startTracked('init host owner', process.execPath, ['--input-type=module', '-e', script]);
    onTestFinished(() => stopTracked(runner));
    let out = '';
    runner.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => /^\d+ \d+\n/.test(out), 'the host and held init pids');
    const [hostPid = 0, heldPid = 0] = out.trim().split(' ').map(Number);
    expect(cmdline(hostPid).slice(0, 2)).toEqual([initPath, '--host']);
    expect(cmdline(heldPid).slice(0, 2)).toEqual([initPath, '--held']);
    // Forked by the host, not by the runner: the runner's memory is never copied for an init.
    expect(parentOf(heldPid)).toBe(hostPid);
    expect(parentOf(hostPid)).toBe(runner.child.pid);
    // Its only descriptors are the five the runner holds the other ends of, and nothing of the host's.
    expect(readdirSync(`/proc/${heldPid}/fd`).map(Number).sort()).toEqual([0, 1, 2, 3, 4]);
    process.kill(runner.child.pid!, 'SIGKILL');
    await runner.exited;
    await waitFor(
      () => !isLive(hostPid) && !isLive(heldPid),
      'the host and its held init to die with their owner',
    );
  });

  it("take a running step's whole tree along when the runner is killed: each hosted init dies with the host", async () => {
    const dir = tempDir();
    const token = `baton-${randomBytes(6).toString('hex')}`;
    const here = import.meta.dirname;
    // The step leaves a setsid and a nohup grandchild behind; only its init's death (pid 1) can take them.
    const run = `${escapees(token)}\nsleep 600`;
    const script = join(dir, 'runner.ts');
    writeFileSync(
      script,
      [
        `import { runTask } from ${JSON.stringify(join(here, 'index.ts'))};`,
        `import { containmentPlan } from ${JSON.stringify(join(here, 'containment.ts'))};`,
        `import { HeldInits } from ${JSON.stringify(join(here, 'held-inits.ts'))};`,
        `import { setStepInitDir } from ${JSON.stringify(join(here, 'step-init-binary.ts'))};`,
        `import { makeTask, stringEnv } from ${JSON.stringify(join(here, 'test-support.ts'))};`,
        `setStepInitDir(${JSON.stringify(join(state, 'engine', 'init'))});`,
        `const held = new HeldInits(() => containmentPlan('namespace'), 1);`,
        'held.fill();',
        'while (held.pids.length === 0) await new Promise((r) => setTimeout(r, 20));',
        `console.log('host', held.hostPid, 'init', held.pids[0]);`,
        `await runTask(makeTask([{ run: ${JSON.stringify(run)} }]), { workRoot: ${JSON.stringify(join(dir, 'work'))}, containment: 'namespace', heldInit: (p) => held.take(p), baseEnv: stringEnv(process.env), onLog: (e) => process.stdout.write(e.text) });`,
      ].join('\n'),
    );
    const runner = startTracked('engine runner with an init host', process.execPath, [script]);
    let seen = '';
    runner.child.stdout?.on('data', (b: Buffer) => (seen += b.toString()));
    // Should the init outlive its host (what this test is for), killing it takes its namespace along.
    onTestFinished(() => {
      const init = Number(/^host \d+ init (\d+)$/m.exec(seen)?.[1]);
      if (init > 0 && isLive(init)) process.kill(init, 'SIGKILL');
    });

    await waitFor(() => /^ready /m.test(seen), 'the step and its grandchildren to be up');
    const hostPid = Number(/^host (\d+) /m.exec(seen)?.[1]);
    // The step ran in an init the host started: the host is the one link between the runner and the step.
    expect(escapeesAlive(token)).toBe(true);
    process.kill(runner.pid, 'SIGKILL');
    await runner.exited;
    await waitFor(() => !isLive(hostPid), 'the init host to die with its runner');
    await waitFor(() => processesWith(token).length === 0, `the step's processes (${token}) to die`);
  });

  it("relay how a hosted init's step ended: its exit status, and a signal as 128 + its number", async () => {
    const { held } = await holding(1);
    const failed = await runCollected(makeTask([{ run: 'exit 7' }]), {
      workRoot: tempDir(),
      containment: 'namespace',
      heldInit: (path) => held.take(path),
    });
    expect(failed.outcome).toMatchObject({ status: 'failed', reason: 'exit_code', exitCode: 7 });
    held.fill();
    await waitFor(() => held.pids.length === 1, 'a new held init');
    const killed = await runCollected(makeTask([{ run: 'kill -TERM $$; sleep 5' }]), {
      workRoot: tempDir(),
      containment: 'namespace',
      heldInit: (path) => held.take(path),
    });
    expect(killed.outcome).toMatchObject({ status: 'failed', exitCode: 143 });
  });

  it('lose the steps of a host that is killed, and start a new host for the next ones', async () => {
    const { held, pids } = await holding(1);
    const hostPid = held.hostPid ?? 0;
    expect(parentOf(pids[0]!)).toBe(hostPid);
    let stepPid: number | undefined;
    const running = runCollected(makeTask([{ run: 'sleep 30' }]), {
      workRoot: tempDir(),
      containment: 'namespace',
      heldInit: (path) => held.take(path),
      onStep: (e) => {
        if (e.state === 'started') stepPid = e.pid;
      },
    });
    await waitFor(() => stepPid !== undefined, 'the step to start');
    process.kill(hostPid, 'SIGKILL');
    const { outcome } = await running;
    expect(outcome.status).toBe('failed');
    await waitFor(() => !isLive(pids[0]!), 'the step init to die with its host');
    held.fill();
    await waitFor(() => held.pids.length === 1, 'a held init from a new host');
    expect(held.hostPid).toBeDefined();
    expect(held.hostPid).not.toBe(hostPid);
    expect(parentOf(held.pids[0]!)).toBe(held.hostPid);
  });

  it('keep the host while a step it started runs after they are closed, and let it go when the step ends', async () => {
    const { held } = await holding(1);
    const hostPid = held.hostPid ?? 0;
    let started = false;
    const running = runCollected(makeTask([{ run: 'sleep 1; echo done' }]), {
      workRoot: tempDir(),
      containment: 'namespace',
      heldInit: (path) => held.take(path),
      onStep: (e) => {
        if (e.state === 'started') started = true;
      },
    });
    await waitFor(() => started, 'the step to start');
    held.close();
    expect(isLive(hostPid)).toBe(true);
    const { outcome, output } = await running;
    expect(outcome.status, output).toBe('succeeded');
    expect(output).toBe('done\n');
    await waitFor(() => !isLive(hostPid), 'the host to leave once its last step ended');
  });
});
