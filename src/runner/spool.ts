// The on-disk spool of one attempt: every log chunk and the final result are written here before they are
// sent, and removed only once the server acknowledged them, so neither a server restart, a network drop nor
// the runner's own restart loses a byte. Files under the spool root, per lease:
//   <lease>.journal  records appended in order, each a header line and its bytes:
//                      "M <n>"                  the offer (lease, task, timings) as JSON, always first
//                      "L <seq> <offset> <n>"   a log chunk: the stored log's bytes from <offset>
//                      "R <n>"                  the `complete` body as JSON, once the task finished
//   <lease>.acked    the highest seq the server acknowledged
//   <lease>.tail     bytes past the head of a log over its size limit (only the last part is kept)
// One journal instead of a directory of files: creating a file cost ~0.4 ms on the ext4 disk the benchmarks
// ran on, and the first layout created six per task (issue 8). A record cut short by a crash ends the journal.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { join } from 'node:path';
import type { AcquireResponse, CompleteBody } from '../protocol/api.ts';
import { logFrameHeader } from '../protocol/log-frames.ts';

export interface SpoolEntry {
  seq: number;
  offset: number;
  length: number;
  /** Where the chunk's bytes start in the journal. */
  at: number;
}

export interface SpoolMeta {
  lease: string;
  runId: string;
  taskName: string;
  attempt: number;
  heartbeatIntervalMs: number;
}

const JOURNAL = '.journal';
/** The ack file holds one number, padded to this width so it can be rewritten in place. */
const ACK_WIDTH = 20;

export class Spool {
  /** The journal file. */
  readonly path: string;
  readonly entries: SpoolEntry[] = [];
  #acked = -1;
  #size = 0;
  #meta: SpoolMeta;
  #result: CompleteBody | undefined;
  #fd: number | undefined;
  #ackFd: number | undefined;

  private constructor(path: string, meta: SpoolMeta) {
    this.path = path;
    this.#meta = meta;
  }

  static create(root: string, offer: AcquireResponse): Spool {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const meta: SpoolMeta = {
      lease: offer.lease,
      runId: offer.task.runId,
      taskName: offer.task.name,
      attempt: offer.task.attempt,
      heartbeatIntervalMs: offer.heartbeatIntervalMs,
    };
    const s = new Spool(join(root, `${offer.lease}${JOURNAL}`), meta);
    const json = Buffer.from(JSON.stringify(meta), 'utf8');
    const record = Buffer.concat([Buffer.from(`M ${json.length}\n`), json]);
    // 'wx': a lease is offered once; an existing journal means something is wrong, and this says so.
    writeFileSync(s.path, record, { mode: 0o600, flag: 'wx' });
    s.#size = record.length;
    return s;
  }

  /** Reopens a spool left by an earlier runner process; undefined when its journal has no offer record. */
  static open(path: string): Spool | undefined {
    const bytes = readFileSync(path);
    let pos = 0;
    let spool: Spool | undefined;
    while (pos < bytes.length) {
      const eol = bytes.indexOf(0x0a, pos);
      if (eol < 0) break;
      const [kind, ...fields] = bytes.subarray(pos, eol).toString('utf8').split(' ');
      const numbers = fields.map(Number);
      const n = numbers.at(-1);
      if (n === undefined || !Number.isInteger(n) || n < 0 || eol + 1 + n > bytes.length) break;
      const body = bytes.subarray(eol + 1, eol + 1 + n);
      if (kind === 'M' && spool === undefined) {
        spool = new Spool(path, JSON.parse(body.toString('utf8')) as SpoolMeta);
      } else if (spool === undefined) {
        break;
      } else if (kind === 'L' && numbers.length === 3) {
        spool.entries.push({ seq: numbers[0]!, offset: numbers[1]!, length: n, at: eol + 1 });
      } else if (kind === 'R') {
        spool.#result = JSON.parse(body.toString('utf8')) as CompleteBody;
      } else break;
      pos = eol + 1 + n;
      spool.#size = pos;
    }
    if (spool === undefined) return undefined;
    // A torn last record is dropped: the next append starts where the last whole record ended.
    if (spool.#size < bytes.length) truncateSync(path, spool.#size);
    const acked = existsSync(spool.ackPath) ? Number(readFileSync(spool.ackPath, 'utf8')) : -1;
    spool.#acked = Number.isInteger(acked) ? acked : -1;
    return spool;
  }

  /** Journals under `root`, oldest first. */
  static list(root: string): string[] {
    if (!existsSync(root)) return [];
    return readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith(JOURNAL))
      .map((d) => ({ path: join(root, d.name), mtime: statSync(join(root, d.name)).mtimeMs }))
      .sort((a, b) => a.mtime - b.mtime)
      .map((j) => j.path);
  }

