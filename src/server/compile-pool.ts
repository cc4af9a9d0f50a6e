// Workflow compilation off the event loop (docs/adr/0009-compile-in-a-worker.md): one worker
// thread by default compiles submissions one at a time, a bounded queue waits for it, and a
// submission past the queue is refused at once with 503 so heartbeats, log chunks and completes
// are never answered late because of a hostile workflow. Compiling is a pure function of the text and the
// options, so results are kept in a bounded cache by their digest: a workflow submitted again (a re-run, a
// schedule, the same file from CI) skips the worker, and identical submissions waiting at once share one compile.
import { createHash } from 'node:crypto';
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
  /** Compile results kept by digest, oldest used dropped first. Default 256; 0 turns the cache off. */
  cacheEntries: number;
  /** The cached results' summed size (their JSON length, measured by the worker). Default 32 MiB. */
  cacheBytes: number;
}

export const COMPILE_POOL_DEFAULTS: CompilePoolOptions = Object.freeze({
  workers: 1,
  maxQueued: 16,
  maxHeapMb: 1024,
  timeoutMs: 30_000,
  cacheEntries: 256,
  cacheBytes: 32 * 1024 * 1024,
});

interface Pending {
  job: CompileJob;
  /** The cache's key for the result, when it is to be kept. */
  key: string | undefined;
  /** Identical submissions that came while this one waited or compiled: they get the same result. */
  followers: { resolve: (result: CompileResult) => void; reject: (error: Error) => void }[];
  resolve: (result: CompileResult) => void;
  reject: (error: Error) => void;
}

/** The worker's answer: the result and its JSON length, measured there so the cache's bound costs the loop nothing. */
export interface CompileAnswer {
  id: number;
  result: CompileResult;
  bytes: number;
}

interface Cached {
  result: CompileResult;
  bytes: number;
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
  /** Insertion order is use order: a hit moves its entry to the end, the first entry is the oldest used. */
  private readonly cache = new Map<string, Cached>();
  private cachedBytes = 0;
  /** Compiles queued or running, by digest, so identical submissions waiting at once share one. */
  private readonly inflight = new Map<string, Pending>();

  constructor(options: Partial<CompilePoolOptions> = {}) {
    this.options = { ...COMPILE_POOL_DEFAULTS, ...options };
  }

  /** Compiles in a worker; rejects with 503 `unavailable` when the queue is full. */
  compile(text: string | Uint8Array, options: CompileOptions): Promise<CompileResult> {
    if (this.closed) return Promise.reject(new BatonError('unavailable', 'the server is shutting down'));
    if (this.options.cacheEntries <= 0) return this.enqueue(text, options, undefined);
    const key = digest(text, options);
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      // A copy, as the worker's answer is one: whoever gets the result may change it.
      return Promise.resolve(structuredClone(hit.result));
    }
    const waiting = this.inflight.get(key);
    if (waiting) return new Promise((resolve, reject) => waiting.followers.push({ resolve, reject }));
    return this.enqueue(text, options, key);
  }

  /** How many results the cache holds and their summed size in bytes. */
  get cached(): { entries: number; bytes: number } {
    return { entries: this.cache.size, bytes: this.cachedBytes };
  }

  private enqueue(
    text: string | Uint8Array,
    options: CompileOptions,
    key: string | undefined,
  ): Promise<CompileResult> {
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
      const followers: Pending['followers'] = [];
      const settled = () => {
        if (key !== undefined) this.inflight.delete(key);
      };
      const pending: Pending = {
        job: { id: this.nextId++, text, options },
        key,
        followers,
        // Each follower gets its own copy, made before the first caller can change the result.
        resolve: (result) => {
          settled();
          for (const f of followers) f.resolve(structuredClone(result));
          resolve(result);
        },
        reject: (error) => {
          settled();
          for (const f of followers) f.reject(error);
          reject(error);
        },
      };
      if (key !== undefined) this.inflight.set(key, pending);
      this.queue.push(pending);
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
    worker.on('message', (message: CompileAnswer) => {
      const pending = slot.current;
      if (!pending || pending.job.id !== message.id) return;
      clearTimeout(slot.timer);
      slot.current = undefined;
      // Only the worker's own answers are kept: a timeout or a worker out of memory may not recur.
      if (pending.key !== undefined) this.remember(pending.key, message.result, message.bytes);
      pending.resolve(message.result);
      this.pump();
    });
    worker.on('error', (error) => this.fail(slot, error));
    worker.on('exit', () => this.fail(slot, new Error('the compile worker exited')));
    this.slots.push(slot);
    return slot;
  }

  private remember(key: string, result: CompileResult, bytes: number): void {
    if (bytes > this.options.cacheBytes) return;
    this.cache.set(key, { result: structuredClone(result), bytes });
    this.cachedBytes += bytes;
    for (const [oldest, entry] of this.cache) {
      if (this.cache.size <= this.options.cacheEntries && this.cachedBytes <= this.options.cacheBytes) break;
      this.cache.delete(oldest);
      this.cachedBytes -= entry.bytes;
    }
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

/** The digest of everything a compile reads: the text (as given, string or bytes) and the options. */
function digest(text: string | Uint8Array, options: CompileOptions): string {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify([typeof text === 'string' ? 's' : 'b', options.fileName ?? null, options.limits ?? null]),
  );
  hash.update('\0');
  hash.update(JSON.stringify(options.actions ?? null));
  hash.update('\0');
  hash.update(text);
  return hash.digest('hex');
}
