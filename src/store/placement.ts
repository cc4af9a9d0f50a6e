// Which runner may take which task: the one rule the claim (leases.ts) applies to every queued task, shared with
// the dispatcher, which uses it to hand a task to the best waiting runner rather than the first one to ask.
import { isCustomTaskType } from '../protocol/task-types.ts';
import { carriesLabel } from '../protocol/labels.ts';
import type { TaskSpec } from '../protocol/plan.ts';
import type { TaskRow } from './schema.ts';

/** What a runner brings to a claim: its labels, name and key decide which tasks it may take. */
export interface ClaimingRunner {
  id: string;
  name: string;
  labels: string[];
  /** False for a runner registered without a public key: it is never offered a task that names secrets. */
  canReceiveSecrets: boolean;
  /**
   * What the runner's last status report says it can give a task (all false until it reported): a task that
   * declares `isolation: sandbox`, `network: false` or `limits` is offered only to a runner that gives it.
   */
  gives: RunnerGives;
  /**
   * A push runner takes only the tasks that ask for it: a task with no `runs_on` is left to the pull runners
   * (otherwise every push runner, labelled or not, would take any task).
   */
  requireRunsOn?: boolean;
  /** Its `max_parallel_tasks` (pull runners): how busy it is counts against its size. */
  capacity?: number;
  /** When the server last heard from it (pull runners; ms): a claim for a silent runner takes nothing. */
  lastSeenAt?: number | null;
}

export interface RunnerGives {
  /** Reported `isolation: 'sandbox'`. */
  sandbox: boolean;
  /** Reported `networkIsolation: true`: it can cut a task's network. */
  networkIsolation: boolean;
  /** Reported `limits: true`: it can enforce cgroup limits. */
  limits: boolean;
  /** Reported `drivers`: the custom task types it has a driver for (a task of another custom type passes it by). */
  drivers: string[];
}

/** The columns of a queued task the rule reads, with its spec parsed once. */
export type ClaimCandidate = Pick<
  TaskRow,
  'id' | 'runs_on' | 'names_secrets' | 'needs_sandbox' | 'needs_network_off' | 'needs_limits' | 'relay_to'
> & { spec: TaskSpec };

/**
 * True when the runner may take the task by everything but the task's `max_parallel` group (which does not
 * depend on the runner): every `runs_on` label, one of `runs_on: {any}`, forward_to, a key for secrets, the
 * isolation, network cut and limits it declares, a driver for a custom type, and — for a task importing a
 * `secret` task's sealed values — being one of the runners they were sealed to (docs/adr/0014).
 */
export function canTake(runner: ClaimingRunner, t: ClaimCandidate): boolean {
  const runsOn = JSON.parse(t.runs_on) as string[];
  const any = t.spec.runsOnAny ?? [];
  if (runner.requireRunsOn === true && runsOn.length === 0 && any.length === 0) return false;
  if (!runsOn.every((l) => carriesLabel(runner.labels, l))) return false;
  if (any.length > 0 && !any.some((l) => carriesLabel(runner.labels, l))) return false;
  if (t.names_secrets === 1 && !runner.canReceiveSecrets) return false;
  if (t.needs_sandbox === 1 && !runner.gives.sandbox) return false;
  if (t.needs_network_off === 1 && !runner.gives.networkIsolation) return false;
  if (t.needs_limits === 1 && !runner.gives.limits) return false;
  if (t.spec.forwardTo !== undefined && t.spec.forwardTo !== runner.name) return false;
  if (isCustomTaskType(t.spec.type) && !runner.gives.drivers.includes(t.spec.type)) return false;
  if (t.relay_to !== null && !(JSON.parse(t.relay_to) as string[]).includes(runner.id)) return false;
  return true;
}