  meta(): SpoolMeta {
    return this.#meta;
  }

  get ackPath(): string {
    return this.path.slice(0, -JOURNAL.length) + '.acked';
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
    const seq = this.entries.length;
    const offset = this.size;
    const header = Buffer.from(`L ${seq} ${offset} ${bytes.length}\n`);
    this.#write(header, bytes);
    const entry = { seq, offset, length: bytes.length, at: this.#size + header.length };
    this.#size += header.length + bytes.length;
    this.entries.push(entry);
    return entry;
  }

  /** A chunk's bytes as journalled: what the shipper sends as is (docs/adr/0021-log-bytes.md). */
  read(entry: SpoolEntry): Buffer {
    const buf = Buffer.allocUnsafe(entry.length);
    this.#readInto(entry, buf, 0);
    return buf;
  }

  /**
   * The binary batch body of `entries` (protocol/log-frames.ts): each chunk's header line, then its bytes read
   * from the journal straight into the body — into `into` when it is large enough, else a new buffer.
   */
  readBatch(entries: readonly SpoolEntry[], into?: Buffer): Buffer {
    const { attempt } = this.#meta;
    const headers = entries.map((e) => logFrameHeader(attempt, e.seq, e.offset, e.length));
    let total = 0;
    for (let i = 0; i < entries.length; i++) total += headers[i]!.length + entries[i]!.length;
    const body =
      into !== undefined && into.length >= total ? into.subarray(0, total) : Buffer.allocUnsafe(total);
    let at = 0;
    for (let i = 0; i < entries.length; i++) {
      at += body.write(headers[i]!, at, 'latin1');
      this.#readInto(entries[i]!, body, at);
      at += entries[i]!.length;
    }
    return body;
  }

  #readInto(entry: SpoolEntry, buf: Buffer, at: number): void {
    let done = 0;
    while (done < entry.length) {
      const n = readSync(this.#journal(), buf, at + done, entry.length - done, entry.at + done);
      if (n === 0) throw new Error(`${this.path} ends inside chunk ${entry.seq}`);
      done += n;
    }
  }

  ack(seq: number): void {
    if (seq <= this.#acked) return;
    this.#acked = seq;
    // Rewritten in place through one descriptor, padded to a fixed width (no truncate): an open and close
    // per acknowledgement was a tenth of the runner's time in W3.
    this.#ackFd ??= openSync(this.ackPath, 'w', 0o600);
    writeSync(this.#ackFd, String(seq).padEnd(ACK_WIDTH), 0);
  }

  unacked(): SpoolEntry[] {
    // entries[i].seq === i: the unacknowledged ones are the tail (the shipper asks on every write).
    return this.entries.slice(Math.max(0, this.#acked + 1));
  }

  saveResult(body: CompleteBody): void {
    const json = Buffer.from(JSON.stringify(body), 'utf8');
    this.#write(Buffer.from(`R ${json.length}\n`), json);
    this.#size += json.length + `R ${json.length}\n`.length;
    this.#result = body;
  }

  result(): CompleteBody | undefined {
    return this.#result;
  }

  tailPath(): string {
    return this.path.slice(0, -JOURNAL.length) + '.tail';
  }

  remove(): void {
    for (const fd of [this.#fd, this.#ackFd]) if (fd !== undefined) closeSync(fd);
    this.#fd = this.#ackFd = undefined;
    for (const p of [this.path, this.ackPath, this.tailPath()]) rmSync(p, { force: true });
  }

  /** The journal, open for appending and reading while the attempt lasts (closed by remove()). */
  #journal(): number {
    return (this.#fd ??= openSync(this.path, 'a+'));
  }

  /** Appends a record, its header and body in one writev (no concatenation); a short write is completed. */
  #write(header: Buffer, body: Buffer): void {
    const fd = this.#journal();
    let done = writevSync(fd, [header, body]);
    for (const part of [header, body]) {
      if (done >= part.length) {
        done -= part.length;
        continue;
      }
      let at = done;
      done = 0;
      while (at < part.length) at += writeSync(fd, part, at, part.length - at);
    }
  }
}
