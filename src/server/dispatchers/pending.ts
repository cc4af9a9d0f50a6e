// What every dispatcher's `explain` shares: the claim query's checks of what a task declares against what an
// executor promises (store/leases.ts), worded for "why is this task pending".
import type { RunnerGives } from '../../store/leases.ts';
import type { TaskRow } from '../../store/schema.ts';
import type { PendingReason } from './types.ts';

/** Each thing the task declares that the runner's last report does not promise (the claim's same three checks). */
export function missingGifts(task: TaskRow, runner: string, gives: RunnerGives): PendingReason[] {
  const reasons: PendingReason[] = [];
  if (task.needs_sandbox === 1 && !gives.sandbox)
    reasons.push({
      code: 'needs_sandbox',
      message: `the task requires isolation: sandbox and runner '${runner}' does not report sandbox isolation; start a runner with --isolation sandbox`,
    });
  if (task.needs_network_off === 1 && !gives.networkIsolation)
    reasons.push({
      code: 'needs_network_isolation',
      message: `the task declares network: false and runner '${runner}' does not report that it can cut a task's network`,
    });
  if (task.needs_limits === 1 && !gives.limits)
    reasons.push({
      code: 'needs_limits',
      message: `the task declares limits and runner '${runner}' does not report that it can enforce them (it needs a writable cgroup v2)`,
    });
  return reasons;
}
