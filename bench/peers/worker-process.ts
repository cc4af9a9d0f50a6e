// What both peers' bench sides need: starting the worker process, and waiting for the completions their store
// reports (which may arrive before the bench knows the ids it waits for).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, track } from '../harness.ts';

/** A peer's job that neither finishes nor fails for this long means the peer is stuck: the workload breaks. */
const STALL_MS = 120_000;

/** Starts `node bench/peers/SCRIPT ARGS…` and resolves once it says {ready: true} over IPC. */
export async function startWorkerProcess(
  script: string,
  args: string[],
  what: string,
): Promise<ChildProcess> {
  const child = track(
    spawn(process.execPath, [join(ROOT, 'bench/peers', script), ...args], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    }),
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not ready within 30 s: ${stderr}`)), 30_000);
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited ${code ?? signal} before it was ready: ${stderr}`));
    });
  });
  child.disconnect(); // the IPC channel would keep the bench's event loop alive
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL')
      process.stderr.write(`${what} exited ${code ?? signal}: ${stderr}\n`);
  });
  return child;
}

export interface Completions {
  /** The store says job `id` was acknowledged at `atMs` (ms since the epoch). */
  done(id: string, atMs: number): void;
  failed(id: string, error: string): void;
  /** Every wait, present and future, rejects with this (the worker process died, a connection broke). */
  abort(error: Error): void;
  /** Resolves with the latest acknowledgement time once every id is done; one wait at a time. */
  wait(ids: string[], what: string): Promise<number>;
  forget(ids: string[]): void;
}

/** Completion notices from a store, which may arrive before the bench knows the ids it is waiting for. */
export function createCompletions(): Completions {
  const results = new Map<string, { atMs: number } | { error: string }>();
  let aborted: Error | undefined;
  let current:
    { left: Set<string>; lastMs: number; progressAt: number; settle: (err?: Error) => void } | undefined;
  const note = (id: string) => {
    const r = results.get(id);
    if (!current || !r || !current.left.delete(id)) return;
    if ('error' in r) return current.settle(new Error(`job ${id} failed: ${r.error}`));
    current.lastMs = Math.max(current.lastMs, r.atMs);
    current.progressAt = Date.now();
    if (current.left.size === 0) current.settle();
  };
  return {
    done(id, atMs) {
      results.set(id, { atMs });
      note(id);
    },
    failed(id, error) {
      results.set(id, { error });
      note(id);
    },
    abort(error) {
      aborted ??= error;
      current?.settle(error);
    },
    forget(ids) {
      for (const id of ids) results.delete(id);
    },
    wait(ids, what) {
      if (aborted) return Promise.reject(aborted);
      return new Promise<number>((resolve, reject) => {
        const stalled = setInterval(() => {
          if (current && Date.now() - current.progressAt > STALL_MS)
            current.settle(
              new Error(
                `${current.left.size} of ${ids.length} job(s) neither done nor failed after ${STALL_MS} ms`,
              ),
            );
        }, 1000);
        const w = {
          left: new Set(ids),
          lastMs: 0,
          progressAt: Date.now(),
          settle: (err?: Error) => {
            clearInterval(stalled);
            current = undefined;
            if (err) reject(new Error(`${what}: ${err.message}`, { cause: err }));
            else resolve(w.lastMs);
          },
        };
        current = w;
        for (const id of ids) note(id);
      });
    },
  };
}
