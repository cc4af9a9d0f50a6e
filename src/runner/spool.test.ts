import { appendFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AcquireResponse, CompleteBody } from '../protocol/api.ts';
import { tempDir } from '../../test/helpers/temp.ts';
import { decodeLogFrames } from '../protocol/log-frames.ts';
import { Spool } from './spool.ts';

const offer = {
  lease: 'lease-1',
  heartbeatIntervalMs: 500,
  task: { runId: 'run-1', name: 'build', attempt: 2 },
} as unknown as AcquireResponse;

const result: CompleteBody = {
  status: 'succeeded',
  exitCode: 0,
  outputs: { v: 'x' },
  confidential: [],
  steps: [],
  startedAt: '2026-11-22T00:00:00.000Z',
  finishedAt: '2026-11-22T00:00:01.000Z',
};

describe('spool journal', () => {
  it('reads chunks into a batch body of the binary log call, in a given buffer when it is large enough', () => {
    const s = Spool.create(tempDir(), offer);
    const chunks = ['first\n', 'ünïcödé ✓\n', 'y'.repeat(70_000)];
    for (const c of chunks) s.append(Buffer.from(c));
    const reused = Buffer.alloc(80_000, 0x2a);
    for (const into of [undefined, Buffer.alloc(10), reused]) {
      const body = s.readBatch(s.entries.slice(1), into);
      expect(body.buffer === reused.buffer).toBe(into === reused);
      const decoded = decodeLogFrames(body);
      if (!decoded.ok) throw new Error(decoded.message);
      expect(decoded.frames.map((f) => [f.attempt, f.seq, f.offset, f.bytes.toString('utf8')])).toEqual([
        [2, 1, 6, chunks[1]],
        [2, 2, 6 + Buffer.byteLength(chunks[1]!), chunks[2]],
      ]);
    }
  });

  it('reopens the offer, every chunk byte-exact, the acknowledgement and the result', () => {
    const root = tempDir();
    const s = Spool.create(root, offer);
    const chunks = ['first\n', 'ünïcödé ✓\n', 'x'.repeat(70_000)];
    for (const c of chunks) s.append(Buffer.from(c));
    s.ack(0);
    s.saveResult(result);
    const again = Spool.open(Spool.list(root)[0]!)!;
    expect(again.meta()).toEqual({
      lease: 'lease-1',
      runId: 'run-1',
      taskName: 'build',
      attempt: 2,
      heartbeatIntervalMs: 500,
    });
    expect(again.entries.map((e) => again.read(e).toString('utf8'))).toEqual(chunks);
    expect(again.unacked().map((e) => e.seq)).toEqual([1, 2]);
    expect(again.size).toBe(Buffer.byteLength(chunks.join('')));
    expect(again.result()).toEqual(result);
    again.remove();
    expect(readdirSync(root)).toEqual([]);
  });

  it('drops a record a crash cut short, and appends after the last whole one', () => {
    const root = tempDir();
    const s = Spool.create(root, offer);
    s.append(Buffer.from('kept\n'));
    const whole = statSync(s.path).size;
    appendFileSync(s.path, 'L 1 5 100\npartial');
    const reopened = Spool.open(s.path)!;
    expect(reopened.entries).toHaveLength(1);
    expect(statSync(s.path).size).toBe(whole);
    reopened.append(Buffer.from('next\n'));
    const third = Spool.open(s.path)!;
    expect(third.entries.map((e) => third.read(e).toString('utf8'))).toEqual(['kept\n', 'next\n']);
    expect(third.result()).toBeUndefined();
  });

  it('a journal without its offer record is not a spool', () => {
    const root = tempDir();
    const path = join(root, 'lease-2.journal');
    writeFileSync(path, 'M 40\n{"lease":');
    expect(Spool.open(path)).toBeUndefined();
  });
});
