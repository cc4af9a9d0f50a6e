import { describe, expect, it } from 'vitest';
import type { Store } from '../store/index.ts';
import type { TokenRow } from '../store/schema.ts';
import type { SseStream } from './sse.ts';
import { StreamGuard } from './stream-guard.ts';

function token(id: string, o: Partial<TokenRow> = {}): TokenRow {
  return {
    id,
    kind: 'user',
    name: id,
    hash: `hash-${id}`,
    scope: 'read',
    created_at: 0,
    expires_at: null,
    used_at: null,
    revoked_at: null,
    single_use: 0,
    ...o,
  };
}

function fakeStream() {
  const frames: Array<{ event: string; data: unknown }> = [];
  let closed = false;
  let resolve: () => void = () => {};
  const done = new Promise<void>((r) => (resolve = r));
  const sse: SseStream = {
    send(event, data) {
      if (!closed) frames.push({ event, data });
    },
    close() {
      if (closed) return;
      closed = true;
      resolve();
    },
    get closed() {
      return closed;
    },
    done,
  };
  return { sse, frames };
}

function guardWith(rows: Map<string, TokenRow>, now: () => number) {
  const store = {
    credentials: {
      tokensByIds: async (ids: readonly string[]) =>
        ids.map((id) => rows.get(id)).filter((r): r is TokenRow => r !== undefined),
    },
  } as unknown as Store;
  const errors: unknown[] = [];
  return { guard: new StreamGuard(store, now, (e) => errors.push(e)), errors };
}

describe('StreamGuard', () => {
  it("a revoke closes that token's streams with one error frame, and leaves other tokens' streams open", async () => {
    const rows = new Map([
      ['a', token('a')],
      ['b', token('b')],
    ]);
    const { guard } = guardWith(rows, () => 1_000);
    const a1 = fakeStream();
    const a2 = fakeStream();
    const b = fakeStream();
    guard.watch(rows.get('a')!, a1.sse);
    guard.watch(rows.get('a')!, a2.sse);
    guard.watch(rows.get('b')!, b.sse);
    guard.revoked('a');
    for (const s of [a1, a2]) {
      expect(s.sse.closed).toBe(true);
      expect(s.frames).toEqual([
        { event: 'error', data: expect.objectContaining({ reason: 'token_revoked' }) },
      ]);
    }
    expect(b.sse.closed).toBe(false);
    await Promise.resolve();
    expect(guard.size).toBe(1);
    guard.stop();
  });

  it('the check closes streams of tokens revoked elsewhere, removed, or expired by the clock', async () => {
    let now = 1_000;
    const rows = new Map([
      ['revoked', token('revoked')],
      ['gone', token('gone')],
      ['expiring', token('expiring', { expires_at: 5_000 })],
      ['fine', token('fine', { expires_at: 50_000 })],
    ]);
    const { guard, errors } = guardWith(rows, () => now);
    const streams = new Map([...rows.keys()].map((id) => [id, fakeStream()]));
    for (const [id, s] of streams) guard.watch(rows.get(id)!, s.sse);
    await guard.check();
    expect([...streams.values()].every((s) => !s.sse.closed)).toBe(true);

    rows.set('revoked', token('revoked', { revoked_at: 2_000 }));
    rows.delete('gone');
    now = 5_000;
    await guard.check();
    expect(streams.get('revoked')!.frames.at(-1)?.data).toMatchObject({ reason: 'token_revoked' });
    expect(streams.get('gone')!.frames.at(-1)?.data).toMatchObject({ reason: 'token_revoked' });
    expect(streams.get('expiring')!.frames.at(-1)?.data).toMatchObject({ reason: 'token_expired' });
    expect(streams.get('fine')!.sse.closed).toBe(false);
    expect(errors).toEqual([]);
    guard.stop();
  });

  it('a revoke of an unknown id (lost notice) re-checks every stream', async () => {
    const rows = new Map([['a', token('a')]]);
    const { guard } = guardWith(rows, () => 1_000);
    const a = fakeStream();
    guard.watch(rows.get('a')!, a.sse);
    rows.set('a', token('a', { revoked_at: 1 }));
    guard.revoked(undefined);
    await new Promise((r) => setImmediate(r));
    expect(a.sse.closed).toBe(true);
    guard.stop();
  });
});
