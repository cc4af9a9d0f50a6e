import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { makeTask, runCollected } from './test-support.ts';

describe('runTask: log streaming and cleanup', () => {
  it('delivers a multi-byte character written in two halves intact', async () => {
    const run =
      'import sys, time\nsys.stdout.buffer.write(b"a\\xe2\\x82"); sys.stdout.flush()\ntime.sleep(0.2)\nsys.stdout.buffer.write(b"\\xacb\\n")';
    const { outcome, logs } = await runCollected(makeTask([{ shell: 'python', run }]), {
      workRoot: tempDir(),
    });
    expect(outcome.status).toBe('succeeded');
    const stdout = logs.filter((e) => e.stream === 'stdout');
    expect(stdout.map((e) => e.text).join('')).toBe('a€b\n');
    expect(stdout.every((e) => !e.text.includes('\uFFFD'))).toBe(true);
  });

  it('turns invalid UTF-8 and NUL bytes into U+FFFD, on stdout and stderr separately', async () => {
    const run = "printf 'x\\377y\\000z\\n'\nprintf 'e\\376\\n' >&2";
    const { logs } = await runCollected(makeTask([{ run }]), { workRoot: tempDir() });
    const text = (stream: string): string =>
      logs
        .filter((e) => e.stream === stream)
        .map((e) => e.text)
        .join('');
    expect(text('stdout')).toBe('x\uFFFDy\uFFFDz\n');
    expect(text('stderr')).toBe('e\uFFFD\n');
  });

  it('streams 200 MB of output without holding it in memory', async () => {
    let chars = 0;
    let chunks = 0;
    const before = process.memoryUsage().rss;
    let peak = before;
    const task = makeTask([{ run: 'head -c 200000000 /dev/zero | tr "\\0" "a"' }]);
    const { outcome } = await runCollected(task, {
      workRoot: tempDir(),
      onLog: (e) => {
        if (e.stream !== 'stdout') return;
        chars += e.text.length;
        if (++chunks % 256 === 0) peak = Math.max(peak, process.memoryUsage().rss);
        e.text = ''; // runCollected keeps every event; drop the text so only the engine's memory is measured
      },
    });
    expect(outcome.status).toBe('succeeded');
    expect(chars).toBe(200_000_000);
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('removes the work dir, and a cleanup failure is a log line that does not change the outcome', async () => {
    const root = tempDir();
    // chattr +i makes a file undeletable even for root, so removal fails for real.
    const task = makeTask([
      {
        run: 'touch stuck\nchattr +i stuck\necho "stuck=$PWD/stuck" >> "$BATON_OUTPUT"',
      },
    ]);
    const { outcome, system } = await runCollected(task, { workRoot: root });
    const stuck = outcome.outputs.stuck ?? '';
    onTestFinished(() => {
      execFileSync('chattr', ['-i', stuck]);
    });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.reason).toBeUndefined();
    expect(system).toMatch(/^cleanup failed: .*stuck/m);
    expect(readdirSync(root)).toEqual([readdirSync(root).find((d) => !d.endsWith('.baton'))]);
    expect(stuck).toBe(join(root, readdirSync(root)[0] ?? '', 'stuck'));
  });

  it('rejects when the log callback throws: the caller lost its output, not the user', async () => {
    const task = makeTask([{ run: 'echo hi' }]);
    await expect(
      runCollected(task, {
        workRoot: tempDir(),
        onLog: () => {
          throw new Error('log sink broke');
        },
      }),
    ).rejects.toThrow('log sink broke');
  });
});
