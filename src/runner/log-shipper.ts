// Ships one attempt's log to the server in ordered chunks (≤ 100 KiB, at least every 200 ms), one request in
// flight, retrying with backoff until acknowledged; (seq, offset) make every retry safe on the server.
import type { BatonClient } from '../client/index.ts';
import { createBackoff, delay, isRetryable } from '../client/index.ts';
import type { LogChunk } from '../protocol/api.ts';
import { toError } from '../protocol/errors.ts';

/** At most this many bytes per chunk. */
export const MAX_CHUNK_BYTES = 100 * 1024;
/** Buffered text is sent at least this often. */
export const FLUSH_INTERVAL_MS = 200;
/** UTF-16 units that always fit in MAX_CHUNK_BYTES of UTF-8 (at most 3 bytes per unit). */
const MAX_CHUNK_UNITS = Math.floor(MAX_CHUNK_BYTES / 3);

export interface LogShipperOptions {
  client: BatonClient;
  lease: string;
  requestTimeoutMs: number;
  /** Called when the server refuses the lease (409/404): the attempt must stop. */
  onFenced: (err: Error) => void;
  onCancel: () => void;
  onError?: (err: Error, retryInMs: number) => void;
}

export class LogShipper {
  #o: LogShipperOptions;
  #pending = '';
  #queue: LogChunk[] = [];
  #seq = 0;
  #offset = 0;
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #fenced = false;
  #closed = false;

  constructor(o: LogShipperOptions) {
    this.#o = o;
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  write(text: string): void {
    if (this.#fenced || this.#closed || text.length === 0) return;
    this.#pending += text;
    if (this.#pending.length >= MAX_CHUNK_UNITS) this.#cut();
    else this.#timer ??= setTimeout(() => this.#cut(), FLUSH_INTERVAL_MS);
  }

  /** Sends everything written so far and resolves once the server acknowledged it (or fenced us). */
  async flush(): Promise<void> {
    this.#cut();
    while (this.#queue.length > 0 && !this.#fenced) {
      this.#kick();
      await this.#sending;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  #cut(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#pending.length > 0) {
      let n = Math.min(this.#pending.length, MAX_CHUNK_UNITS);
      // Never split a surrogate pair between two chunks.
      const last = this.#pending.charCodeAt(n - 1);
      if (n < this.#pending.length && last >= 0xd800 && last <= 0xdbff) n--;
      const data = this.#pending.slice(0, n);
      this.#pending = this.#pending.slice(n);
      this.#queue.push({ seq: this.#seq++, offset: this.#offset, data });
      this.#offset += Buffer.byteLength(data, 'utf8');
    }
    this.#kick();
  }

  #kick(): void {
    if (this.#sending || this.#queue.length === 0 || this.#fenced) return;
    this.#sending = this.#sendLoop().finally(() => {
      this.#sending = undefined;
    });
  }

  async #sendLoop(): Promise<void> {
    const backoff = createBackoff(100, 5_000);
    while (this.#queue.length > 0 && !this.#fenced) {
      // Batch what is queued, up to 10 chunks (≤ 1 MiB) per request.
      const batch = this.#queue.slice(0, 10);
      try {
        const res = await this.#o.client.sendLogs(this.#o.lease, batch, this.#o.requestTimeoutMs);
        this.#queue = this.#queue.filter((c) => c.seq > res.ackedSeq);
        backoff.reset();
        if (res.cancel) this.#o.onCancel();
      } catch (err) {
        const e = toError(err);
        if (!isRetryable(err)) {
          this.#fenced = true;
          this.#queue = [];
          this.#o.onFenced(e);
          return;
        }
        const ms = backoff.next();
        this.#o.onError?.(e, ms);
        await delay(ms);
      }
    }
  }
}
