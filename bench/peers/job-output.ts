// What the peers' trivial workers do with a job: run its script file the way Baton's runner runs a bash step
// and store the output in the peer's own store as it arrives, so the job is acknowledged only once its whole
// output is stored (the same order as Baton's runner: the outcome is sent after the log is acknowledged).
import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** The runner's argv for a bash step (src/engine/shell.ts); the bench's baselines use the same. */
export const BASH_ARGS = ['--noprofile', '--norc', '-eo', 'pipefail'] as const;

/** At most this many bytes per write to the store: Baton's runner sends ≤ 1 MiB per request (10 × 100 KiB). */
export const MAX_WRITE_BYTES = 1024 * 1024;

/** The step's pipes are paused while this much output waits for the store, so memory stays bounded. */
const MAX_PENDING_BYTES = 4 * MAX_WRITE_BYTES;

/**
 * Stores one piece of a job's output, in order (`seq` counts from 0); resolves once the store has acknowledged
 * it. Called with one write in flight at a time.
 */
export type AppendOutput = (chunk: Buffer, seq: number) => Promise<void>;

/**
 * Runs `bash --noprofile --norc -eo pipefail FILE` with stdout and stderr piped (as the runner does, both into
 * the one log), writing what accumulates to `append` whenever the previous write is acknowledged. Resolves
 * with the number of bytes stored once every byte is; rejects if the script exits non-zero (after its output
 * is stored) or a write fails (after killing the script).
 */
export async function runScript(file: string, append: AppendOutput): Promise<number> {
  const child = spawn('bash', [...BASH_ARGS, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pipes = [child.stdout, child.stderr];
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let stored = 0;
  let seq = 0;
  let writing: Promise<void> | undefined;
  let failure: Error | undefined;

  const take = (): Buffer => {
    const parts: Buffer[] = [];
    let n = 0;
    while (pending.length > 0 && n < MAX_WRITE_BYTES) {
      const head = pending[0]!;
      const room = MAX_WRITE_BYTES - n;
      if (head.length <= room) {
        parts.push(pending.shift()!);
        n += head.length;
      } else {
        parts.push(head.subarray(0, room));
        pending[0] = head.subarray(room);
        n += room;
      }
    }
    pendingBytes -= n;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  };

  const pump = () => {
    if (writing || pending.length === 0 || failure) return;
    const chunk = take();
    writing = append(chunk, seq++).then(
      () => {
        stored += chunk.length;
        writing = undefined;
        if (pendingBytes < MAX_PENDING_BYTES / 2) for (const p of pipes) p.resume();
        pump();
      },
      (err: unknown) => {
        failure = err instanceof Error ? err : new Error(String(err));
        writing = undefined;
        child.kill('SIGKILL');
      },
    );
  };

  for (const p of pipes)
    p.on('data', (d: Buffer) => {
      pending.push(d);
      pendingBytes += d.length;
      if (pendingBytes >= MAX_PENDING_BYTES) for (const q of pipes) q.pause();
      pump();
    });

  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  // Every byte of both pipes has been read: wait for the writes still due.
  while (writing || (pending.length > 0 && !failure)) {
    pump();
    await writing;
  }
  if (failure) throw failure;
  if (code !== 0) throw new Error(`bash ${file} exited ${code ?? signal} after ${stored} bytes of output`);
  return stored;
}
