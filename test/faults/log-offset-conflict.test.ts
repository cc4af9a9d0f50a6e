// Fault (issue 12, finding 8b): a log chunk whose byte offset contradicts the chunks stored for its attempt was
// stored, corrupting the log. The server must refuse it with 409 `log_offset_conflict`, naming both offsets,
// store nothing of that request, and keep the consistent log and the lease intact. A real server process; the
// chunks are sent over HTTP on a real runner lease (registered, acquired and started through the API).
import { describe, expect, it } from 'vitest';
import { ApiError, createClient, type BatonClient } from '../../src/client/index.ts';
import { startServerProcess } from '../helpers/cluster.ts';

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe('log chunks whose offsets contradict the stored log', () => {
  it('are refused with 409 log_offset_conflict naming both offsets, and the stored log stays consistent', async () => {
    const server = await startServerProcess();
    const { token } = await server.client.register(server.registrationToken, {
      name: 'writer',
      labels: [],
      capacity: 1,
      version: 'test',
    });
    const runner: BatonClient = createClient({ baseUrl: server.url, token });
    const run = await server.client.submitRun('tasks:\n  t:\n    run: "true"\n');
    const offer = (await runner.acquire(1, 5_000))!;
    expect(offer.task.name).toBe('t');
    await runner.start(offer.lease);

    expect((await runner.sendLogs(offer.lease, [{ seq: 0, offset: 0, data: 'hello\n' }])).ackedSeq).toBe(0);
    // A resend at the same offset is a retry: answered, and ignored.
    expect((await runner.sendLogs(offer.lease, [{ seq: 0, offset: 0, data: 'hello\n' }])).ackedSeq).toBe(0);

    // A next chunk that skips bytes: chunk 0 ends at 6.
    const gap = await refusal(runner.sendLogs(offer.lease, [{ seq: 1, offset: 100, data: 'lost?\n' }]));
    expect({ status: gap.status, code: gap.code }).toEqual({ status: 409, code: 'log_offset_conflict' });
    expect(gap.message).toMatch(/offset 100\b/);
    expect(gap.message).toContain('starts at offset 0 and ends at 6');
    expect(gap.details).toMatchObject({ seq: 1, offset: 100, storedOffset: 0 });

    // A resent chunk 0 at another offset, and one that overlaps chunk 0.
    const moved = await refusal(runner.sendLogs(offer.lease, [{ seq: 0, offset: 3, data: 'hello\n' }]));
    expect(moved.code).toBe('log_offset_conflict');
    expect(moved.message).toMatch(/offset 3\b.*offset 0\b/);
    const overlap = await refusal(runner.sendLogs(offer.lease, [{ seq: 1, offset: 2, data: 'xx\n' }]));
    expect(overlap.code).toBe('log_offset_conflict');

    // A later chunk stored first, then a chunk before it that does not end where it starts.
    expect((await runner.sendLogs(offer.lease, [{ seq: 2, offset: 12, data: 'third\n' }])).ackedSeq).toBe(0);
    const short = await refusal(runner.sendLogs(offer.lease, [{ seq: 1, offset: 6, data: 'two\n' }]));
    expect(short.code).toBe('log_offset_conflict');
    expect(short.message).toMatch(/ends at 10\b.*offset 12\b/);
    // A request mixing a good chunk with a bad one stores neither.
    const mixed = await refusal(
      runner.sendLogs(offer.lease, [
        { seq: 1, offset: 6, data: 'second' },
        { seq: 3, offset: 99, data: 'bad\n' },
      ]),
    );
    expect(mixed.code).toBe('log_offset_conflict');
    expect(await server.client.taskLog(run.id, 't')).toBe('hello\n');

    // The consistent chunk is still taken, and the lease was never harmed by the refusals.
    expect((await runner.sendLogs(offer.lease, [{ seq: 1, offset: 6, data: 'second' }])).ackedSeq).toBe(2);
    expect(await server.client.taskLog(run.id, 't')).toBe('hello\nsecondthird\n');
    expect((await runner.heartbeat(offer.lease)).cancel).toBe(false);
  });
});
