// Failed attempts per client address in a sliding window: past the limit, the address is refused with
// 429 and Retry-After until its oldest failure leaves the window. In memory, per server process.
import { BatonError } from '../protocol/errors.ts';

export interface FailureLimiter {
  /** Throws `rate_limited` (with `retryAfterSeconds`) when `key` already failed too often. */
  check(key: string, now: number): void;
  fail(key: string, now: number): void;
}

export function createFailureLimiter(o: {
  maxFailures: number;
  windowMs: number;
  what: string;
}): FailureLimiter {
  const failures = new Map<string, number[]>();
  const recent = (key: string, now: number) => (failures.get(key) ?? []).filter((t) => t > now - o.windowMs);
  return {
    check(key, now) {
      const times = recent(key, now);
      if (times.length === 0) failures.delete(key);
      else failures.set(key, times);
      if (times.length < o.maxFailures) return;
      const retryAfterSeconds = Math.max(1, Math.ceil((times[0]! + o.windowMs - now) / 1000));
      throw new BatonError(
        'rate_limited',
        `too many failed ${o.what} attempts from this address (${o.maxFailures} in ${o.windowMs / 1000}s); try again in ${retryAfterSeconds}s`,
        { retryAfterSeconds },
      );
    },
    fail(key, now) {
      const times = recent(key, now);
      times.push(now);
      failures.set(key, times);
      // Bound memory under a spray of addresses: forget the oldest address past 10,000.
      if (failures.size > 10_000) failures.delete(failures.keys().next().value!);
    },
  };
}
