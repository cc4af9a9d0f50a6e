// Keeps one attempt's lease alive: heartbeats every interval, relays cancellation, and fences itself —
// when the server refuses the lease, or no renewal succeeded for the TTL less a margin (monotonic clock).
import type { BatonClient } from '../client/index.ts';
import { isRetryable } from '../client/index.ts';
import { toError } from '../protocol/errors.ts';

export interface LeaseKeeperOptions {
  client: BatonClient;
  lease: string;
  heartbeatIntervalMs: number;
  leaseTtlMs: number;
  onCancel: () => void;
  /** The attempt must stop: the lease is gone or could not be renewed in time. */
  onLost: (reason: string) => void;
  onError?: (err: Error) => void;
  /** A renewal went through (after errors, the server is reachable again). */
  onRenewed?: () => void;
}

export function startLeaseKeeper(o: LeaseKeeperOptions): { stop(): void } {
  let lastRenewal = performance.now();
  // Stop a little before the server could re-offer the task: one heartbeat interval's margin, at most half the TTL.
  const selfFenceAfter = o.leaseTtlMs - Math.min(o.heartbeatIntervalMs, o.leaseTtlMs / 2);
  let stopped = false;
  let inFlight = false;
  const beat = async () => {
    if (stopped) return;
    if (performance.now() - lastRenewal > selfFenceAfter) {
      stopped = true;
      o.onLost(`lease not renewed for ${Math.round((performance.now() - lastRenewal) / 1000)}s`);
      return;
    }
    if (inFlight) return;
    inFlight = true;
    try {
      // Every call must end before the next beat: a link that went silent shows up as a timeout, not a hang.
      const res = await o.client.heartbeat(o.lease, Math.max(500, o.heartbeatIntervalMs - 100));
      lastRenewal = performance.now();
      o.onRenewed?.();
      if (res.cancel) o.onCancel();
    } catch (err) {
      if (!isRetryable(err) && !stopped) {
        stopped = true;
        o.onLost(toError(err).message);
      } else {
        o.onError?.(toError(err));
      }
    } finally {
      inFlight = false;
    }
  };
  const timer = setInterval(() => void beat(), o.heartbeatIntervalMs);
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
