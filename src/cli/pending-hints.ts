// While a command follows a run, a task that stays queued gets one explanation after a few seconds — the same
// reasons as `baton runs explain` — instead of a silent wait. `baton run` also gives up at once on a task its
// own local runner can never take (a label it lacks, a driver or isolation it does not have): waiting would be
// forever, since no other runner will come.

import type { BatonClient } from '../client/index.ts';
import type { PendingExplanation, PendingReasonCode } from '../protocol/api.ts';
import { paint, type Out } from './output.ts';

/** How long a task waits queued before the follower says why. */
export const PENDING_HINT_AFTER_MS = 5_000;
const CHECK_EVERY_MS = 500;
/** Reasons that time does not cure: the runner would need another configuration. */
const PERMANENT: readonly PendingReasonCode[] = ['tag_mismatch', 'no_driver', 'isolation', 'no_key'];

export interface PendingHintOptions {
  afterMs?: number;
  /**
   * `baton run`: the name of the only runner that will ever exist. When it can never take a queued task, this
   * is called (once) with a sentence saying why; the caller cancels the run.
   */
  onlyRunner?: { name: string; onNever: (task: string, why: string) => void };
}

export interface PendingHints {
  /** A task's status changed (from the run's event stream). */
  seen(task: string, status: string): void;
  stop(): void;
}

export function watchPending(
  client: BatonClient,
  runId: string,
  out: Out,
  o: PendingHintOptions = {},
): PendingHints {
  const afterMs = o.afterMs ?? PENDING_HINT_AFTER_MS;
  const queuedSince = new Map<string, number>();
  const hinted = new Set<string>();
  const checkedNever = new Set<string>();
  let busy = false;
  let gaveUp = false;

  const check = async () => {
    if (busy || gaveUp) return;
    busy = true;
    try {
      const now = Date.now();
      for (const [task, since] of queuedSince) {
        const neverCheck = o.onlyRunner !== undefined && !checkedNever.has(task);
        const hintDue = !hinted.has(task) && now - since >= afterMs;
        if (!neverCheck && !hintDue) continue;
        let why: PendingExplanation;
        try {
          why = await client.whyPending(runId, task);
        } catch {
          continue; // the run may have ended meanwhile; the stream says so
        }
        if (why.status !== 'queued' || !queuedSince.has(task)) continue;
        if (o.onlyRunner !== undefined) {
          const mine = why.runners.find((r) => r.name === o.onlyRunner!.name);
          // Until the local runner has registered it is not in the list: look again on the next tick.
          if (mine !== undefined) {
            checkedNever.add(task);
            const never = mine.reasons.find((r) => PERMANENT.includes(r.code));
            if (never !== undefined) {
              gaveUp = true;
              o.onlyRunner.onNever(task, never.message);
              return;
            }
          }
        }
        if (hintDue) {
          hinted.add(task);
          out.err(paint(out, 'yellow', `… ${task} is waiting: ${why.summary}`) + '\n');
          for (const r of why.runners.filter((x) => x.reason !== null).slice(0, 5))
            out.err(paint(out, 'yellow', `    ${r.reason!.code}: ${r.reason!.message}`) + '\n');
          if (why.runners.length > 5) out.err(`    … see baton runs explain ${runId} '${task}'\n`);
        }
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), CHECK_EVERY_MS);
  timer.unref();
  return {
    seen(task, status) {
      if (status === 'queued') {
        if (!queuedSince.has(task)) queuedSince.set(task, Date.now());
      } else queuedSince.delete(task);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
