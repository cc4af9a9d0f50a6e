// The on-disk spool of one attempt: every log chunk and the final result are written here before they are
// sent, and removed only once the server acknowledged them, so neither a server restart, a network drop nor
// the runner's own restart loses a byte. Layout of `<state>/spool/<lease>/`:
//   meta.json    the offer (lease, task, timings)
//   log.bin      the stored log's bytes: chunk i starts at its `offset`
//   index        one line per chunk: "seq offset length"
//   acked        the highest seq the server acknowledged
//   tail.bin     bytes past the head of a log over its size limit (only the last part is kept)
//   result.json  the `complete` body, once the task finished
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { AcquireResponse, CompleteBody } from '../protocol/api.ts';

export interface SpoolEntry {
  seq: number;
  offset: number;
  length: number;
}

export interface SpoolMeta {
  lease: string;
  runId: string;
  taskName: string;
  attempt: number;
  heartbeatIntervalMs: number;
}

export class Spool {
  readonly dir: string;
  readonly entries: SpoolEntry[] = [];
  #acked = -1;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static create(root: string, offer: AcquireResponse): Spool {
    const dir = join(root, offer.lease);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const meta: SpoolMeta = {
      lease: offer.lease,
      runId: offer.task.runId,
      taskName: offer.task.name,
      attempt: offer.task.attempt,
      heartbeatIntervalMs: offer.heartbeatIntervalMs,
    };
    // log.bin and index are created by the first append (a task that prints nothing needs neither).
    writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta), { mode: 0o600 });
    return new Spool(dir);
  }

  /** Reopens a spool left by an earlier runner process. */
  static open(dir: string): Spool {
    const s = new Spool(dir);
    const index = existsSync(join(dir, 'index')) ? readFileSync(join(dir, 'index'), 'utf8') : '';
    for (const line of index.split('\n')) {
      const [seq, offset, length] = line.split(' ').map(Number);
      if (seq === undefined || offset === undefined || length === undefined || Number.isNaN(length)) continue;
      s.entries.push({ seq, offset, length });
    }
    const acked = existsSync(join(dir, 'acked')) ? Number(readFileSync(join(dir, 'acked'), 'utf8')) : -1;
    s.#acked = Number.isInteger(acked) ? acked : -1;
    return s;
  }

  /** Spool directories under `root`, oldest first. */
  static list(root: string): string[] {
    if (!existsSync(root)) return [];
    return readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'meta.json')))
      .map((d) => join(root, d.name));
  }

  meta(): SpoolMeta {
    return JSON.parse(readFileSync(join(this.dir, 'meta.json'), 'utf8')) as SpoolMeta;
  }

  get acked(): number {
    return this.#acked;
  }

  /** Bytes of the stored log so far (the next chunk's offset). */
  get size(): number {
    const last = this.entries[this.entries.length - 1];
    return last ? last.offset + last.length : 0;
  }

  append(bytes: Buffer): SpoolEntry {
    const entry = { seq: this.entries.length, offset: this.size, length: bytes.length };
    appendFileSync(join(this.dir, 'log.bin'), bytes, { mode: 0o600 });
    appendFileSync(join(this.dir, 'index'), `${entry.seq} ${entry.offset} ${entry.length}\n`, {
      mode: 0o600,
    });
    this.entries.push(entry);
    return entry;
  }

  read(entry: SpoolEntry): string {
    const buf = Buffer.alloc(entry.length);
    const fd = openSync(join(this.dir, 'log.bin'), 'r');
    try {
      readSync(fd, buf, 0, entry.length, entry.offset);
    } finally {
      closeSync(fd);
    }
    return buf.toString('utf8');
  }

  ack(seq: number): void {
    if (seq <= this.#acked) return;
    this.#acked = seq;
    writeFileSync(join(this.dir, 'acked'), String(seq));
  }

  unacked(): SpoolEntry[] {
    return this.entries.filter((e) => e.seq > this.#acked);
  }

  saveResult(body: CompleteBody): void {
    writeFileSync(join(this.dir, 'result.json'), JSON.stringify(body), { mode: 0o600 });
  }

  result(): CompleteBody | undefined {
    const p = join(this.dir, 'result.json');
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as CompleteBody) : undefined;
  }

  tailPath(): string {
    return join(this.dir, 'tail.bin');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
