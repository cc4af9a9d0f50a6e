// What every dispatcher's `explain` shares: the claim's checks of what a task declares against what an executor
// promises (store/placement.ts), worded for "why is this task pending", and the one code that decides.
import { PENDING_REASON_CODES, type PendingReason } from '../../protocol/api.ts';
import type { RunnerGives } from '../../store/leases.ts';
import type { TaskRow } from '../../store/schema.ts';
import type { PendingCandidate } from './types.ts';

/** Each thing the task declares that the runner's last report does not promise (the claim's same three checks). */
export function missingGifts(task: TaskRow, runner: string, gives: RunnerGives): PendingReason[] {
  const reasons: PendingReason[] = [];
  if (task.needs_sandbox === 1 && !gives.sandbox)
    reasons.push({
      code: 'isolation',
      detail: 'needs_sandbox',
      message: `the task requires isolation: sandbox and runner '${runner}' does not report sandbox isolation; start a runner with --isolation sandbox`,
    });
  if (task.needs_network_off === 1 && !gives.networkIsolation)
    reasons.push({
      code: 'isolation',
      detail: 'needs_network_isolation',
      message: `the task declares network: false and runner '${runner}' does not report that it can cut a task's network`,
    });
  if (task.needs_limits === 1 && !gives.limits)
    reasons.push({
      code: 'isolation',
      detail: 'needs_limits',
      message: `the task declares limits and runner '${runner}' does not report that it can enforce them (it needs a writable cgroup v2)`,
    });
  return reasons;
}

export const plural = (n: number, word: string) => `${word}${n > 1 ? 's' : ''}`;

/** The candidate with its reasons in PENDING_REASON_CODES order, the first deciding. */
export function candidate(
  base: Omit<PendingCandidate, 'eligible' | 'reason' | 'reasons'>,
  reasons: PendingReason[],
): PendingCandidate {
  reasons.sort((x, y) => PENDING_REASON_CODES.indexOf(x.code) - PENDING_REASON_CODES.indexOf(y.code));
  return { ...base, eligible: reasons.length === 0, reason: reasons[0] ?? null, reasons };
}
