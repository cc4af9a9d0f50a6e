import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { containmentPlan } from './containment.ts';
import { makeTask, processesWith, runCollected, waitFor } from './test-support.ts';
import { launchScript, WarmShells } from './warm-shells.ts';

async function readyPool(size = 1): Promise<WarmShells> {
  const plan = await containmentPlan('auto');
  const pool = WarmShells.create(plan, size);
  if (pool === undefined) throw new Error(`no warm shells with containment '${plan.level}'`);
  await waiting(pool, size);
  return pool;
}

/**
 * Until `n` shells have their inner sh running: its first command opens the FIFO, where it then waits (the
 * inner sh's command line ends with the FIFO's path after "baton-step"; the init's says "baton-step-init").
 */
async function waiting(pool: WarmShells, n: number): Promise<void> {
  await waitFor(() => processesWith(`baton-step\0${pool.dir}`).length >= n, `${n} warm shell(s)`);
  await new Promise((r) => setTimeout(r, 50));
}

const namespace = (await containmentPlan('auto')).level === 'namespace';

describe.runIf(namespace)('warm shells: steps started in a contained shell that was already running', () => {
  it('a step runs in the shell with exactly its environment, cwd, stdin and exit code', async () => {
    const pool = await readyPool();
    try {
      const tricky = `it's "quoted" $HOME \`x\` \\ back\nnew line`;
      const task = makeTask([
        {
          run: [
            'echo "pid1=$(cat /proc/1/cmdline | tr "\\0" " ")"',
            'printf "%s|" "$TRICKY"; echo',
            'echo "oldpwd=${OLDPWD-unset} cwd=$(pwd)"',
            'read -r line || echo "stdin empty"',
            'exit 3',
          ].join('\n'),
          env: { TRICKY: tricky },
        },
      ]);
      const workRoot = tempDir();
      const { outcome, output } = await runCollected(task, {
        workRoot,
        warmShells: pool,
        baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', KEEP: 'me' },
      });
      expect(output).toMatch(/^pid1=.*\. "\$1"' baton-step .*baton-step-init /m); // the warm shell's init
      expect(output).toContain(`${tricky}|\n`);
      expect(output).toMatch(/oldpwd=unset cwd=\/.*\/build-[0-9a-f]{8}\n/);
      expect(output).toContain('stdin empty\n');
      expect(outcome.status).toBe('failed');
      expect(outcome.exitCode).toBe(3);
    } finally {
      pool.close();
    }
  });

  it('a step is spawned as usual when no shell is ready, and the pool refills', async () => {
    const pool = await readyPool(1);
    try {
      // The ready shell dies while idle (as if killed): the step finds none and spawns.
      for (const pid of processesWith(pool.dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already: killing the chain's first process takes the rest with it
        }
      }
      await waitFor(() => processesWith(pool.dir).length === 0, 'the idle shell to die');
      const task = makeTask([{ run: 'echo "one $(cat /proc/1/cmdline | tr "\\0" " ")"' }]);
      const first = await runCollected(task, { workRoot: tempDir(), warmShells: pool });
      expect(first.outcome.status).toBe('succeeded');
      expect(first.output).toMatch(/^one .*exec "\$@"/m);
      // Meanwhile a replacement started; the next step takes it.
      await waiting(pool, 1);
      const second = await runCollected(task, { workRoot: tempDir(), warmShells: pool });
      expect(second.output).toMatch(/^one .*\. "\$1"/m);
    } finally {
      pool.close();
    }
  });

  it('an environment name sh cannot export is set through env(1)', () => {
    const script = launchScript(['/bin/sh', '-c', 'x'], '/w', { 'a.b': '1', C: "it's" }, '/usr/bin/env');
    expect(script).toBe(
      `cd -- '/w' || exit 127\nexec '/usr/bin/env' -i 'a.b=1' 'C=it'\\''s' '/bin/sh' '-c' 'x'\n`,
    );
    const plain = launchScript(['/bin/sh'], '/w', { A: 'x y' }, '/usr/bin/env');
    expect(plain).toBe(`cd -- '/w' || exit 127\nunset PATH PWD OLDPWD\nexport A='x y'\nexec '/bin/sh'\n`);
  });

  it('a cancelled step in a warm shell leaves no process, and close() kills the idle shells', async () => {
    const pool = await readyPool(1);
    const token = `warm-cancel-${process.pid}`;
    const abort = new AbortController();
    const task = makeTask([{ run: `bash -c 'sleep 300; : ${token}'` }]);
    const running = runCollected(task, {
      workRoot: tempDir(),
      warmShells: pool,
      signal: abort.signal,
      cancelGraceMs: 500,
    });
    await waitFor(() => processesWith(token).length > 0, 'the step to start');
    abort.abort();
    const { outcome } = await running;
    expect(outcome.status).toBe('cancelled');
    await waitFor(() => processesWith(token).length === 0, 'the step to be gone');
    await waiting(pool, 1); // the refill
    expect(existsSync(pool.dir)).toBe(true);
    expect(processesWith(pool.dir).length).toBeGreaterThan(0);
    pool.close();
    await waitFor(() => processesWith(pool.dir).length === 0, 'the idle shells to die');
    expect(processesWith(pool.dir)).toEqual([]);
    expect(existsSync(pool.dir)).toBe(false);
  });
});
