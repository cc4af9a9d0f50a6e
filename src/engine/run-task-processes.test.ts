import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { pidAlive, startTracked } from '../../test/helpers/processes.ts';
import { tempDir } from '../../test/helpers/temp.ts';
import { containmentPlan } from './containment.ts';
import { escapees, escapeesAlive, makeTask, processesWith, runCollected, waitFor } from './test-support.ts';

/**
 * Runs a step that starts escapees then runs `run`; when it prints "ready", records whether the escapees
 * are alive, then cancels the task or writes to its FIFO `go` if asked.
 */
async function runWithEscapees(
  token: string,
  run: string,
  options: { timeoutMs?: number; cancel?: boolean; release?: boolean; prelude?: string } = {},
) {
  const controller = new AbortController();
  let seenWhileRunning: boolean | undefined;
  const task = makeTask([
    {
      name: 'spawner',
      run: `${options.prelude ?? ''}\n${escapees(token)}\n${run}`,
      timeoutMs: options.timeoutMs,
    },
  ]);
  const result = await runCollected(task, {
    workRoot: tempDir(),
    signal: controller.signal,
    cancelGraceMs: 500,
    onLog: (e) => {
      const ready = /^ready (.*)$/m.exec(e.text);
      if (ready === null || seenWhileRunning !== undefined) return;
      seenWhileRunning = escapeesAlive(token);
      if (options.cancel === true) controller.abort();
      if (options.release === true) void writeFile(join(ready[1] ?? '', 'go'), 'go\n');
    },
  });
  return { ...result, seenWhileRunning };
}

describe('runTask: processes, timeouts and cancellation', () => {
  it('fails on a non-zero exit, says so in the log, and skips later steps', async () => {
    const task = makeTask([
      { name: 'compile', run: 'echo compiling\nexit 3' },
      { name: 'test', run: 'echo never' },
    ]);
    const { outcome, output, system } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome).toMatchObject({
      status: 'failed',
      reason: 'exit_code',
      exitCode: 3,
      message: "step 'compile' exited with code 3",
    });
    expect(outcome.steps.map((s) => [s.status, s.exitCode])).toEqual([
      ['failed', 3],
      ['skipped', null],
    ]);
    expect(output).toBe('compiling\n');
    expect(system).toContain("step 'compile' exited with code 3\n");
  });

  it('leaves no setsid or nohup grandchild behind when a step finishes normally', async () => {
    const token = `baton-${randomBytes(6).toString('hex')}`;
    const { outcome, seenWhileRunning } = await runWithEscapees(token, 'read -r _ < go\nexit 0', {
      release: true,
    });
    expect(outcome.status).toBe('succeeded');
    expect(seenWhileRunning).toBe(true);
    expect(processesWith(token)).toEqual([]);
  });

  it('kills a step at its timeout, grandchildren included, and names the limit', async () => {
    const token = `baton-${randomBytes(6).toString('hex')}`;
    const { outcome, seenWhileRunning, system } = await runWithEscapees(token, 'sleep 600', {
      timeoutMs: 1_000,
    });
    expect(outcome).toMatchObject({
      status: 'timed_out',
      reason: 'timeout',
      message: "step 'spawner' timed out after 1s",
    });
    expect(outcome.steps[0]?.status).toBe('timed_out');
    expect(seenWhileRunning).toBe(true);
    expect(system).toMatch(/sending SIGTERM to process group \d+/);
    expect(processesWith(token)).toEqual([]);
  });

  it('kills a script that traps SIGTERM at the end of the grace period when cancelled', async () => {
    const token = `baton-${randomBytes(6).toString('hex')}`;
    const prelude = "trap 'echo caught TERM' TERM";
    const run = 'while true; do sleep 0.1 || true; done'; // -e: a killed sleep would end the script
    const { outcome, output, system, seenWhileRunning } = await runWithEscapees(token, run, {
      cancel: true,
      prelude,
    });
    expect(outcome).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
    expect(outcome.message).toBe("task 'build' was cancelled during step 'spawner'");
    expect(seenWhileRunning).toBe(true);
    expect(output).toContain('caught TERM');
    expect(system).toMatch(/still running 500 ms after SIGTERM: sending SIGKILL/);
    expect(processesWith(token)).toEqual([]);
  });

  it("a task's own cancel_grace wins over the runner's", async () => {
    const controller = new AbortController();
    const task = makeTask(
      [
        {
          name: 'stubborn',
          run: "trap 'echo caught TERM' TERM\necho started\nwhile true; do sleep 0.1 || true; done",
        },
      ],
      { cancelGraceMs: 300 },
    );
    const { outcome, logs } = await runCollected(task, {
      workRoot: tempDir(),
      signal: controller.signal,
      cancelGraceMs: 60_000,
      onLog: (e) => {
        if (e.text.includes('started')) controller.abort();
      },
    });
    expect(outcome.status).toBe('cancelled');
    const system = logs
      .filter((e) => e.stream === 'system')
      .map((e) => e.text)
      .join('');
    expect(system).toMatch(/still running 300 ms after SIGTERM: sending SIGKILL/);
  });

  it('applies the task timeout across steps and names the task limit', async () => {
    const task = makeTask(
      [{ run: 'echo quick' }, { name: 'slow', run: 'sleep 600' }, { run: 'echo never' }],
      { timeoutMs: 1_000 },
    );
    const { outcome } = await runCollected(task, { workRoot: tempDir(), cancelGraceMs: 500 });
    expect(outcome).toMatchObject({
      status: 'timed_out',
      reason: 'timeout',
      message: "task 'build' timed out after 1s during step 'slow'",
    });
    expect(outcome.steps.map((s) => s.status)).toEqual(['succeeded', 'timed_out', 'skipped']);
  });

  it('returns cancelled without running anything when the signal is already aborted', async () => {
    const root = tempDir();
    const { outcome } = await runCollected(makeTask([{ run: 'touch ran' }]), {
      workRoot: root,
      signal: AbortSignal.abort(),
    });
    expect(outcome).toMatchObject({ status: 'cancelled', reason: 'cancelled', exitCode: null });
    expect(outcome.steps[0]?.status).toBe('skipped');
  });

  it('reports each step starting with its pid and finishing with its exit code', async () => {
    const events: unknown[] = [];
    await runCollected(
      makeTask([
        { name: 'a', run: 'exit 0' },
        { name: 'b', run: 'exit 4' },
      ]),
      {
        workRoot: tempDir(),
        onStep: (e) => events.push({ ...e, pid: typeof e.pid, durationMs: typeof e.durationMs }),
      },
    );
    expect(events).toEqual([
      { index: 0, name: 'a', state: 'started', pid: 'number', durationMs: 'undefined' },
      {
        index: 0,
        name: 'a',
        state: 'finished',
        exitCode: 0,
        status: 'succeeded',
        pid: 'undefined',
        durationMs: 'number',
      },
      { index: 1, name: 'b', state: 'started', pid: 'number', durationMs: 'undefined' },
      {
        index: 1,
        name: 'b',
        state: 'finished',
        exitCode: 4,
        status: 'failed',
        pid: 'undefined',
        durationMs: 'number',
      },
    ]);
  });
});

