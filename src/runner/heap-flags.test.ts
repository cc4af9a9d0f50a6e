import { describe, expect, it } from 'vitest';
import { missingHeapFlags } from './heap-flags.ts';

describe('runner heap flags', () => {
  it('adds both settings to a node started without any', () => {
    expect(missingHeapFlags([], undefined)).toEqual(['--max-semi-space-size=1', '--heap-growing-percent=20']);
  });

  it('adds nothing once the process runs with them, which ends the re-execution', () => {
    expect(missingHeapFlags(['--max-semi-space-size=1', '--heap-growing-percent=20'], '')).toEqual([]);
  });

  it("never overrides a semi-space size the user chose, in NODE_OPTIONS or on node's command line", () => {
    expect(missingHeapFlags([], '--max-semi-space-size=16')).toEqual(['--heap-growing-percent=20']);
    expect(missingHeapFlags(['--max_semi_space_size=16'], undefined)).toEqual(['--heap-growing-percent=20']);
    expect(missingHeapFlags([], '--inspect  --max-semi-space-size 16')).toEqual([
      '--heap-growing-percent=20',
    ]);
  });

  it('leaves the young generation alone under a --max-heap-size, which V8 refuses beside both space sizes', () => {
    expect(missingHeapFlags(['--max-heap-size=512'], undefined)).toEqual(['--heap-growing-percent=20']);
  });

  it('keeps the semi-space setting beside a --max-old-space-size the user set, which stays theirs', () => {
    expect(missingHeapFlags([], '--max-old-space-size=4096')).toEqual([
      '--max-semi-space-size=1',
      '--heap-growing-percent=20',
    ]);
  });
});
