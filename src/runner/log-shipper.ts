// Ships one attempt's log to the server in ordered chunks (100 KiB while the step prints fast, what there is
// at least every 200 ms), two requests in flight, retrying with backoff until acknowledged. Every chunk is written to the attempt's spool before it is
// sent, so memory stays bounded however fast a step prints and nothing is lost while the server is away;
// (seq, offset) make every retry safe on the server. A log over the size limit keeps its first and last
// parts with a marker saying how much was dropped between them. Chunks travel as raw bytes behind a small
// header (protocol/log-frames.ts): the journal's bytes go to the wire as they are.
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  appendFileSync,
  writeSync,
} from 'node:fs';
import type { BatonClient } from '../client/index.ts';
import { ApiError, createBackoff, delay, isRetryable } from '../client/index.ts';
import { toError } from '../protocol/errors.ts';
import type { Spool, SpoolEntry } from './spool.ts';

/** At most this many bytes per chunk. */
export const MAX_CHUNK_BYTES = 100 * 1024;
/** Chunks per request. */
const BATCH_CHUNKS = 10;
/**
 * Requests in flight at once: while the server stores one batch, the next is on its way (W3 in issue 8: one
 * at a time left the runner and the server each idle half the time). Only a full batch goes beside another
 * request; a partial one waits until nothing else is in flight (as Nagle's algorithm), so a fast step's log
 * travels in ~1 MiB requests instead of one or two chunks each — the server's cost of a log call is mostly
 * per request, not per byte (issue 20: 230 KB per request cost it 20 ms of CPU per MB, 1 MB ones 6).
 */
const MAX_IN_FLIGHT = 2;
/**
 * While a step's log streams (chunks came in while a request was in flight), a sender given only part of a
 * batch waits up to this long for the rest before it sends what there is; a flush never waits. Short against
 * FLUSH_INTERVAL_MS, the latency a live log already has; long against the ~20 ms a fast step takes to print a
 * batch.
 */
export const FILL_WAIT_MS = 50;
/** A reused request body holds a full batch: its chunks and their header lines. */
const BODY_BYTES = BATCH_CHUNKS * (MAX_CHUNK_BYTES + 80);
/** Batches of more log bytes than this are read into a reused body; smaller ones into a new buffer. */
const REUSED_BODY_MIN = 64 * 1024;
const encoder = new TextEncoder();
/**
 * Chunk buffers of closed shippers, for the next ones: a new 100 KiB buffer per task was external memory that
 * V8 counts towards its next collection, for tasks that print a line.
 */
const spareChunks: Buffer[] = [];
/** Spare chunk buffers kept at most (a runner's slots rarely exceed this). */
const MAX_SPARE_CHUNKS = 16;
/** Buffered text is sent at least this often. */
export const FLUSH_INTERVAL_MS = 200;
/** Stored log size per task (16 MiB): the first and the last half are kept. */
export const DEFAULT_LOG_LIMIT_BYTES = 16 * 1024 * 1024;
/**
 * Flow control (room()): past this many log bytes held in memory — written but not yet in the spool, or read
 * back from it for a request in flight — the engine stops reading the step's output until the shipper holds
 * less. Spooled bytes waiting for the server do not count: they are on disk, and a step must go on printing
 * while the server is away (RELIABILITY.md: the runner spools meanwhile).
 */
export const MAX_HELD_LOG_BYTES = 3 * 1024 * 1024;

export interface LogShipperOptions {
  client: BatonClient;
  lease: string;
  spool: Spool;
  requestTimeoutMs: number;
  logLimitBytes?: number;
  /** Called when the server refuses the lease (409/404): the attempt must stop. */
  onFenced: (err: Error) => void;
  /**
   * Called once when the server refuses a chunk because its offset contradicts the stored log
   * (`log_offset_conflict`): the log can no longer be appended to consistently, so shipping stops (no retry,
   * which would be refused for ever) while the task itself goes on and still reports its result.
   */
  onRefused?: (err: Error) => void;
  onCancel: () => void;
  onError?: (err: Error, retryInMs: number) => void;
  /** A batch was acknowledged (after errors, the server is reachable again). */
  onSent?: () => void;
  /**
   * Flow control's bound on the log bytes held in memory (room()). Default MAX_HELD_LOG_BYTES: two full
   * batches in flight and a chunk being filled, so the step goes on printing while both are on their way.
   */
  maxHeldBytes?: number;
}

