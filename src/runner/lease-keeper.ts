// Keeps one attempt's lease alive: heartbeats every interval, relays cancellation, and fences itself —
// when the server refuses the lease, or no renewal succeeded for the TTL less a margin (monotonic clock).
// A `507 storage_full` answer counts as a renewal: the server is alive and, its storage refusing writes, it
// can neither claim the task for anyone else nor expire the lease until it has extended it (docs/adr/0010).
import type { BatonClient } from '../client/index.ts';
import { ApiError, isRetryable } from '../client/index.ts';
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
  /** The server answered `507 storage_full`: the lease holds, the log waits in the spool. */
  onStorageFull?: (err: Error) => void;
}

/** The server's own storage refused the renewal: proof that it is alive and holds the lease (ADR 0010). */
export function isStorageFullAnswer(err: unknown): boolean {
  return err instanceof ApiError && err.status === 507 && err.code === 'storage_full';
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
  const renewed = (sent: number) => {
    lastRenewal = sent;
    for (const listener of listeners) listener(deadman.deadline());
  };
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
      let res;
      try {
        res = await o.client.heartbeat(o.lease, Math.max(500, o.heartbeatIntervalMs - 100));
      } catch (err) {
        // Answered within the request timeout, so before the lease could have run out on the server; from
        // then the server expires nothing until it has extended every live lease from a later moment.
        if (!stopped && isStorageFullAnswer(err)) {
          renewed(sent);
          o.onStorageFull?.(toError(err));
          return;
        }
        throw err;
      }
      renewed(sent);
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
