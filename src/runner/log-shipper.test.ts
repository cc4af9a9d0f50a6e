import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import type { createClient } from '../client/index.ts';
import { startLiveServer } from '../../test/helpers/live-server.ts';
import { tempDir } from '../../test/helpers/temp.ts';
import { ApiError } from '../client/index.ts';
import { decodeLogFrames } from '../protocol/log-frames.ts';
import { LogShipper } from './log-shipper.ts';
import { Spool } from './spool.ts';

function shipper(
  client: ReturnType<typeof createClient>,
  lease: string,
  spool: Spool,
  logLimitBytes?: number,
  maxHeldBytes?: number,
) {
  const fenced: Error[] = [];
  const refused: Error[] = [];
  const s = new LogShipper({
    client,
    lease,
    spool,
    requestTimeoutMs: 5_000,
    logLimitBytes,
    ...(maxHeldBytes === undefined ? {} : { maxHeldBytes }),
    onFenced: (e) => fenced.push(e),
    onRefused: (e) => refused.push(e),
    onCancel: () => undefined,
  });
  return { s, fenced, refused };
}

describe('log shipper', () => {
  it('stops shipping, without retrying or fencing, when the server refuses a chunk offset as contradicting the log', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner();
    const offer = await live.offer(runner, 'tasks: { t: { run: "true" } }');
    // Another writer on the same lease already stored a chunk 1 that says chunk 0 is 1 byte long.
    await runner.sendLogs(offer.lease, [{ seq: 1, offset: 1, data: 'y' }]);
    const spool = Spool.create(tempDir(), offer);
    const { s, fenced, refused } = shipper(runner, offer.lease, spool);
    s.write('hello\n');
    await s.close();
    s.write('more\n');
    await s.flush();
    expect(refused).toHaveLength(1);
    expect(refused[0]!.message).toMatch(
      /log chunk 0 at offset 0 ends at 6, but the stored chunk 1 starts at offset 1/,
    );
    expect(s.refused).toBe(true);
    expect(fenced).toEqual([]);
    expect(s.fenced).toBe(false);
    // The attempt goes on: its lease is still good.
    expect((await runner.heartbeat(offer.lease)).cancel).toBe(false);
    expect(await live.admin.taskLog(offer.task.runId, 't')).toBe('');
  });

  it('stores a log byte-exact, multi-byte characters split across writes intact', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner();
    const offer = await live.offer(runner, 'tasks: { t: { run: "true" } }');
    const spool = Spool.create(tempDir(), offer);
    const { s } = shipper(runner, offer.lease, spool);
    const text = 'héllo wörld ✓ 🎉\n'.repeat(20_000);
    const points = Array.from(text);
    for (let i = 0; i < points.length; i += 7777) s.write(points.slice(i, i + 7777).join(''));
    await s.close();
    expect(await live.admin.taskLog(offer.task.runId, 't')).toBe(text);
    expect(spool.entries.length).toBeGreaterThan(3);
    expect(spool.unacked()).toEqual([]);
  });

  it('keeps two batches in flight and still stores the log byte-exact, in order', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner();
    const offer = await live.offer(runner, 'tasks: { t: { run: "true" } }');
    let inFlight = 0;
    let most = 0;
    const counting = Object.create(runner) as typeof runner;
    counting.sendLogBody = async (...args: Parameters<typeof runner.sendLogBody>) => {
      most = Math.max(most, ++inFlight);
      try {
        return await runner.sendLogBody(...args);
      } finally {
        inFlight--;
      }
    };
    const spool = Spool.create(tempDir(), offer);
    const { s } = shipper(counting, offer.lease, spool);
    const lines = Array.from({ length: 40_000 }, (_, i) => `line ${i} ${'y'.repeat(70)}\n`);
    for (const l of lines) s.write(l);
    await s.close();
    expect(most).toBe(2);
    expect(await live.admin.taskLog(offer.task.runId, 't')).toBe(lines.join(''));
    expect(spool.unacked()).toEqual([]);
  });

  it('sends a fast log in full batches of whole chunks, a partial batch only when no other request is in flight', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner();
    const offer = await live.offer(runner, 'tasks: { t: { run: "true" } }');
    const sent: { chunks: number[]; besideAnother: boolean }[] = [];
    let inFlight = 0;
    const recording = Object.create(runner) as typeof runner;
    recording.sendLogBody = async (...args: Parameters<typeof runner.sendLogBody>) => {
      const decoded = decodeLogFrames(args[1]);
      if (!decoded.ok) throw new Error(decoded.message);
      sent.push({ chunks: decoded.frames.map((f) => f.bytes.length), besideAnother: inFlight > 0 });
      inFlight++;
      try {
        return await runner.sendLogBody(...args);
      } finally {
        inFlight--;
      }
    };
    const spool = Spool.create(tempDir(), offer);
    const { s } = shipper(recording, offer.lease, spool);
    // 3.5 MB in pieces of 64 KiB, as a pipe delivers a step's output, each ending mid-chunk.
    const text = Array.from(
      { length: 35_000 },
      (_, i) => `${String(i).padStart(9, '0')} ${'z'.repeat(89)}\n`,
    ).join('');
    for (let at = 0; at < text.length; at += 65_536) s.write(text.slice(at, at + 65_536));
    await s.close();
    expect(await live.admin.taskLog(offer.task.runId, 't')).toBe(text);
    const full = 100 * 1024;
    // The first request goes at once with the first chunk; the last carries what the close left.
    expect(sent.length).toBeGreaterThan(3);
    for (const request of sent.slice(1, -1)) expect(request.chunks).toEqual(Array(10).fill(full));
    expect(
      sent
        .slice(0, -1)
        .flatMap((r) => r.chunks)
        .every((n) => n === full),
    ).toBe(true);
    expect(sent.filter((r) => r.besideAnother && r.chunks.length < 10)).toEqual([]);
    expect(sent.length).toBeLessThanOrEqual(Math.ceil(text.length / (10 * full)) + 2);
  });

  it("stores each task's log alone when shippers one after another reuse a closed one's chunk buffer", async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner();
    const logs = ['A'.repeat(150_000) + '\n', 'b\n', 'ç'.repeat(60_000), 'd'.repeat(102_400)];
    for (const [i, text] of logs.entries()) {
      const offer = await live.offer(runner, `tasks: { t${i}: { run: "true" } }`);
      const { s } = shipper(runner, offer.lease, Spool.create(tempDir(), offer));
      s.write(text);
      await s.close();
      expect(await live.admin.taskLog(offer.task.runId, `t${i}`)).toBe(text);
    }
  });

  it('falls back to the JSON call for the rest of the attempt when the server does not know the binary one', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner();
    const offer = await live.offer(runner, 'tasks: { t: { run: "true" } }');
    // A server older than the binary call: the real server's answer to a route it does not have.
    const old = Object.create(runner) as typeof runner;
    let binaryTries = 0;
    old.sendLogBody = async () => {
      binaryTries++;
      const res = await fetch(
        `${live.server.url}/api/v1/runner/leases/${offer.lease}/log-of-a-later-version`,
        {
          method: 'PUT',
        },
      );
      const body = (await res.json()) as { error: { code: 'not_found'; message: string } };
      throw new ApiError(res.status, body.error.code, body.error.message);
    };
    const spool = Spool.create(tempDir(), offer);
    const { s, fenced } = shipper(old, offer.lease, spool);
    const lines = Array.from({ length: 5_000 }, (_, i) => `line ${i} ✓ ${'z'.repeat(60)}\n`);
    for (const l of lines) s.write(l);
    await s.close();
    expect(fenced).toEqual([]);
    expect(binaryTries).toBeGreaterThanOrEqual(1);
    expect(binaryTries).toBeLessThanOrEqual(2);
    expect(await live.admin.taskLog(offer.task.runId, 't')).toBe(lines.join(''));
    expect(spool.unacked()).toEqual([]);
  });

  it('keeps the first and last parts of a log over its limit, with a marker saying what was dropped', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner();
    const offer = await live.offer(runner, 'tasks: { t: { run: "true" } }');
    const { s } = shipper(runner, offer.lease, Spool.create(tempDir(), offer), 1024 * 1024);
    const lines = Array.from(
      { length: 60_000 },
      (_, i) => `line ${String(i).padStart(6, '0')} ${'x'.repeat(40)}\n`,
    );
    for (const l of lines) s.write(l);
    await s.close();
    expect(s.truncated).toBe(true);
    const stored = await live.admin.taskLog(offer.task.runId, 't');
    expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(1024 * 1024);
    expect(stored.startsWith(lines[0]!)).toBe(true);
    expect(stored.endsWith(lines[lines.length - 1]!)).toBe(true);
    const m = /\[baton\] log truncated: (\d+) bytes dropped here/.exec(stored);
    expect(m).not.toBeNull();
    const total = lines.join('').length;
    const markerLine = stored.slice(
      stored.indexOf('\n[baton] log truncated'),
      stored.indexOf('\n', stored.indexOf('[baton] log truncated')) + 1,
    );
    expect(Buffer.byteLength(stored) - Buffer.byteLength(markerLine) + Number(m![1])).toBe(total);
  });

  it('keeps the tail of a log over its limit whole, multi-byte characters never cut where it is read in pieces', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner();
    const offer = await live.offer(runner, 'tasks: { t: { run: "true" } }');
    const { s } = shipper(runner, offer.lease, Spool.create(tempDir(), offer), 1024 * 1024);
    const lines = Array.from({ length: 120_000 }, (_, i) => `${i} héllo ✓ 🎉 wörld\n`);
    for (const l of lines) s.write(l);
    await s.close();
    expect(s.truncated).toBe(true);
    const stored = await live.admin.taskLog(offer.task.runId, 't');
    expect(stored).not.toContain('\uFFFD');
    const tail = stored.slice(stored.indexOf('\n', stored.indexOf('[baton] log truncated')) + 1);
    expect(lines.join('').endsWith(tail)).toBe(true);
    expect(Buffer.byteLength(tail)).toBeGreaterThan(400 * 1024);
  });

  it('stores a log between half and all of its limit byte-exact, with no marker and not truncated', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner();
    const offer = await live.offer(runner, 'tasks: { t: { run: "true" } }');
    const { s } = shipper(runner, offer.lease, Spool.create(tempDir(), offer), 1024 * 1024);
    const text = Array.from(
      { length: 15_000 },
      (_, i) => `line ${String(i).padStart(6, '0')} ${'y'.repeat(40)}\n`,
    ).join('');
    expect(text.length).toBeGreaterThan(512 * 1024);
    expect(text.length).toBeLessThan(1024 * 1024 - 256);
    s.write(text);
    await s.close();
    expect(s.truncated).toBe(false);
    expect(await live.admin.taskLog(offer.task.runId, 't')).toBe(text);
  });

  it('replays a spool left by a runner that died before the server acknowledged it, storing each chunk once', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner();
    const offer = await live.offer(runner, 'tasks: { t: { run: "true" } }');
    const root = tempDir();
    // The first process ships part of the log…
    const first = shipper(runner, offer.lease, Spool.create(root, offer));
    for (let i = 0; i < 100; i++) first.s.write(`early ${i}\n`);
    await first.s.flush();
    // …spools more that never leaves the machine, and dies; its last acknowledgement is forgotten too.
    const left = Spool.open(Spool.list(root)[0]!)!;
    for (let i = 0; i < 3; i++) left.append(Buffer.from(`late ${i}\n`));
    const ackFile = left.ackPath;
    writeFileSync(ackFile, String(left.acked - 1));
    // A new process reopens the spool and replays from the last acknowledged chunk.
    const reopened = Spool.open(Spool.list(root)[0]!)!;
    const again = shipper(runner, offer.lease, reopened);
    await again.s.flush();
    const expected =
      Array.from({ length: 100 }, (_, i) => `early ${i}\n`).join('') + 'late 0\nlate 1\nlate 2\n';
    expect(await live.admin.taskLog(offer.task.runId, 't')).toBe(expected);
    expect(reopened.unacked()).toEqual([]);
  });

  it('has no room while more than its bound is in requests in flight, and room again once they are answered', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner();
    const offer = await live.offer(runner, 'tasks: { t: { run: "true" } }');
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const held = Object.create(runner) as typeof runner;
    held.sendLogBody = async (...args: Parameters<typeof runner.sendLogBody>) => {
      await answered;
      return runner.sendLogBody(...args);
    };
    const spool = Spool.create(tempDir(), offer);
    const { s } = shipper(held, offer.lease, spool, undefined, 150 * 1024);
    expect(s.room()).toBeUndefined();
    const lines = Array.from({ length: 5_000 }, (_, i) => `line ${i} ${'y'.repeat(70)}\n`);
    for (const l of lines) s.write(l);
    // Every full chunk went to the spool at once and two requests carry them: far more than 150 KiB.
    expect(s.heldBytes).toBeGreaterThan(150 * 1024);
    const room = s.room();
    expect(room).toBeInstanceOf(Promise);
    let roomy = false;
    void room!.then(() => (roomy = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(roomy).toBe(false);
    answer();
    await room; // resolved when a request was answered (its sender may take the next batch at once)
    await s.close();
    expect(s.heldBytes).toBe(0);
    expect(await live.admin.taskLog(offer.task.runId, 't')).toBe(lines.join(''));
  });

  it('lets a writer waiting for room go once shipping stopped: refused, or the log closed', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner();
    const offer = await live.offer(runner, 'tasks: { t: { run: "true" } }');
    await runner.sendLogs(offer.lease, [{ seq: 1, offset: 1, data: 'y' }]);
    const refusedSpool = Spool.create(tempDir(), offer);
    const refusing = shipper(runner, offer.lease, refusedSpool, undefined, 1);
    refusing.s.write('hello\n');
    const room = refusing.s.room();
    expect(room).toBeInstanceOf(Promise);
    await room; // the refusal lets it go: nothing more is shipped for this attempt
    expect(refusing.refused).toHaveLength(1);
    expect(refusing.s.room()).toBeUndefined();

    const other = await live.offer(runner, 'tasks: { u: { run: "true" } }');
    const never = Object.create(runner) as typeof runner;
    never.sendLogs = () => new Promise(() => {});
    const closing = shipper(never, other.lease, Spool.create(tempDir(), other), undefined, 1);
    closing.s.write('x'.repeat(200 * 1024));
    const waiting = closing.s.room();
    expect(waiting).toBeInstanceOf(Promise);
    void closing.s.close(); // its flush never ends here: the server never answers
    await waiting;
  });
});
