// Keeps one attempt's lease alive: heartbeats every interval, relays cancellation, and fences itself —
// when the server refuses the lease, or no renewal succeeded for the TTL less a margin (monotonic clock).
import type { BatonClient } from '../client/index.ts';
import { isRetryable } from '../client/index.ts';
import { toError } from '../protocol/errors.ts';
import type { Deadman } from '../engine/index.ts';

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

export interface LeaseKeeper {
  stop(): void;
  /**
   * The self-fence deadline for the step's own process tree (engine Deadman): it kills itself at the same
   * moment this keeper would fence, even when the runner's timers are frozen with the runner.
   */
  deadman: Deadman;
}

export function startLeaseKeeper(o: LeaseKeeperOptions): LeaseKeeper {
  // When the last successful renewal was SENT: the server extended the lease from the moment it received the
  // request, which is later, so a deadline counted from here always falls before the server's.
  let lastRenewal = performance.now();
  // Stop a little before the server could re-offer the task: one heartbeat interval's margin, at most half the TTL.
  const selfFenceAfter = o.leaseTtlMs - Math.min(o.heartbeatIntervalMs, o.leaseTtlMs / 2);
  const listeners = new Set<(deadline: number) => void>();
  const deadman: Deadman = {
    deadline: () => lastRenewal + selfFenceAfter,
    onRenew(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
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
      const sent = performance.now();
      // Every call must end before the next beat: a link that went silent shows up as a timeout, not a hang.
      const res = await o.client.heartbeat(o.lease, Math.max(500, o.heartbeatIntervalMs - 100));
      lastRenewal = sent;
      for (const listener of listeners) listener(deadman.deadline());
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
      listeners.clear();
    },
    deadman,
  };
}
