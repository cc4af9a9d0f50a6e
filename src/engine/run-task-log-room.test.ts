// Flow control from the log's sink (EngineOptions.logRoom): a step whose output the sink has no room for blocks
// on its pipe, and resumes with nothing lost once the sink has room.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { makeTask, processesWith, runCollected, waitFor } from './test-support.ts';

/**
 * True when the process sleeps in the kernel writing to its full stdout: a socket pair, as Node makes a child's
 * stdio pipes (wchan `sock_alloc_send_pskb`), or a pipe (`pipe_write`, `anon_pipe_write`).
 */
function blockedOnPipe(pid: number): boolean {
  try {
    return /sock_alloc_send|pipe_write$/.test(readFileSync(`/proc/${pid}/wchan`, 'utf8'));
  } catch {
    return false; // gone
  }
}

describe('runTask: flow control from the log sink', () => {
  it('stops reading a step while the sink has no room, so the step blocks on its pipe, and loses nothing', async () => {
    const token = `log-room-${process.pid}-${Date.now()}`;
    const total = 1_000_000; // far past what the socket's buffer and the stream's own hold
    // One process, named by the token, writes straight into the step's stdout.
    const run = `yes 0123456789 | head -c ${total} > big.txt || true\n(exec -a ${token} cat big.txt)\nprintf 'tail\\n' >&2`;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let asked = 0;
    let received = 0;
    const running = runCollected(makeTask([{ run }]), {
      workRoot: tempDir(),
      onLog: (e) => {
        if (e.stream === 'stdout') received += e.text.length;
      },
      logRoom: () => {
        asked++;
        return asked === 1 ? gate : undefined;
      },
    });
    await waitFor(() => processesWith(token).some(blockedOnPipe), 'the step to block on its stdout');
    expect(received).toBeLessThan(total);
    open();
    const { outcome, logs } = await running;
    expect(outcome.status).toBe('succeeded');
    const stdout = logs
      .filter((e) => e.stream === 'stdout')
      .map((e) => e.text)
      .join('');
    expect(stdout).toBe('0123456789\n'.repeat(total / 11 + 1).slice(0, total));
    expect(logs.filter((e) => e.stream === 'stderr').map((e) => e.text)).toEqual(['tail\n']);
    expect(asked).toBeGreaterThan(1);
  });

  it('masks a secret split across the pause exactly as without one', async () => {
    const secret = 'hunter2-very-secret-value';
    const run = `printf 'a${secret.slice(0, 10)}'; sleep 0.2; printf '${secret.slice(10)}b\\n'`;
    let asked = 0;
    const { output, outcome } = await runCollected(makeTask([{ run }], { context: { mask: [secret] } }), {
      workRoot: tempDir(),
      // Every piece of output waits for room a moment later: the masker's held-back prefix spans the wait.
      logRoom: () => (++asked % 2 === 1 ? new Promise((resolve) => setTimeout(resolve, 50)) : undefined),
    });
    expect(outcome.status).toBe('succeeded');
    expect(output).toBe('a***b\n');
    expect(asked).toBeGreaterThan(0);
  });
});
