// Moves a run forward after any task reached a final state: decide for each pending task whose dependencies
// are final whether it runs (queued) or not (skipped), cancel the rest of a fail-fast matrix group after a
// failure, and close the run when every task is final. Runs inside the caller's write transaction.
//
// Whether a task runs is the caller's policy (its `if` condition is an expression, and the store does not
// evaluate expressions); the store only supplies the facts.
//
// Concurrency: the run's row is locked first (where row locks exist), so two transactions finishing sibling
// tasks at once advance the run one after the other and the second sees the first's result; otherwise, under
// READ COMMITTED, each could see the other's task still running and leave a dependent pending for ever.
import type { Transaction } from 'kysely';
import { lockRows, type StoreDialect } from './dialect.ts';
import type { Database } from './schema.ts';
import type { TaskSpec } from '../protocol/plan.ts';
import { isTerminal, type RunStatus } from '../protocol/status.ts';

export interface DependencyFacts {
  name: string;
  /** The matrix group the dependency belongs to, if any. */
  group?: string;
  status: string;
  continueOnError: boolean;
  outputs: Record<string, string>;
}

export type Decision = { run: true } | { run: false; message: string; failed?: boolean };

export interface RunFacts {
  id: string;
  name: string;
  dialect: string;
  cancelRequested: boolean;
  inputs: Record<string, string>;
}

/** The caller's rules for a pending task whose dependencies are all final. Must not throw. */
export interface RunPolicy {
  decide(spec: TaskSpec, deps: DependencyFacts[], run: RunFacts): Decision;
}

/** The default rule without expressions: run when every dependency succeeded (or failed with continue_on_error). */
export const DEPENDENCIES_SUCCEEDED: RunPolicy = {
  decide(_spec, deps) {
    const bad = deps.filter((d) => d.status !== 'succeeded' && !(d.continueOnError && isTerminal(d.status)));
    if (bad.length === 0) return { run: true };
    return {
      run: false,
      message: `skipped: dependency ${bad.map((d) => `'${d.name}' ${d.status}`).join(', ')}`,
    };
  },
};

export interface AdvanceResult {
  queued: string[];
  skipped: string[];
  /** Tasks cancelled at once (fail-fast siblings that had not started). */
  cancelled: string[];
  runStatus: RunStatus | null;
}

type Tx = Transaction<Database>;
const FAILED = new Set(['failed', 'timed_out', 'runner_lost']);

interface TaskFacts {
  id: string;
  name: string;
  status: string;
  attempt: number;
  spec: TaskSpec;
  outputs: string;
  group_name: string | null;
}

export async function advanceRun(
  d: StoreDialect,
  tx: Tx,
  runId: string,
  now: number,
  policy: RunPolicy,
): Promise<AdvanceResult> {
  const run = await tx
    .selectFrom('runs')
    .select(['id', 'name', 'dialect', 'status', 'cancel_requested', 'inputs'])
    .where('id', '=', runId)
    .$call(lockRows(d.capabilities))
    .executeTakeFirstOrThrow();
  const rows = await tx
    .selectFrom('tasks')
    .select(['id', 'name', 'status', 'attempt', 'spec', 'outputs', 'group_name'])
    .where('run_id', '=', runId)
    .orderBy('position')
    .execute();
  const tasks: TaskFacts[] = rows.map((r) => ({ ...r, spec: JSON.parse(r.spec) as TaskSpec }));
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const result: AdvanceResult = { queued: [], skipped: [], cancelled: [], runStatus: null };
  await failFast(tx, tasks, now, result);
  const runFacts: RunFacts = {
    id: run.id,
    name: run.name,
    dialect: run.dialect,
    cancelRequested: run.cancel_requested === 1,
    inputs: JSON.parse(run.inputs) as Record<string, string>,
  };
  // Decisions cascade (a skip can make its dependents decidable): repeat until nothing changes.
  let changed = true;
  while (changed) {
    changed = false;
    for (const t of tasks) {
      if (t.status !== 'pending') continue;
      const deps = t.spec.dependsOn.map((d) => byName.get(d)).filter((d): d is TaskFacts => d !== undefined);
      if (!deps.every((d) => isTerminal(d.status))) continue;
      const facts = deps.map((d) => ({
        name: d.name,
        ...(d.spec.strategy ? { group: d.spec.strategy.group } : {}),
        status: d.status,
        continueOnError: d.spec.continueOnError === true,
        outputs: JSON.parse(d.outputs) as Record<string, string>,
      }));
      const decision = policy.decide(t.spec, facts, runFacts);
      const set = decision.run
        ? { status: 'queued', queued_at: now }
        : {
            status: decision.failed ? 'failed' : 'skipped',
            reason: decision.failed ? 'setup_failed' : 'dependency_failed',
            message: decision.message,
            finished_at: now,
          };
      const res = await tx
        .updateTable('tasks')
        .set(set)
        .where('id', '=', t.id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (res.numUpdatedRows === 0n) continue;
      t.status = set.status;
      (decision.run ? result.queued : result.skipped).push(t.name);
      changed = true;
    }
  }
  if (result.queued.length > 0) await d.notifyQueued(tx);
  if (tasks.every((t) => isTerminal(t.status)) && !isTerminal(run.status)) {
    const failed = tasks.some((t) => FAILED.has(t.status) && t.spec.continueOnError !== true);
    const status: RunStatus = failed
      ? 'failed'
      : run.cancel_requested === 1 && tasks.some((t) => t.status === 'cancelled')
        ? 'cancelled'
        : 'succeeded';
    await tx
      .updateTable('runs')
      .set({ status, finished_at: now })
      .where('id', '=', runId)
      .where('status', '=', run.status)
      .execute();
    result.runStatus = status;
  }
  return result;
}

/** A failed task of a fail-fast matrix group cancels its unfinished siblings. */
async function failFast(tx: Tx, tasks: TaskFacts[], now: number, result: AdvanceResult): Promise<void> {
  const failedGroups = new Map<string, string>();
  for (const t of tasks) {
    if (
      t.group_name &&
      t.spec.strategy?.failFast &&
      FAILED.has(t.status) &&
      t.spec.continueOnError !== true
    ) {
      failedGroups.set(t.group_name, t.name);
    }
  }
  for (const t of tasks) {
    const culprit = t.group_name ? failedGroups.get(t.group_name) : undefined;
    if (!culprit || isTerminal(t.status)) continue;
    const message = `cancelled: '${culprit}' failed and the matrix is fail-fast`;
    if (t.status === 'running') {
      await tx
        .updateTable('attempts')
        .set({ cancel_requested: 1 })
        .where('task_id', '=', t.id)
        .where('number', '=', t.attempt)
        .where('state', 'in', ['offered', 'running'])
        .execute();
      continue;
    }
    const res = await tx
      .updateTable('tasks')
      .set({ status: 'cancelled', reason: 'cancelled', message, finished_at: now })
      .where('id', '=', t.id)
      .where('status', '=', t.status)
      .executeTakeFirst();
    if (res.numUpdatedRows > 0n) {
      t.status = 'cancelled';
      result.cancelled.push(t.name);
    }
  }
}