/** Largest n ≤ want such that cutting `buf` at n does not split a UTF-8 character. */
function charBoundary(buf: Buffer, want: number): number {
  let n = Math.min(want, buf.length);
  while (n > 0 && n < buf.length && (buf[n]! & 0xc0) === 0x80) n--;
  return n;
}

export class LogShipper {
  #o: LogShipperOptions;
  /**
   * The chunk being filled: written text is encoded straight into it (no Buffer per write, no concatenation)
   * and it goes to the spool, which copies it, once full, at the flush timer, or at a flush.
   */
  #chunk: Buffer | undefined;
  /** Bytes of #chunk filled. */
  #fill = 0;
  /** Request bodies of full batches, reused once a request was answered (MAX_IN_FLIGHT of them at most). */
  #bodies: Buffer[] = [];
  #timer: NodeJS.Timeout | undefined;
  #senders = new Set<Promise<void>>();
  /** Seqs carried by a request in flight. */
  #inFlight = new Set<number>();
  /** Bytes of the chunks in #inFlight. */
  #inFlightBytes = 0;
  #maxHeldBytes: number;
  /** Resolvers of room() promises, called once the shipper holds less than #maxHeldBytes again. */
  #roomWaiters: (() => void)[] = [];
  /** Senders waiting for a batch to fill (FILL_WAIT_MS), woken once one is full or a flush begins. */
  #fillWaiters: (() => void)[] = [];
  /** flush() calls under way: no sender waits for a batch to fill meanwhile. */
  #flushing = 0;
  /** Seqs the server answered for but has not yet acknowledged as contiguous: not sent again. */
  #stored = new Set<number>();
  #fenced = false;
  /** The server does not know the binary call (an older version): JSON from then on. */
  #jsonOnly = false;
  /** The server refused a chunk's offset: nothing more is sent for this attempt. */
  #refused = false;
  #closed = false;
  #headLimit: number;
  #tailLimit: number;
  #overflow = 0;
  #dropped = 0;
  #written = 0;