describe('runTask: process containment', () => {
  it.runIf(process.getuid?.() === 0)(
    'runs each step in its own pid namespace when running as root',
    async () => {
      expect((await containmentPlan('auto')).level).toBe('namespace');
      const { output } = await runCollected(
        makeTask([{ run: 'readlink /proc/self/ns/pid; ls /proc | grep -c "^[0-9]"' }]),
        { workRoot: tempDir() },
      );
      const [ns, visible] = output.trim().split('\n');
      expect(ns).toMatch(/^pid:\[\d+\]$/);
      expect(ns).not.toBe(readlinkSync('/proc/self/ns/pid'));
      // Only the namespace's own processes: Baton's init, the step and what it ran (the host has hundreds).
      expect(Number(visible)).toBeLessThan(8);
    },
  );

  it('with only setpriv, kills what a step left in its process group and what a timeout interrupted', async () => {
    const pids = join(tempDir(), 'pids');
    const task = makeTask([
      { name: 'leaves', run: `sleep 600 &\necho "$!" >> ${pids}` },
      { name: 'hangs', run: `sleep 600 &\necho "$$ $!" >> ${pids}\nwait`, timeoutMs: 500 },
    ]);
    const { outcome, system } = await runCollected(task, {
      workRoot: tempDir(),
      containment: 'pdeathsig',
      cancelGraceMs: 500,
    });
    expect(outcome.status).toBe('timed_out');
    expect(system).toMatch(
      /killed what the step left running in its process group: 1 process: (sleep|bash) /,
    ); // bash: the forked job had not exec'd sleep yet
    const recorded = readFileSync(pids, 'utf8').split(/\s+/).filter(Boolean).map(Number);
    expect(recorded).toHaveLength(3);
    expect(recorded.filter(pidAlive)).toEqual([]);
  });

  it('without containment, a setsid grandchild holding the output pipe does not hang the task', async () => {
    const token = `baton-${randomBytes(6).toString('hex')}`;
    onTestFinished(() => {
      for (const pid of processesWith(token)) process.kill(pid, 'SIGKILL'); // it escaped, as this level allows
    });
    // `up` is written by the bash setsid exec'd, so the step ends only once its grandchild left the group.
    const run = `setsid bash -c 'echo up > up; exec -a ${token} sleep 600' &\nuntil [ -s up ]; do sleep 0.02; done`;
    const { outcome, system } = await runCollected(makeTask([{ run }]), {
      workRoot: tempDir(),
      containment: 'none',
    });
    expect(outcome.status).toBe('succeeded');
    expect(system).toContain("output is still held open by a process that left the step's process group");
  });

  it("kills a step's whole tree, setsid and nohup grandchildren too, when the runner is killed", async () => {
    const dir = tempDir();
    const token = `baton-${randomBytes(6).toString('hex')}`;
    const script = join(dir, 'runner.ts');
    writeFileSync(
      script,
      [
        `import { runTask } from ${JSON.stringify(join(import.meta.dirname, 'index.ts'))};`,
        `import { makeTask, stringEnv } from ${JSON.stringify(join(import.meta.dirname, 'test-support.ts'))};`,
        `const task = makeTask([{ run: ${JSON.stringify(`${escapees(token)}\nsleep 600`)} }]);`,
        `await runTask(task, { workRoot: ${JSON.stringify(join(dir, 'work'))}, baseEnv: stringEnv(process.env), onLog: (e) => process.stdout.write(e.text) });`,
      ].join('\n'),
    );
    const runner = startTracked('engine runner', process.execPath, [script]);
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      runner.child.stdout?.on('data', (b: Buffer) => {
        seen += b.toString();
        if (/^ready /m.test(seen)) resolve();
      });
      void runner.exited.then(() => reject(new Error(`runner exited before the step was ready: ${seen}`)));
    });
    expect(escapeesAlive(token)).toBe(true);
    process.kill(runner.pid, 'SIGKILL');
    await runner.exited;
    await waitFor(() => processesWith(token).length === 0, `the processes holding ${token} to die`);
  });
});
