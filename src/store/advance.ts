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
import { deriveRunStatus, type TaskOutcome } from './run-status.ts';
import { isTerminal, TASK_STATUSES, TERMINAL_STATUSES, type RunStatus } from '../protocol/status.ts';
import { ancestorFacts, expandTask, type AncestorFacts, type PendingRow } from './advance-graph.ts';

export interface DependencyFacts {
  name: string;
  /** The matrix group the dependency belongs to, if any. */
  group?: string;
  status: string;
  continueOnError: boolean;
  outputs: Record<string, string>;
}

/**
 * `expand`: the task is a placeholder for a matrix computed at run time; it is replaced by these tasks (queued at
 * once), and every task that depended on it depends on all of them instead.
 */
export type Decision = { run: true; expand?: TaskSpec[] } | { run: false; message: string; failed?: boolean };

export interface RunFacts {
  id: string;
  name: string;
  dialect: string;
  cancelRequested: boolean;
  inputs: Record<string, string>;
  /** How many tasks the run has now (a matrix expanded at run time adds to it). */
  taskCount?: number;
  /** GitHub-dialect runs: the stored GitHubRunContext JSON (protocol/github-context.ts), else null. */
  githubContext: string | null;
}

/**
 * The caller's rules for a pending task whose dependencies are all final. Must not throw. `ancestors` is every
 * task the decided one depends on, directly or through others (its direct dependencies included), all final.
 */
export type { AncestorFacts } from './advance-graph.ts';

export interface RunPolicy {
  decide(spec: TaskSpec, deps: DependencyFacts[], run: RunFacts, ancestors?: AncestorFacts[]): Decision;
  /** True when `decide` reads `ancestors` for this run (they cost a walk of the run's DAG); default false. */
  wantsAncestors?(run: RunFacts): boolean;
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
const FAILED = ['failed', 'timed_out', 'runner_lost'];
const TERMINAL: readonly string[] = TERMINAL_STATUSES;
const UNFINISHED = TASK_STATUSES.filter((s) => !isTerminal(s));

// Cost: a completion reads the run's pending tasks (without their specs), the statuses of the run's tasks only
// when something is pending, and the full rows (spec, outputs) of just the tasks it decides and their
// dependencies. The first version parsed every task's spec on every completion: quadratic in the run's size.
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
  const result: AdvanceResult = { queued: [], skipped: [], cancelled: [], runStatus: null };
  await failFast(tx, runId, now, result);
  // Ordered here, not by the query: with `order by position` SQLite walks the run's (run_id, position) index
  // over every task instead of taking the few pending ones from tasks_by_run_status.
  const pending = (
    await tx
      .selectFrom('tasks')
      .select(['id', 'name', 'depends_on', 'position'])
      .where('run_id', '=', runId)
      .where('status', '=', 'pending')
      .execute()
  ).sort((a, b) => a.position - b.position);
  if (pending.length > 0) {
    const runFacts: RunFacts = {
      id: run.id,
      name: run.name,
      dialect: run.dialect,
      cancelRequested: run.cancel_requested === 1,
      inputs: JSON.parse(run.inputs) as Record<string, string>,
      // Read only when a task is to be decided: it may hold an event payload of up to 1 MiB.
      githubContext:
        run.dialect === 'github'
          ? ((await tx.selectFrom('runs').select('github_context').where('id', '=', runId).executeTakeFirst())
              ?.github_context ?? null)
          : null,
    };
    await decidePending(tx, runId, now, policy, runFacts, pending, result);
  }
  if (result.queued.length > 0) await d.notifyQueued(tx);
  if (!isTerminal(run.status)) {
    const status = await finalStatus(tx, runId, run.cancel_requested === 1);
    if (status !== undefined) {
      await tx
        .updateTable('runs')
        .set({ status, finished_at: now })
        .where('id', '=', runId)
        .where('status', '=', run.status)
        .execute();
      result.runStatus = status;
    }
  }
  return result;
}