  constructor(o: LogShipperOptions) {
    this.#o = o;
    const limit = o.logLimitBytes ?? DEFAULT_LOG_LIMIT_BYTES;
    this.#headLimit = Math.floor(limit / 2);
    // Leave room for the marker line.
    this.#tailLimit = limit - this.#headLimit - 256;
    this.#maxHeldBytes = o.maxHeldBytes ?? MAX_HELD_LOG_BYTES;
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  /** True once the server refused a chunk whose offset contradicted the stored log. */
  get refused(): boolean {
    return this.#refused;
  }

  /** True when the log went past its limit and bytes were dropped (the stored log has a marker there). */
  get truncated(): boolean {
    return this.#dropped > 0;
  }

  /** Bytes written but not yet acknowledged by the server: buffered, spooled and unsent, or in flight. */
  get unacknowledgedBytes(): number {
    let n = this.#fill;
    for (const e of this.#o.spool.unacked()) n += e.length;
    return n;
  }

  /** Log bytes held in memory: written but not yet spooled, or read back for a request in flight. */
  get heldBytes(): number {
    return this.#fill + this.#inFlightBytes;
  }

  /**
   * Flow control for the writer: undefined while the shipper has room (it holds at most maxHeldBytes in
   * memory), else a promise that resolves once it has room again — or once it stopped shipping (fenced,
   * refused, closed), when writes are dropped or no more come. Never rejects. The engine awaits it with the
   * step's output paused (EngineOptions.logRoom), so a step printing faster than the runner can ship blocks
   * on its pipe instead of growing the runner's memory.
   */
  room(): Promise<void> | undefined {
    if (this.#hasRoom()) return undefined;
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  #hasRoom(): boolean {
    return this.heldBytes <= this.#maxHeldBytes || this.#fenced || this.#refused || this.#closed;
  }

  /** Resolves the room() promises once there is room. */
  #wake(): void {
    if (this.#roomWaiters.length === 0 || !this.#hasRoom()) return;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Bytes written so far: the offset in the task log where the next write starts (until the log is cut). */
  get written(): number {
    return this.#written;
  }

  write(text: string): void {
    if (this.#fenced || this.#refused || this.#closed || text.length === 0) return;
    const spool = this.#o.spool;
    let spooled = false;
    let rest = text;
    while (rest.length > 0) {
      // The chunk ends at MAX_CHUNK_BYTES or where the head of a log over its limit ends.
      const end = Math.min(MAX_CHUNK_BYTES, this.#headLimit - spool.size);
      if (this.#overflow > 0 || end <= 0) {
        this.#spill(rest);
        break;
      }
      const chunk = (this.#chunk ??= spareChunks.pop() ?? Buffer.allocUnsafeSlow(MAX_CHUNK_BYTES));
      // Whole characters only: encodeInto stops before one that does not fit.
      const { read, written } = encoder.encodeInto(rest, chunk.subarray(this.#fill, end));
      this.#fill += written;
      this.#written += written;
      if (read === rest.length && this.#fill < end) break;
      if (this.#fill === 0) {
        // Not one character fits in what is left of the head: the rest of the log goes to the tail.
        this.#spill(rest);
        break;
      }
      this.#spoolChunk();
      spooled = true;
      rest = rest.slice(read);
    }
    if (spooled) this.#sendSpooled();
    this.#timer ??= setTimeout(() => this.#cut(), FLUSH_INTERVAL_MS);
  }

  /** Past the head (or once nothing more fits in it): `text` goes to the tail file. */
  #spill(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    this.#written += bytes.length;
    this.#spillToTail(bytes);
  }

  /** The chunk being filled, if anything is in it, to the spool (which copies it: the buffer is reused). */
  #spoolChunk(): void {
    if (this.#fill === 0 || this.#chunk === undefined) return;
    this.#o.spool.append(this.#chunk.subarray(0, this.#fill));
    this.#fill = 0;
  }

  /** Sends everything written so far and resolves once the server acknowledged it (or fenced us). */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      await this.#flushAll();
    } finally {
      this.#flushing--;
    }
  }

  async #flushAll(): Promise<void> {
    this.#cut();
    this.#wakeFill();
    while (this.#o.spool.unacked().length > 0 && !this.#fenced && !this.#refused) {
      this.#kick();
      if (this.#senders.size === 0) {
        // Everything left was stored but not yet acknowledged as contiguous (two batches committed at once on
        // PostgreSQL can each miss the other): send it again; the server stores each seq once.
        this.#stored.clear();
        this.#kick();
      }
      await Promise.all(this.#senders);
    }
  }

  /** Ends the log: a truncated log gets its marker and kept tail; then everything is sent. */
  async close(): Promise<void> {
    this.#cut();
    if (this.#overflow > 0) this.#appendTail();
    this.#closed = true;
    // Nothing is written into it any more (write() returns once closed); the spool copied what it held.
    if (this.#chunk !== undefined && spareChunks.length < MAX_SPARE_CHUNKS) spareChunks.push(this.#chunk);
    this.#chunk = undefined;
    this.#wake();
    await this.flush();
  }

  /**
   * The flush timer, a flush or the end: the chunk being filled goes to the spool as it is and is sent. While a
   * step prints fast, chunks go full (write()), so its log travels in whole 100 KiB chunks.
   */
  #cut(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#fill === 0) return;
    this.#spoolChunk();
    this.#sendSpooled();
  }

  /** After chunks were spooled: a filled batch wakes its waiting sender, senders start, writers get room. */
  #sendSpooled(): void {
    if (this.#unsent().length >= BATCH_CHUNKS) this.#wakeFill();
    this.#kick();
    this.#wake();
  }

  #wakeFill(): void {
    const waiters = this.#fillWaiters;
    this.#fillWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves once a batch is full, a flush began, or FILL_WAIT_MS passed. */
  #filled(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, FILL_WAIT_MS);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#fillWaiters.push(done);
    });
  }

  /** Past the head: keep bytes in the spool's tail file, trimmed to the last `tailLimit` bytes now and then. */
  #spillToTail(buf: Buffer): void {
    const path = this.#o.spool.tailPath();
    appendFileSync(path, buf);
    this.#overflow += buf.length;
    const size = statSync(path).size;
    if (size > 2 * this.#tailLimit) {
      const out = openSync(`${path}.new`, 'w', 0o600);
      try {
        this.#readTail(
          path,
          () => {},
          (piece) => writeSync(out, piece),
        );
      } finally {
        closeSync(out);
      }
      renameSync(`${path}.new`, path);
    }
  }

  /**
   * Reads the kept tail — the last `tailLimit` bytes of the tail file, from a character boundary — calling
   * `begin` with its length, then `sink` with it in pieces of at most MAX_CHUNK_BYTES that each end on a
   * character boundary. One buffer is reused (the sink copies what it keeps): reading the whole 8 MiB tail
   * at once cost the runner that much memory, twice over, each time the file was trimmed and at the end.
   */
  #readTail(path: string, begin: (length: number) => void, sink: (piece: Buffer) => void): void {
    if (!existsSync(path)) return begin(0);
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.allocUnsafe(MAX_CHUNK_BYTES);
      let at = size - Math.min(size, this.#tailLimit);
      const first = readSync(fd, buf, 0, Math.min(4, size - at), at);
      let skip = 0;
      while (skip < first && (buf[skip]! & 0xc0) === 0x80) skip++;
      at += skip;
      begin(size - at);
      let held = 0;
      while (at < size || held > 0) {
        const n = at < size ? readSync(fd, buf, held, Math.min(buf.length - held, size - at), at) : 0;
        at += n;
        const filled = held + n;
        // More follows: end before the last character, which may continue in the next read.
        const cut = at < size ? charBoundary(buf.subarray(0, filled), filled - 1) || filled : filled;
        sink(buf.subarray(0, cut));
        buf.copy(buf, 0, cut, filled);
        held = filled - cut;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Past the head, the kept tail follows; a marker says how much was dropped between them, if anything was. */
  #appendTail(): void {
    const limitMiB = Math.round(((this.#headLimit * 2) / 1024 / 1024) * 10) / 10;
    this.#readTail(
      this.#o.spool.tailPath(),
      (kept) => {
        this.#dropped = this.#overflow - kept;
        if (this.#dropped > 0)
          this.#o.spool.append(
            Buffer.from(
              `\n[baton] log truncated: ${this.#dropped} bytes dropped here; the limit is ${limitMiB} MiB per task (its first and last parts are kept)\n`,
              'utf8',
            ),
          );
      },
      (piece) => this.#o.spool.append(piece),
    );
  }

  /**
   * Starts senders, up to MAX_IN_FLIGHT, while there are chunks no request carries yet: the first for any
   * chunk, a second only for a full batch. A sender that ends kicks again, for a partial batch left waiting.
   */
  #kick(): void {
    for (;;) {
      if (this.#senders.size >= MAX_IN_FLIGHT || this.#fenced || this.#refused) return;
      const unsent = this.#unsent().length;
      if (unsent === 0 || (this.#senders.size > 0 && unsent < BATCH_CHUNKS)) return;
      const sender: Promise<void> = this.#sendLoop().finally(() => {
        this.#senders.delete(sender);
        this.#kick();
      });
      this.#senders.add(sender);
    }
  }

  /** Unacknowledged chunks that no request in flight carries and the server has not stored. */
  #unsent(): SpoolEntry[] {
    return this.#o.spool.unacked().filter((e) => !this.#inFlight.has(e.seq) && !this.#stored.has(e.seq));
  }

  /**
   * Sends one batch. Raw bytes from the journal to the wire, no decode and no JSON (docs/adr/0021-log-bytes.md);
   * to a server older than the binary call (it answers "no route"), the JSON call, for the rest of the attempt.
   */
  async #upload(batch: SpoolEntry[]): Promise<{ ackedSeq: number; cancel: boolean }> {
    const spool = this.#o.spool;
    if (!this.#jsonOnly) {
      // A streaming log's batch is read into a reused body: a megabyte of new memory per request was garbage.
      const carried = batch.reduce((n, e) => n + e.length, 0);
      const reused =
        carried > REUSED_BODY_MIN ? (this.#bodies.pop() ?? Buffer.allocUnsafeSlow(BODY_BYTES)) : undefined;
      try {
        const res = await this.#o.client.sendLogBody(
          this.#o.lease,
          spool.readBatch(batch, reused),
          this.#o.requestTimeoutMs,
        );
        // Answered: the body was written whole. After a failure it is dropped, never reused (a destroyed
        // request may still hold it).
        if (reused !== undefined) this.#bodies.push(reused);
        return res;
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404 && err.message.startsWith('no route for ')))
          throw err;
        this.#jsonOnly = true;
      }
    }
    const chunks = batch.map((e) => ({
      seq: e.seq,
      offset: e.offset,
      data: spool.read(e).toString('utf8'),
    }));
    return this.#o.client.sendLogs(this.#o.lease, chunks, this.#o.requestTimeoutMs);
  }

  // Each sender takes the next batch no other request carries (its body runs to the first await before
  // #kick looks again, so two never take the same chunks). The server stores chunks by seq, idempotently, in
  // any order, and answers with the highest seq stored contiguously from 0: a later batch stored first is
  // acknowledged once the earlier one lands, and readers only ever see the contiguous prefix.
  async #sendLoop(): Promise<void> {
    const backoff = createBackoff(100, 5_000);
    const spool = this.#o.spool;
    for (let streaming = false; ; streaming = true) {
      if (this.#fenced || this.#refused) return;
      let batch = this.#unsent().slice(0, BATCH_CHUNKS);
      // More came while the last request was on its way: the log streams, give the batch time to fill.
      if (streaming && batch.length > 0 && batch.length < BATCH_CHUNKS && this.#flushing === 0) {
        await this.#filled();
        if (this.#fenced || this.#refused) return;
        batch = this.#unsent().slice(0, BATCH_CHUNKS);
      }
      // A partial batch only alone: beside another request it waits to be filled (#kick sends it later).
      if (batch.length === 0 || (batch.length < BATCH_CHUNKS && this.#inFlight.size > 0)) return;
      for (const e of batch) this.#inFlight.add(e.seq);
      const carried = batch.reduce((n, e) => n + e.length, 0);
      this.#inFlightBytes += carried;
      try {
        const res = await this.#upload(batch);
        for (const e of batch) {
          this.#inFlight.delete(e.seq);
          this.#stored.add(e.seq);
        }
        this.#inFlightBytes -= carried;
        this.#wake();
        spool.ack(res.ackedSeq);
        for (const seq of this.#stored) if (seq <= spool.acked) this.#stored.delete(seq);
        backoff.reset();
        this.#o.onSent?.();
        if (res.cancel) this.#o.onCancel();
      } catch (err) {
        const e = toError(err);
        for (const c of batch) this.#inFlight.delete(c.seq);
        this.#inFlightBytes -= carried;
        if (err instanceof ApiError && err.code === 'log_offset_conflict') {
          if (!this.#refused) {
            this.#refused = true;
            this.#o.onRefused?.(e);
          }
          this.#wake();
          return;
        }
        if (!isRetryable(err)) {
          this.#fenced = true;
          this.#o.onFenced(e);
          this.#wake();
          return;
        }
        this.#wake();
        const ms = backoff.next();
        this.#o.onError?.(e, ms);
        await delay(ms);
      }
    }
  }
}
