// Secret records: names in the clear, values only as the server's ciphertext.
import type { StoreDialect } from './dialect.ts';
import type { SecretRow } from './schema.ts';

export function createSecretStore(d: StoreDialect) {
  const { db } = d;
  return {
    async put(name: string, ciphertext: string, now: number): Promise<'created' | 'updated'> {
      const existing = await db
        .selectFrom('secrets')
        .select('name')
        .where('name', '=', name)
        .executeTakeFirst();
      await db
        .insertInto('secrets')
        .values({ name, ciphertext, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('name').doUpdateSet({ ciphertext, updated_at: now }))
        .execute();
      return existing ? 'updated' : 'created';
    },
    async list(): Promise<Array<Pick<SecretRow, 'name' | 'created_at' | 'updated_at'>>> {
      return db.selectFrom('secrets').select(['name', 'created_at', 'updated_at']).orderBy('name').execute();
    },
    async get(names: string[]): Promise<SecretRow[]> {
      if (names.length === 0) return [];
      return db.selectFrom('secrets').selectAll().where('name', 'in', names).execute();
    },
    async remove(name: string): Promise<boolean> {
      const r = await db.deleteFrom('secrets').where('name', '=', name).executeTakeFirst();
      return r.numDeletedRows > 0n;
    },
  };
}

export type SecretStore = ReturnType<typeof createSecretStore>;
