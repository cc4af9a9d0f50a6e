// Push runners (Automn-compatible): entries an admin creates, which a runner then registers against with its secret.
import type { StoreDialect } from './dialect.ts';
import type { PushRunnerRow } from './schema.ts';

export interface PushRunnerRegistration {
  endpoint: string;
  statusMessage: string;
  maxConcurrency: number | null;
  timeoutMs: number | null;
  infoJson: string;
  /** The runner's public key (null: it sent none, a real Automn runner). */
  publicKey: string | null;
  /** The secret it registered with, encrypted with the master key; undefined leaves the stored one. */
  sealedSecret?: string;
}

export function createPushRunnerStore(d: StoreDialect) {
  const { db } = d;
  return {
    /** Inserts a new entry; 'exists' when its id or its name is taken (nothing is written then). */
    async create(r: {
      id: string;
      name: string;
      secretHash: string;
      /** Labels besides its name that a task's `runs_on` may select it by. */
      labels?: string[];
      now: number;
    }): Promise<PushRunnerRow | 'exists'> {
      const row: PushRunnerRow = {
        id: r.id,
        name: r.name,
        secret_hash: r.secretHash,
        labels: JSON.stringify(r.labels ?? []),
        status_message: null,
        endpoint: null,
        max_concurrency: null,
        timeout_ms: null,
        info_json: '{}',
        last_seen_at: null,
        disabled_at: null,
        created_at: r.now,
        updated_at: r.now,
        public_key: null,
        sealed_secret: null,
      };
      return d.writeTx(async (tx) => {
        const taken = await tx
          .selectFrom('push_runners')
          .select('id')
          .where((eb) => eb.or([eb('id', '=', r.id), eb('name', '=', r.name)]))
          .executeTakeFirst();
        if (taken) return 'exists';
        await tx.insertInto('push_runners').values(row).execute();
        return row;
      });
    },
    async get(id: string): Promise<PushRunnerRow | undefined> {
      return db.selectFrom('push_runners').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async list(): Promise<PushRunnerRow[]> {
      return db.selectFrom('push_runners').selectAll().orderBy('name').execute();
    },
    /** Records a registration or heartbeat: where the runner listens, what it advertised, and when. */
    async registered(id: string, r: PushRunnerRegistration, now: number): Promise<PushRunnerRow | undefined> {
      await db
        .updateTable('push_runners')
        .set({
          endpoint: r.endpoint,
          status_message: r.statusMessage,
          max_concurrency: r.maxConcurrency,
          timeout_ms: r.timeoutMs,
          info_json: r.infoJson,
          public_key: r.publicKey,
          ...(r.sealedSecret === undefined ? {} : { sealed_secret: r.sealedSecret }),
          last_seen_at: now,
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
      return this.get(id);
    },
    /** Disables (at `now`) or enables (null) an entry; undefined when there is no such entry. */
    async setDisabled(
      id: string,
      disabledAt: number | null,
      statusMessage: string,
      now: number,
    ): Promise<PushRunnerRow | undefined> {
      await db
        .updateTable('push_runners')
        .set({ disabled_at: disabledAt, status_message: statusMessage, updated_at: now })
        .where('id', '=', id)
        .execute();
      return this.get(id);
    },
    /**
     * A new secret: the runner must register again with it, so the old endpoint, last sighting and the sealed
     * old secret are dropped.
     */
    async rotateSecret(id: string, secretHash: string, now: number): Promise<PushRunnerRow | undefined> {
      await db
        .updateTable('push_runners')
        .set({
          secret_hash: secretHash,
          sealed_secret: null,
          endpoint: null,
          last_seen_at: null,
          status_message: 'Runner secret rotated by administrator',
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
      return this.get(id);
    },
    async remove(id: string): Promise<boolean> {
      const r = await db.deleteFrom('push_runners').where('id', '=', id).executeTakeFirst();
      return r.numDeletedRows > 0n;
    },
  };
}