/** Decides every pending task whose dependencies are final; a decision can make further tasks decidable. */
async function decidePending(
  tx: Tx,
  runId: string,
  now: number,
  policy: RunPolicy,
  runFacts: RunFacts,
  pending: PendingRow[],
  result: AdvanceResult,
): Promise<void> {
  const all = await tx
    .selectFrom('tasks')
    .select(['name', 'status', 'depends_on'])
    .where('run_id', '=', runId)
    .execute();
  const statuses = new Map(all.map((r) => [r.name, r.status]));
  // Parsed only when a walk over ancestors reaches them (most runs never walk).
  const raw = new Map(all.map((r) => [r.name, r.depends_on]));
  const parsed = new Map<string, string[]>();
  const edges = {
    get: (name: string): string[] | undefined => {
      const known = parsed.get(name);
      if (known !== undefined) return known;
      const text = raw.get(name);
      if (text === undefined) return undefined;
      const list = JSON.parse(text) as string[];
      parsed.set(name, list);
      return list;
    },
    set: (name: string, list: string[]) => {
      raw.set(name, JSON.stringify(list));
      parsed.set(name, list);
    },
    delete: (name: string) => {
      raw.delete(name);
      parsed.delete(name);
    },
    names: () => [...raw.keys()],
  };
  const walk = policy.wantsAncestors?.(runFacts) === true;
  const waiting = pending.map((p) => ({ ...p, dependsOn: JSON.parse(p.depends_on) as string[] }));
  let changed = true;
  while (changed) {
    changed = false;
    for (const t of waiting) {
      if (statuses.get(t.name) !== 'pending') continue;
      const known = t.dependsOn.filter((n) => statuses.has(n));
      if (!known.every((n) => isTerminal(statuses.get(n)!))) continue;
      const rows = await tx
        .selectFrom('tasks')
        .select(['name', 'status', 'spec', 'outputs'])
        .where('run_id', '=', runId)
        .where('name', 'in', [t.name, ...known])
        .execute();
      const byName = new Map(rows.map((r) => [r.name, r]));
      const spec = JSON.parse(byName.get(t.name)!.spec) as TaskSpec;
      const facts = known.map((n): DependencyFacts => {
        const dep = byName.get(n)!;
        const depSpec = JSON.parse(dep.spec) as TaskSpec;
        return {
          name: n,
          ...(depSpec.strategy ? { group: depSpec.strategy.group } : {}),
          status: dep.status,
          continueOnError: depSpec.continueOnError === true,
          outputs: JSON.parse(dep.outputs) as Record<string, string>,
        };
      });
      const ancestors = walk
        ? await ancestorFacts(tx, runId, t.dependsOn, edges, statuses, facts)
        : undefined;
      const decision = policy.decide(spec, facts, { ...runFacts, taskCount: statuses.size }, ancestors);
      if (decision.run && decision.expand !== undefined) {
        const names = await expandTask(tx, runId, now, t, decision.expand);
        if (names === undefined) continue;
        statuses.delete(t.name);
        edges.delete(t.name);
        for (const spec of decision.expand) {
          statuses.set(spec.name, 'queued');
          edges.set(spec.name, spec.dependsOn);
        }
        const swap = (list: string[]) => list.flatMap((n) => (n === t.name ? names : [n]));
        for (const name of edges.names()) {
          const deps = edges.get(name) ?? [];
          if (deps.includes(t.name)) edges.set(name, swap(deps));
        }
        for (const w of waiting) if (w.dependsOn.includes(t.name)) w.dependsOn = swap(w.dependsOn);
        result.queued.push(...names);
        changed = true;
        continue;
      }
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
      statuses.set(t.name, set.status);
      (decision.run ? result.queued : result.skipped).push(t.name);
      changed = true;
    }
  }
}

/**
 * The run's final status once every task is final, else undefined: `deriveRunStatus` over its tasks. Reads one
 * count per status, and the specs (for `continue_on_error`) only of failed tasks of a run that has ended, so a
 * completion in a large run does not parse every task's spec.
 */
async function finalStatus(tx: Tx, runId: string, cancelRequested: boolean): Promise<RunStatus | undefined> {
  // Most completions end a task of a run with more to do: one index probe (tasks_by_run_status) says so,
  // where the count below reads an entry per task of the run.
  const unfinished = await tx
    .selectFrom('tasks')
    .select('id')
    .where('run_id', '=', runId)
    .where('status', 'in', UNFINISHED)
    .limit(1)
    .executeTakeFirst();
  if (unfinished !== undefined) return undefined;
  const counts = await tx
    .selectFrom('tasks')
    .select(['status', (eb) => eb.fn.countAll<number | string | bigint>().as('n')])
    .where('run_id', '=', runId)
    .groupBy('status')
    .execute();
  if (!counts.every((c) => TERMINAL.includes(c.status))) return undefined;
  const outcomes: TaskOutcome[] = counts
    .filter((c) => !FAILED.includes(c.status))
    .map((c) => ({ status: c.status, continueOnError: false }));
  if (counts.some((c) => FAILED.includes(c.status))) {
    const failed = await tx
      .selectFrom('tasks')
      .select(['status', 'spec'])
      .where('run_id', '=', runId)
      .where('status', 'in', FAILED)
      .execute();
    for (const t of failed)
      outcomes.push({
        status: t.status,
        continueOnError: (JSON.parse(t.spec) as TaskSpec).continueOnError === true,
      });
  }
  return deriveRunStatus(outcomes, cancelRequested);
}

/** A failed task of a fail-fast matrix group cancels its unfinished siblings. */
async function failFast(tx: Tx, runId: string, now: number, result: AdvanceResult): Promise<void> {
  const failedInGroups = await tx
    .selectFrom('tasks')
    .select(['name', 'group_name', 'spec'])
    .where('run_id', '=', runId)
    .where('group_name', 'is not', null)
    .where('status', 'in', FAILED)
    .execute();
  const failedGroups = new Map<string, string>();
  for (const t of failedInGroups) {
    const spec = JSON.parse(t.spec) as TaskSpec;
    if (spec.strategy?.failFast && spec.continueOnError !== true) failedGroups.set(t.group_name!, t.name);
  }
  if (failedGroups.size === 0) return;
  const unfinished = await tx
    .selectFrom('tasks')
    .select(['id', 'name', 'status', 'attempt', 'group_name'])
    .where('run_id', '=', runId)
    .where('group_name', 'in', [...failedGroups.keys()])
    .where('status', 'not in', TERMINAL)
    .orderBy('position')
    .execute();
  for (const t of unfinished) {
    const culprit = failedGroups.get(t.group_name!)!;
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
    if (res.numUpdatedRows > 0n) result.cancelled.push(t.name);
  }
}
