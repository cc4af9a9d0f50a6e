// Runs: create one with its tasks from a plan, read them back, list them, request their cancellation.
import type { GitHubRunContext } from '../protocol/github-context.ts';
import type { Plan } from '../protocol/plan.ts';
import { TERMINAL_STATUSES, type RunStatus } from '../protocol/status.ts';
import { secretNames } from '../protocol/secret-names.ts';
import { sql } from 'kysely';
import { lockRows, type StoreDialect } from './dialect.ts';
import type { RunRow, TaskRow } from './schema.ts';
import { advanceRun, type AdvanceResult, type RunPolicy } from './advance.ts';
import { newId } from './ids.ts';

export interface CreateRunOptions {
  plan: Plan;
  workflow: string;
  inputs: Record<string, string>;
  now: number;
  /**
   * GitHub-dialect runs: the run's facts, vars and typed inputs, stored as given except `github.run_number`,
   * which the store sets: this run's number among the runs of the same workflow name, from 1.
   */
  github?: GitHubRunContext;
  /** Who submitted it (RunRow.submitted_by). */
  submittedBy?: string;
}

export interface RunWithTasks {
  run: RunRow;
  tasks: TaskRow[];
}

export interface CancelResult {
  /** Tasks cancelled at once (never started on a runner). */
  cancelled: string[];
  /** Tasks whose running attempt was asked to stop; the runner hears it on its next heartbeat. */
  signalled: string[];
  advance: AdvanceResult | null;
}

