// Webhooks and their deliveries. A delivery is a row from the moment its event happens until it is delivered or
// its attempts run out, so a restart loses none; a sender holds one by pushing its `next_attempt_at` forward in a
// conditional update (one sender per delivery, across replicas), and records each attempt beside it.
import type { StoreDialect } from './dialect.ts';
import type { WebhookAttemptRow, WebhookDeliveryRow, WebhookRow } from './schema.ts';

export function createWebhookStore(d: StoreDialect) {
  const { db } = d;
  return {
    async create(row: WebhookRow): Promise<WebhookRow> {
      await db.insertInto('webhooks').values(row).execute();
      return row;
    },
    /** A runner's webhook replaces the one it had (and its deliveries); null clears it. */
    async setForRunner(runnerId: string, row: WebhookRow | null): Promise<void> {
      await d.writeTx(async (tx) => {
        await tx.deleteFrom('webhooks').where('runner_id', '=', runnerId).execute();
        if (row) await tx.insertInto('webhooks').values(row).execute();
      });
    },
    /** Every webhook, the runners' own included. */
    async all(): Promise<WebhookRow[]> {
      return db.selectFrom('webhooks').selectAll().execute();
    },
    async list(): Promise<WebhookRow[]> {
      return db.selectFrom('webhooks').selectAll().where('runner_id', 'is', null).orderBy('id').execute();
    },
    async get(id: string): Promise<WebhookRow | undefined> {
      return db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async ofRunner(runnerId: string): Promise<WebhookRow | undefined> {
      return db.selectFrom('webhooks').selectAll().where('runner_id', '=', runnerId).executeTakeFirst();
    },
    /** Server webhooks that receive `event`. */
    async subscribedTo(event: string): Promise<WebhookRow[]> {
      const rows = await db.selectFrom('webhooks').selectAll().where('runner_id', 'is', null).execute();
      return rows.filter((w) => (JSON.parse(w.events) as string[]).includes(event));
    },
    /** A task's id and the runner it was last given to. */
    async taskOf(runId: string, name: string): Promise<{ id: string; runner_id: string | null } | undefined> {
      return db
        .selectFrom('tasks')
        .select(['id', 'runner_id'])
        .where('run_id', '=', runId)
        .where('name', '=', name)
        .executeTakeFirst();
    },
    async remove(id: string): Promise<boolean> {
      const r = await db
        .deleteFrom('webhooks')
        .where('id', '=', id)
        .where('runner_id', 'is', null)
        .executeTakeFirst();
      return r.numDeletedRows > 0n;
    },
    async enqueue(rows: WebhookDeliveryRow[]): Promise<void> {
      if (rows.length > 0) await db.insertInto('webhook_deliveries').values(rows).execute();
    },
    /** The earliest time a pending delivery is due, or null when none is pending. */
    async nextDue(): Promise<number | null> {
      const r = await db
        .selectFrom('webhook_deliveries')
        .select((eb) => eb.fn.min<number>('next_attempt_at').as('at'))
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return r?.at == null ? null : Number(r.at);
    },
    /**
     * Takes up to `limit` due deliveries for this sender: each one's `next_attempt_at` moves to `holdUntil` in a
     * conditional update, so another sender (a replica) skips it until then, and a sender that dies mid-attempt
     * leaves it to be tried again at `holdUntil`.
     */
    async take(
      now: number,
      holdUntil: number,
      limit: number,
    ): Promise<Array<{ delivery: WebhookDeliveryRow; webhook: WebhookRow }>> {
      const due = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .limit(limit)
        .execute();
      const out: Array<{ delivery: WebhookDeliveryRow; webhook: WebhookRow }> = [];
      for (const delivery of due) {
        const held = await db
          .updateTable('webhook_deliveries')
          .set({ next_attempt_at: holdUntil })
          .where('id', '=', delivery.id)
          .where('status', '=', 'pending')
          .where('next_attempt_at', '=', delivery.next_attempt_at)
          .executeTakeFirst();
        if (held.numUpdatedRows !== 1n) continue;
        const webhook = await db
          .selectFrom('webhooks')
          .selectAll()
          .where('id', '=', delivery.webhook_id)
          .executeTakeFirst();
        if (webhook) out.push({ delivery: { ...delivery, next_attempt_at: holdUntil }, webhook });
      }
      return out;
    },
    /** Records one attempt and where the delivery stands after it (next try at `retryAt`, or final). */
    async recordAttempt(
      attempt: WebhookAttemptRow,
      outcome: { status: 'delivered' | 'failed'; at: number } | { status: 'pending'; retryAt: number },
    ): Promise<void> {
      await d.writeTx(async (tx) => {
        const still = await tx
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('id', '=', attempt.delivery_id)
          .executeTakeFirst();
        // The webhook was removed meanwhile: its deliveries went with it.
        if (!still) return;
        await tx.insertInto('webhook_attempts').values(attempt).execute();
        await tx
          .updateTable('webhook_deliveries')
          .set(
            outcome.status === 'pending'
              ? { attempts: attempt.attempt, next_attempt_at: outcome.retryAt }
              : {
                  attempts: attempt.attempt,
                  status: outcome.status,
                  next_attempt_at: null,
                  finished_at: outcome.at,
                },
          )
          .where('id', '=', attempt.delivery_id)
          .execute();
      });
    },
    /** Removes delivered and failed deliveries that ended before `before` (their attempts go with them). */
    async pruneFinished(before: number): Promise<number> {
      const r = await db
        .deleteFrom('webhook_deliveries')
        .where('status', '!=', 'pending')
        .where('finished_at', '<', before)
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    /** A webhook's deliveries, newest first, each with its attempts in order. */
    async deliveries(
      webhookId: string,
      limit: number,
    ): Promise<Array<WebhookDeliveryRow & { attemptRows: WebhookAttemptRow[] }>> {
      const rows = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('webhook_id', '=', webhookId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      if (rows.length === 0) return [];
      const attempts = await db
        .selectFrom('webhook_attempts')
        .selectAll()
        .where(
          'delivery_id',
          'in',
          rows.map((r) => r.id),
        )
        .orderBy('attempt')
        .execute();
      return rows.map((r) => ({ ...r, attemptRows: attempts.filter((a) => a.delivery_id === r.id) }));
    },
  };
}

export type WebhookStore = ReturnType<typeof createWebhookStore>;
