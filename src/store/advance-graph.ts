// Changes to a run's graph while it advances: the ancestors a decision looks at (GitHub's job status functions
// look at every one), and a placeholder task replaced by the tasks of a matrix computed at run time.
import type { Transaction } from 'kysely';
import type { TaskSpec } from '../protocol/plan.ts';
import type { DependencyFacts } from './advance.ts';
import { newId } from './ids.ts';
import type { Database } from './schema.ts';

type Tx = Transaction<Database>;
const FAILED = ['failed', 'timed_out', 'runner_lost'];

/** A task the decided one depends on through its dependencies (GitHub's status functions look at all of them). */
export interface AncestorFacts {
  name: string;
  status: string;
  continueOnError: boolean;
}

/** A pending task as advance.ts reads it. */
export interface PendingRow {
  id: string;
  name: string;
  depends_on: string;
}

/**
 * Replaces a pending placeholder (a matrix computed at run time) by its tasks, queued, at its position; its
 * dependents then depend on every one of them (depends_on and the spec's dependsOn and artifactsFrom).
 * Undefined when the placeholder is no longer pending (another transaction decided it).
 */
export async function expandTask(
  tx: Tx,
  runId: string,
  now: number,
  placeholder: PendingRow,
  specs: TaskSpec[],
): Promise<string[] | undefined> {
  const row = await tx.selectFrom('tasks').selectAll().where('id', '=', placeholder.id).executeTakeFirst();
  if (row === undefined || row.status !== 'pending') return undefined;
  await tx.deleteFrom('tasks').where('id', '=', row.id).where('status', '=', 'pending').execute();
  const names = specs.map((spec) => spec.name);
  const rows = specs.map((spec) => ({
    ...row,
    id: newId(now),
    name: spec.name,
    status: 'queued',
    queued_at: now,
    spec: JSON.stringify(spec),
    depends_on: JSON.stringify(spec.dependsOn),
    runs_on: JSON.stringify(spec.runsOn),
    group_name: spec.strategy?.group ?? null,
  }));
  // In chunks: SQLite caps the number of bound parameters per statement.
  for (let i = 0; i < rows.length; i += 50)
    await tx
      .insertInto('tasks')
      .values(rows.slice(i, i + 50))
      .execute();
  const dependents = await tx
    .selectFrom('tasks')
    .select(['id', 'spec', 'depends_on'])
    .where('run_id', '=', runId)
    .where('depends_on', 'like', `%${JSON.stringify(placeholder.name)}%`) // '_' matches any one: checked below
    .execute();
  const swap = (list: string[]) => list.flatMap((n) => (n === placeholder.name ? names : [n]));
  for (const dep of dependents) {
    const dependsOn = JSON.parse(dep.depends_on) as string[];
    if (!dependsOn.includes(placeholder.name)) continue;
    const spec = JSON.parse(dep.spec) as TaskSpec;
    spec.dependsOn = swap(spec.dependsOn);
    spec.artifactsFrom = swap(spec.artifactsFrom);
    await tx
      .updateTable('tasks')
      .set({ depends_on: JSON.stringify(swap(dependsOn)), spec: JSON.stringify(spec) })
      .where('id', '=', dep.id)
      .execute();
  }
  return names;
}

/**
 * Every task reached from `dependsOn` through depends_on, with its status; a final dependency's ancestors are
 * final too. `continueOnError` is read from the spec only of the failed ones (the rest do not need it).
 */
export async function ancestorFacts(
  tx: Tx,
  runId: string,
  dependsOn: string[],
  edges: { get(name: string): string[] | undefined },
  statuses: ReadonlyMap<string, string>,
  direct: DependencyFacts[],
): Promise<AncestorFacts[]> {
  const seen = new Set<string>();
  const stack = [...dependsOn];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name) || !statuses.has(name)) continue;
    seen.add(name);
    stack.push(...(edges.get(name) ?? []));
  }
  const known = new Map(direct.map((d) => [d.name, d.continueOnError]));
  const failed = [...seen].filter((n) => !known.has(n) && FAILED.includes(statuses.get(n)!));
  if (failed.length > 0) {
    const rows = await tx
      .selectFrom('tasks')
      .select(['name', 'spec'])
      .where('run_id', '=', runId)
      .where('name', 'in', failed)
      .execute();
    for (const r of rows) known.set(r.name, (JSON.parse(r.spec) as TaskSpec).continueOnError === true);
  }
  return [...seen].map((name) => ({
    name,
    status: statuses.get(name)!,
    continueOnError: known.get(name) ?? false,
  }));
}
