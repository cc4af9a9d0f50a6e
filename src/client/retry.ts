// Retry decisions in one place: network errors, 429 and 5xx retry with jittered exponential backoff;
// anything else (401, 403, 404, 409, 422 …) is an answer and does not.
import { ApiError, NetworkError } from './http.ts';

export function isRetryable(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  if (err instanceof ApiError) return err.status === 429 || err.status >= 500;
  return false;
}

export interface Backoff {
  /** Next delay in ms: exponential from `baseMs` to `maxMs`, with full jitter. */
  next(): number;
  reset(): void;
}

export function createBackoff(baseMs = 250, maxMs = 10_000, random: () => number = Math.random): Backoff {
  let attempt = 0;
  return {
    next() {
      const cap = Math.min(maxMs, baseMs * 2 ** attempt);
      attempt++;
      return Math.round(cap / 2 + (random() * cap) / 2);
    },
    reset() {
      attempt = 0;
    },
  };
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Calls `fn` until it succeeds, it fails with a non-retryable error, or `signal` aborts. */
export async function withRetry<T>(
  fn: () => Promise<T>,
  o: { signal?: AbortSignal; onRetry?: (err: unknown, ms: number) => void; backoff?: Backoff } = {},
): Promise<T> {
  const backoff = o.backoff ?? createBackoff();
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || o.signal?.aborted) throw err;
      const ms = backoff.next();
      o.onRetry?.(err, ms);
      await delay(ms, o.signal);
      if (o.signal?.aborted) throw err;
    }
  }
}
