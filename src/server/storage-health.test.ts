import { describe, expect, it } from 'vitest';
import { StorageHealth } from './storage-health.ts';

const full = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

describe('storage health', () => {
  it('stays troubled while the lease extension is refused and ends the trouble once it succeeds', async () => {
    let diskFull = true;
    let extensions = 0;
    const recovered: number[] = [];
    const health = new StorageHealth({
      extendLiveLeases: () => {
        if (diskFull) return Promise.reject(full());
        extensions++;
        return Promise.resolve(3);
      },
      onRecovered: (n) => recovered.push(n),
    });
    expect(health.troubled).toBe(false);
    expect(await health.recover()).toBe(true);
    expect(extensions).toBe(0);
    health.refused(full());
    expect(health.troubled).toBe(true);
    expect(await health.recover()).toBe(false);
    expect(health.troubled).toBe(true);
    diskFull = false;
    expect(await health.recover()).toBe(true);
    expect(health.troubled).toBe(false);
    expect(extensions).toBe(1);
    expect(recovered).toEqual([3]);
  });

  it('stays troubled when another write is refused while the extension runs', async () => {
    let release: () => void = () => undefined;
    const health = new StorageHealth({
      extendLiveLeases: () => new Promise<number>((r) => (release = () => r(1))),
    });
    health.refused(full());
    const first = health.recover();
    // Callers share the one extension in flight.
    expect(health.recover()).toBe(first);
    health.refused(full());
    release();
    expect(await first).toBe(false);
    expect(health.troubled).toBe(true);
  });

  it('passes on errors that are not a full disk', async () => {
    const health = new StorageHealth({ extendLiveLeases: () => Promise.reject(new Error('boom')) });
    health.refused(full());
    await expect(health.recover()).rejects.toThrow('boom');
    expect(health.troubled).toBe(true);
  });
});
