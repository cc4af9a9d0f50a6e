// Artifact records: which stored blob holds which task attempt's uploads. The bytes live in the blob store.
import type { StoreDialect } from './dialect.ts';
import type { ArtifactRow } from './schema.ts';
import { newId } from './ids.ts';

export function createArtifactStore(d: StoreDialect) {
  const { db } = d;
  return {
    async insert(row: Omit<ArtifactRow, 'id'>): Promise<ArtifactRow> {
      const full: ArtifactRow = { ...row, id: newId(row.created_at) };
      await db
        .insertInto('artifacts')
        .values(full)
        .onConflict((oc) => oc.columns(['task_id', 'attempt', 'name']).doNothing())
        .execute();
      const stored = await db
        .selectFrom('artifacts')
        .selectAll()
        .where('task_id', '=', row.task_id)
        .where('attempt', '=', row.attempt)
        .where('name', '=', row.name)
        .executeTakeFirstOrThrow();
      return stored;
    },
    async get(id: string): Promise<ArtifactRow | undefined> {
      return db.selectFrom('artifacts').selectAll().where('id', '=', id).executeTakeFirst();
    },
    /** Artifacts of a run's tasks, only those of each task's final (latest) attempt. */
    async ofRun(runId: string): Promise<Array<ArtifactRow & { task_name: string }>> {
      return db
        .selectFrom('artifacts')
        .innerJoin('tasks', 'tasks.id', 'artifacts.task_id')
        .selectAll('artifacts')
        .select('tasks.name as task_name')
        .where('artifacts.run_id', '=', runId)
        .whereRef('artifacts.attempt', '=', 'tasks.attempt')
        .orderBy('tasks.position')
        .execute();
    },
  };
}

export type ArtifactStore = ReturnType<typeof createArtifactStore>;
