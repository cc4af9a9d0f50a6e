// Runners and tokens: who may call the server. Only sha256 hashes of tokens are stored.
import type { StoreDialect } from './dialect.ts';
import type { RunnerRow, TokenRow } from './schema.ts';
import { newId } from './ids.ts';

const RUNNER_NAMES_PER_QUERY = 500;

export function createCredentialStore(d: StoreDialect) {
  const { db } = d;
  return {
    async insertToken(
      t: Omit<TokenRow, 'id' | 'used_at' | 'revoked_at' | 'scope'> & { scope?: string },
    ): Promise<TokenRow> {
      const row: TokenRow = {
        ...t,
        scope: t.scope ?? 'admin',
        id: newId(t.created_at),
        used_at: null,
        revoked_at: null,
      };
      await db.insertInto('tokens').values(row).execute();
      return row;
    },
    async tokenByHash(hash: string): Promise<TokenRow | undefined> {
      return db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    },
    async countTokens(kind: string): Promise<number> {
      const r = await db
        .selectFrom('tokens')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('kind', '=', kind)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
    /** Marks a single-use token used; false when it already was (a concurrent registration won). */
    async useToken(id: string, now: number): Promise<boolean> {
      const r = await db
        .updateTable('tokens')
        .set({ used_at: now })
        .where('id', '=', id)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
    async listTokens(): Promise<TokenRow[]> {
      return db.selectFrom('tokens').selectAll().orderBy('created_at').execute();
    },
    /** The rows of these token ids that still exist (for checking open streams' tokens in one query). */
    async tokensByIds(ids: readonly string[]): Promise<TokenRow[]> {
      if (ids.length === 0) return [];
      return db.selectFrom('tokens').selectAll().where('id', 'in', ids).execute();
    },
    /** Revokes a token; other server processes on this database hear of it on commit (their streams close). */
    async revokeToken(id: string, now: number): Promise<boolean> {
      return d.writeTx(async (tx) => {
        const r = await tx
          .updateTable('tokens')
          .set({ revoked_at: now })
          .where('id', '=', id)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        if (r.numUpdatedRows === 0n) return false;
        await d.notifyTokenRevoked(tx, id);
        return true;
      });
    },

    async insertRunner(
      r: Omit<RunnerRow, 'id' | 'disabled' | 'last_seen_at' | 'status_json' | 'ephemeral'> & {
        ephemeral?: number;
      },
    ): Promise<RunnerRow> {
      const row: RunnerRow = {
        ...r,
        ephemeral: r.ephemeral ?? 0,
        id: newId(r.created_at),
        disabled: 0,
        last_seen_at: r.created_at,
        status_json: '{}',
      };
      await db.insertInto('runners').values(row).execute();
      return row;
    },
    async runnerByTokenHash(hash: string): Promise<RunnerRow | undefined> {
      return db.selectFrom('runners').selectAll().where('token_hash', '=', hash).executeTakeFirst();
    },
    async runner(id: string): Promise<RunnerRow | undefined> {
      return db.selectFrom('runners').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async listRunners(): Promise<RunnerRow[]> {
      return db.selectFrom('runners').selectAll().orderBy('created_at').execute();
    },
    /** The names of these runners by id (a run's view names only the runners its tasks ran on). */
    async runnerNames(ids: Iterable<string>): Promise<Map<string, string>> {
      const unique = [...new Set(ids)];
      const names = new Map<string, string>();
      // Bounded lists: SQLite refuses a statement with too many parameters.
      for (let i = 0; i < unique.length; i += RUNNER_NAMES_PER_QUERY) {
        const rows = await db
          .selectFrom('runners')
          .select(['id', 'name'])
          .where('id', 'in', unique.slice(i, i + RUNNER_NAMES_PER_QUERY))
          .execute();
        for (const row of rows) names.set(row.id, row.name);
      }
      return names;
    },
    async setRunnerStatus(id: string, statusJson: string, now: number): Promise<void> {
      await db
        .updateTable('runners')
        .set({ status_json: statusJson, last_seen_at: now })
        .where('id', '=', id)
        .execute();
    },
    async touchRunner(id: string, now: number): Promise<void> {
      await db.updateTable('runners').set({ last_seen_at: now }).where('id', '=', id).execute();
    },
    async setRunnerDisabled(id: string, disabled: boolean): Promise<boolean> {
      const r = await db
        .updateTable('runners')
        .set({ disabled: disabled ? 1 : 0 })
        .where('id', '=', id)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
    /** True once the runner has been offered any task (an ephemeral runner is offered exactly one). */
    async runnerHasAttempt(id: string): Promise<boolean> {
      const r = await db
        .selectFrom('attempts')
        .select('id')
        .where('runner_id', '=', id)
        .limit(1)
        .executeTakeFirst();
      return r !== undefined;
    },
    /**
     * Removes the ephemeral runners that are done or dead: no live attempt, and either they were offered their
     * one task already (it finished, was lost, or its offer lapsed) or nothing was heard from them since
     * `silentBefore`. Returns their ids. A removed runner's token stops working at once.
     */
    async removeSpentEphemeralRunners(silentBefore: number): Promise<string[]> {
      const rows = await db
        .selectFrom('runners')
        .select('id')
        .where('ephemeral', '=', 1)
        .where((eb) =>
          eb.and([
            eb.not(
              eb.exists(
                eb
                  .selectFrom('attempts')
                  .select('attempts.id')
                  .whereRef('attempts.runner_id', '=', 'runners.id')
                  .where('attempts.state', 'in', ['offered', 'running']),
              ),
            ),
            eb.or([
              eb.exists(
                eb
                  .selectFrom('attempts')
                  .select('attempts.id')
                  .whereRef('attempts.runner_id', '=', 'runners.id'),
              ),
              eb('last_seen_at', '<', silentBefore),
            ]),
          ]),
        )
        .execute();
      if (rows.length === 0) return [];
      const ids = rows.map((r) => r.id);
      // Conditional again at delete time: a runner that took its offer in between keeps its row.
      await db
        .deleteFrom('runners')
        .where('id', 'in', ids)
        .where('ephemeral', '=', 1)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('attempts')
                .select('attempts.id')
                .whereRef('attempts.runner_id', '=', 'runners.id')
                .where('attempts.state', 'in', ['offered', 'running']),
            ),
          ),
        )
        .execute();
      return ids;
    },
    async deleteRunner(id: string): Promise<boolean> {
      const r = await db.deleteFrom('runners').where('id', '=', id).executeTakeFirst();
      return r.numDeletedRows > 0n;
    },

    async getSetting(key: string): Promise<string | undefined> {
      const r = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
      return r?.value;
    },
    async setSetting(key: string, value: string): Promise<void> {
      await db
        .insertInto('settings')
        .values({ key, value })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
        .execute();
    },
  };
}

export type CredentialStore = ReturnType<typeof createCredentialStore>;