export function createRunStore(d: StoreDialect, policy: RunPolicy) {
  const { db } = d;
  return {
    async create(o: CreateRunOptions): Promise<{ runId: string; advance: AdvanceResult }> {
      const runId = newId(o.now);
      return d.writeTx(async (tx) => {
        let githubContext: string | null = null;
        if (o.github !== undefined) {
          const before = await tx
            .selectFrom('runs')
            .select((eb) => eb.fn.countAll<number | string>().as('n'))
            .where('name', '=', o.plan.name)
            .executeTakeFirstOrThrow();
          const runNumber = String(Number(before.n) + 1);
          githubContext = JSON.stringify({
            ...o.github,
            github: { ...o.github.github, run_number: runNumber },
          });
        }
        await tx
          .insertInto('runs')
          .values({
            id: runId,
            name: o.plan.name,
            dialect: o.plan.dialect,
            status: 'queued',
            workflow: o.workflow,
            plan: JSON.stringify(o.plan),
            inputs: JSON.stringify(o.inputs),
            outputs: '{}',
            cancel_requested: 0,
            github_context: githubContext,
            submitted_by: o.submittedBy ?? null,
            created_at: o.now,
            started_at: null,
            finished_at: null,
          })
          .execute();
        const workflowEnv = JSON.stringify(o.plan.env);
        // Insert in chunks: SQLite caps the number of bound parameters per statement.
        const rows = o.plan.tasks.map((t, position) => ({
          id: newId(o.now),
          run_id: runId,
          name: t.name,
          position,
          status: 'pending',
          spec: JSON.stringify(t),
          depends_on: JSON.stringify(t.dependsOn),
          runs_on: JSON.stringify(t.runsOn),
          attempt: 0,
          outputs: '{}',
          log_bytes: 0,
          log_truncated: 0,
          confidential_outputs: '[]',
          group_name: t.strategy?.group ?? null,
          names_secrets: secretNames(workflowEnv, JSON.stringify(t)).length > 0 ? 1 : 0,
          needs_sandbox: t.isolation === 'sandbox' ? 1 : 0,
          needs_network_off: t.network === false ? 1 : 0,
          needs_limits: t.limits !== undefined && Object.keys(t.limits).length > 0 ? 1 : 0,
          cache_key: null,
          annotations: null,
          summaries: null,
          cache_hit: 0,
          cache_age_ms: null,
        }));
        for (let i = 0; i < rows.length; i += 200) {
          await tx
            .insertInto('tasks')
            .values(rows.slice(i, i + 200))
            .execute();
        }
        const advance = await advanceRun(d, tx, runId, o.now, policy);
        return { runId, advance };
      });
    },

    async get(runId: string): Promise<RunWithTasks | undefined> {
      const run = await db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst();
      if (!run) return undefined;
      const tasks = await db
        .selectFrom('tasks')
        .selectAll()
        .where('run_id', '=', runId)
        .orderBy('position')
        .execute();
      return { run, tasks };
    },

    /** The run row alone (its plan included), without its tasks. */
    async runRow(runId: string): Promise<RunRow | undefined> {
      return db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst();
    },

    /** Only the named tasks of a run (a task's dependencies), not all of them. */
    async tasksNamed(runId: string, names: string[]): Promise<TaskRow[]> {
      const rows: TaskRow[] = [];
      for (let i = 0; i < names.length; i += 500) {
        const part = names.slice(i, i + 500);
        rows.push(
          ...(await db
            .selectFrom('tasks')
            .selectAll()
            .where('run_id', '=', runId)
            .where('name', 'in', part)
            .execute()),
        );
      }
      return rows;
    },

    /**
     * Runs newest first. `name` keeps runs whose name contains it, ignoring case (`lower()` on both sides, so
     * ASCII only on SQLite); `%`, `_` and `\` in it match themselves. A substring match cannot use an index:
     * it walks runs newest first (runs_by_created) and stops after `limit` matches.
     */
    async list(o: { status?: RunStatus; name?: string; limit: number; before?: string }) {
      let q = db
        .selectFrom('runs')
        .select(['id', 'name', 'status', 'created_at', 'started_at', 'finished_at', 'submitted_by'])
        .select((eb) =>
          eb
            .selectFrom('tasks')
            .select(eb.fn.countAll<number>().as('n'))
            .whereRef('tasks.run_id', '=', 'runs.id')
            .as('task_count'),
        )
        .select((eb) =>
          eb
            .selectFrom('tasks')
            .select(eb.fn.countAll<number>().as('n'))
            .whereRef('tasks.run_id', '=', 'runs.id')
            .where('tasks.status', 'in', [...TERMINAL_STATUSES])
            .as('tasks_done'),
        )
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(o.limit);
      if (o.status) q = q.where('status', '=', o.status);
      if (o.before) q = q.where('id', '<', o.before);
      if (o.name) {
        const pattern = `%${escapeLike(o.name)}%`;
        q = q.where(
          sql<boolean>`lower(${sql.ref('runs.name')}) like lower(cast(${pattern} as text)) escape '\\'`,
        );
      }
      return q.execute();
    },

    async cancel(runId: string, now: number): Promise<CancelResult | undefined> {
      return d.writeTx(async (tx) => {
        const run = await tx
          .selectFrom('runs')
          .select(['id', 'status'])
          .where('id', '=', runId)
          .executeTakeFirst();
        if (!run) return undefined;
        const result: CancelResult = { cancelled: [], signalled: [], advance: null };
        await tx.updateTable('runs').set({ cancel_requested: 1 }).where('id', '=', runId).execute();
        // Locked, so a concurrent claim either finished first (the task shows as running, its offer is
        // withdrawn below) or skips the task it would have taken.
        const tasks = await tx
          .selectFrom('tasks')
          .select(['id', 'name', 'status', 'attempt'])
          .where('run_id', '=', runId)
          .where('status', 'in', ['pending', 'queued', 'running'])
          .orderBy('position')
          .$call(lockRows(d.capabilities))
          .execute();
        for (const t of tasks) {
          if (t.status === 'running') {
            const attempt = await tx
              .selectFrom('attempts')
              .select(['id', 'state'])
              .where('task_id', '=', t.id)
              .where('number', '=', t.attempt)
              .executeTakeFirst();
            if (attempt?.state === 'running') {
              await tx
                .updateTable('attempts')
                .set({ cancel_requested: 1 })
                .where('id', '=', attempt.id)
                .execute();
              result.signalled.push(t.name);
              continue;
            }
            // Offered but not yet confirmed: withdraw the offer; the runner's `start` will get 409.
            if (attempt) {
              await tx
                .updateTable('attempts')
                .set({ state: 'expired', finished_at: now })
                .where('id', '=', attempt.id)
                .execute();
            }
          }
          await tx
            .updateTable('tasks')
            .set({
              status: 'cancelled',
              reason: 'cancelled',
              message: 'cancelled before it started',
              finished_at: now,
            })
            .where('id', '=', t.id)
            .where('status', '=', t.status)
            .execute();
          result.cancelled.push(t.name);
        }
        result.advance = await advanceRun(d, tx, runId, now, policy);
        return result;
      });
    },
  };
}

export type RunStore = ReturnType<typeof createRunStore>;

/** `text` as a LIKE pattern that matches it literally, with `\` as the escape character. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
