import { describe, expect, it } from 'vitest';
import type { BatonClient } from '../client/index.ts';
import { ApiError } from '../client/index.ts';
import { startLeaseKeeper } from './lease-keeper.ts';

const INTERVAL_MS = 20;
const TTL_MS = 200;

/** A client whose heartbeats all fail with `err`, counting them. */
function failingClient(err: Error) {
  let calls = 0;
  const client = {
    heartbeat: () => {
      calls++;
      return Promise.reject(err);
    },
  } as unknown as BatonClient;
  return { client, calls: () => calls };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error(`never happened: ${what}`);
}

describe('lease keeper', () => {
  it('keeps the lease and renews the dead-man switch while the server answers 507 storage_full', async () => {
    const { client, calls } = failingClient(new ApiError(507, 'storage_full', 'disk full'));
    const lost: string[] = [];
    const full: string[] = [];
    const keeper = startLeaseKeeper({
      client,
      lease: 'l',
      heartbeatIntervalMs: INTERVAL_MS,
      leaseTtlMs: TTL_MS,
      onCancel: () => undefined,
      onLost: (r) => lost.push(r),
      onStorageFull: (e) => full.push(e.message),
    });
    const renewals: number[] = [];
    keeper.deadman.onRenew((d) => renewals.push(d));
    try {
      // Beats come one interval apart: this many span three TTLs, long past the self-fence without renewals.
      await until(() => calls() >= (3 * TTL_MS) / INTERVAL_MS || lost.length > 0, 'thirty heartbeats');
      expect(lost).toEqual([]);
      expect(full.length).toBeGreaterThan(0);
      expect(renewals.length).toBeGreaterThan(0);
      expect(renewals.at(-1)).toBe(keeper.deadman.deadline());
    } finally {
      keeper.stop();
    }
  });

  it('fences itself when other server errors last past the lease', async () => {
    const { client } = failingClient(new ApiError(503, 'unavailable', 'busy'));
    const lost: string[] = [];
    const keeper = startLeaseKeeper({
      client,
      lease: 'l',
      heartbeatIntervalMs: INTERVAL_MS,
      leaseTtlMs: TTL_MS,
      onCancel: () => undefined,
      onLost: (r) => lost.push(r),
    });
    try {
      await until(() => lost.length > 0, 'the keeper to fence');
      expect(lost[0]).toMatch(/lease not renewed for/);
    } finally {
      keeper.stop();
    }
  });
});
