// Workflow compilation off the event loop (docs/adr/0009-compile-in-a-worker.md): one worker
// thread by default compiles submissions one at a time, a bounded queue waits for it, and a
// submission past the queue is refused at once with 503 so heartbeats, log chunks and completes
// are never answered late because of a hostile workflow.
import { Worker } from 'node:worker_threads';
import { BatonError } from '../protocol/errors.ts';
import type { CompileOptions, CompileResult } from '../workflow/index.ts';
import type { CompileJob } from './compile-worker.ts';

export interface CompilePoolOptions {
  /** Worker threads. Default 1: compiling is CPU-bound and the server's own loop needs a core. */
  workers: number;
  /** Submissions that may wait for a worker; one more is refused with 503 `unavailable`. Default 16. */
  maxQueued: number;
  /** Heap of one worker in MiB; a workflow that needs more is refused. Default 1024. */
  maxHeapMb: number;
  /** A compile running longer is stopped and the workflow refused. Default 30 s. */
  timeoutMs: number;
}

export const COMPILE_POOL_DEFAULTS: CompilePoolOptions = Object.freeze({
  workers: 1,
  maxQueued: 16,
  maxHeapMb: 1024,
  timeoutMs: 30_000,
});

interface Pending {
  job: CompileJob;
  resolve: (result: CompileResult) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  current: Pending | undefined;
  timer: NodeJS.Timeout | undefined;
}

// Run from the TypeScript sources, the worker is the .ts file; from dist/, the compiled .js.
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './compile-worker.ts' : './compile-worker.js',
  import.meta.url,
);

export class CompilePool {
  private readonly options: CompilePoolOptions;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: Partial<CompilePoolOptions> = {}) {
    this.options = { ...COMPILE_POOL_DEFAULTS, ...options };
  }

  /** Compiles in a worker; rejects with 503 `unavailable` when the queue is full. */
  compile(text: string | Uint8Array, options: CompileOptions): Promise<CompileResult> {
    if (this.closed) return Promise.reject(new BatonError('unavailable', 'the server is shutting down'));
    const busy = this.slots.filter((slot) => slot.current !== undefined).length;
    if (busy >= this.options.workers && this.queue.length >= this.options.maxQueued)
      return Promise.reject(
        new BatonError(
          'unavailable',
          `the server is compiling ${busy} workflow(s) and ${this.queue.length} more are waiting; the limit is ${this.options.maxQueued} waiting submissions: try again in a few seconds`,
          { limit: this.options.maxQueued },
        ),
      );
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, text, options }, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0))
      pending.reject(new BatonError('unavailable', 'the server is shutting down'));
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.current === undefined);
      if (!slot && this.slots.length < this.options.workers) slot = this.spawn();
      if (!slot) return;
      const pending = this.queue.shift()!;
      slot.current = pending;
      slot.timer = setTimeout(() => this.fail(slot, 'timeout'), this.options.timeoutMs);
      slot.worker.postMessage(pending.job);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, {
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb },
    });
    worker.unref();
    const slot: Slot = { worker, current: undefined, timer: undefined };
    worker.on('message', (message: { id: number; result: CompileResult }) => {
      const pending = slot.current;
      if (!pending || pending.job.id !== message.id) return;
      clearTimeout(slot.timer);
      slot.current = undefined;
      pending.resolve(message.result);
      this.pump();
    });
    worker.on('error', (error) => this.fail(slot, error));
    worker.on('exit', () => this.fail(slot, new Error('the compile worker exited')));
    this.slots.push(slot);
    return slot;
  }

  /** The slot's worker is gone or stuck: refuse its workflow, replace the worker, go on with the queue. */
  private fail(slot: Slot, cause: Error | 'timeout'): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    clearTimeout(slot.timer);
    const pending = slot.current;
    slot.current = undefined;
    if (cause === 'timeout') void slot.worker.terminate();
    if (pending) {
      const outOfMemory =
        cause !== 'timeout' && (cause as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
      const why =
        cause === 'timeout'
          ? `took longer than ${this.options.timeoutMs} ms to compile`
          : outOfMemory
            ? `needed more than ${this.options.maxHeapMb} MiB of memory to compile`
            : `could not be compiled (${cause.message})`;
      const message = `the workflow ${why}; the limit is ${this.options.timeoutMs} ms and ${this.options.maxHeapMb} MiB per workflow: make it smaller`;
      pending.resolve({
        ok: false,
        issues: [{ code: 'limit_exceeded', message, line: 0, column: 0, path: '' }],
      });
    }
    if (!this.closed) this.pump();
  }
}
