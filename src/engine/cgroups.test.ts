import { describe, expect, it } from 'vitest';
import {
  describeLimits,
  effectiveLimits,
  parseCpuLimit,
  parseMemoryLimit,
  parsePidsLimit,
} from './cgroups.ts';

const MiB = 1024 * 1024;

describe('limit values', () => {
  it('reads memory sizes in bytes or with K, M, G, T (powers of 1024)', () => {
    expect(parseMemoryLimit('512M', 'x')).toBe(512 * MiB);
    expect(parseMemoryLimit('512MiB', 'x')).toBe(512 * MiB);
    expect(parseMemoryLimit('1.5g', 'x')).toBe(1536 * MiB);
    expect(parseMemoryLimit(64 * MiB, 'x')).toBe(64 * MiB);
    expect(parseMemoryLimit(String(8 * MiB), 'x')).toBe(8 * MiB);
  });

  it('refuses a memory size it cannot read or one too small, naming the place, the value and the limit', () => {
    expect(() => parseMemoryLimit('lots', 'limits.memory')).toThrow(
      'limits.memory: "lots" is not a memory size; write bytes or a number with K, M, G or T (e.g. 512M)',
    );
    expect(() => parseMemoryLimit('512', '--limit-memory')).toThrow(
      '--limit-memory: "512" is 512 bytes, below the smallest memory limit of 4 MiB',
    );
    expect(() => parseMemoryLimit(-1, 'x')).toThrow('below the smallest memory limit');
  });

  it('reads process and CPU limits and refuses values out of range', () => {
    expect(parsePidsLimit('256', 'x')).toBe(256);
    expect(parsePidsLimit(20, 'x')).toBe(20);
    expect(() => parsePidsLimit(1, '--limit-pids')).toThrow(
      '--limit-pids: 1 is not a process limit; it must be a whole number from 2 to 4194304',
    );
    expect(() => parsePidsLimit('2.5', 'x')).toThrow('not a process limit');
    expect(parseCpuLimit('1.5', 'x')).toBe(1.5);
    expect(() => parseCpuLimit(0, 'limits.cpu')).toThrow(
      'limits.cpu: 0 is not a CPU limit; it must be a number of CPUs from 0.01 to 1024 (e.g. 1.5)',
    );
  });

  it("fills each limit a task does not set from the runner's defaults", () => {
    expect(effectiveLimits(undefined, undefined)).toBeUndefined();
    expect(effectiveLimits({}, {})).toBeUndefined();
    expect(effectiveLimits({ pids: 10 }, { memoryBytes: 64 * MiB, pids: 99 })).toEqual({
      memoryBytes: 64 * MiB,
      pids: 10,
    });
    expect(describeLimits({ memoryBytes: 64 * MiB, pids: 20, cpu: 1.5 })).toBe(
      'memory 64 MiB, pids 20, cpu 1.5',
    );
  });
});
