// The PostgreSQL dialect: a `pg` pool behind Kysely, READ COMMITTED transactions retried on deadlock,
// LISTEN/NOTIFY for cross-replica wake-ups, and a session advisory lock around migrations.
import pg from 'pg';
import {
  Kysely,
  OperationNodeTransformer,
  PostgresDialect,
  sql,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type Transaction,
  type UnknownRow,
  type ValueNode,
} from 'kysely';
import type { Database } from '../schema.ts';
import { withoutNul, type StoreDialect } from '../dialect.ts';
import { POSTGRES_MIGRATIONS } from './migrations.ts';

/** The channel every replica listens on; a notice carries no payload, it only says "look again". */
export const QUEUED_CHANNEL = 'baton_queued';
/** Revocations: the payload is the revoked token's id, so every replica closes that token's streams. */
export const TOKEN_REVOKED_CHANNEL = 'baton_token_revoked';
const POOL_SIZE = 10;
/** Deadlock, serialization failure: the transaction did nothing and can run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const TX_ATTEMPTS = 5;
const LISTEN_RECONNECT_MS = 1000;
/** pg_advisory_lock(int4, int4): this namespace plus a hash of the schema being migrated. */
const MIGRATION_LOCK_NAMESPACE = 0x6261746f; // "bato"

const INT8_OID = 20;
/** Times are ms since the epoch and sizes are bytes: both fit a JS number exactly (< 2^53). */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

export function openPostgres(url: string): StoreDialect {
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE, types });
  // An idle client's error (the server went away) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new NoNulPlugin()] });

  return {
    capabilities: {
      name: 'postgres',
      multiProcess: true,
      rowLocks: true,
      skipLocked: true,
      greatest: 'greatest',
      advisoryLocks: true,
    },
    db,
    migrations: POSTGRES_MIGRATIONS,
    async writeTx<T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await db.transaction().execute(fn);
        } catch (err) {
          if (attempt >= TX_ATTEMPTS || !RETRYABLE.has(sqlState(err))) throw err;
        }
      }
    },
    async notifyQueued(tx: Kysely<Database>): Promise<void> {
      // Inside a transaction the notice is sent at commit (and dropped on rollback); duplicates within one
      // transaction are folded into one by PostgreSQL.
      await sql`select pg_notify(${QUEUED_CHANNEL}, '')`.execute(tx);
    },
    async notifyTokenRevoked(tx: Kysely<Database>, tokenId: string): Promise<void> {
      await sql`select pg_notify(${TOKEN_REVOKED_CHANNEL}, ${tokenId})`.execute(tx);
    },
    async listen(
      onQueued: () => void,
      onTokenRevoked?: (tokenId: string | undefined) => void,
    ): Promise<() => Promise<void>> {
      return listenForNotices(url, onQueued, onTokenRevoked ?? (() => {}));
    },
    async withMigrationLock<T>(fn: () => Promise<T>): Promise<T> {
      // A session lock on one pooled connection, held while `fn` migrates through the others.
      return db.connection().execute(async (conn) => {
        await sql`select pg_advisory_lock(${MIGRATION_LOCK_NAMESPACE}, hashtext(current_schema()))`.execute(
          conn,
        );
        try {
          return await fn();
        } finally {
          await sql`select pg_advisory_unlock(${MIGRATION_LOCK_NAMESPACE}, hashtext(current_schema()))`.execute(
            conn,
          );
        }
      });
    },
    async close() {
      await db.destroy();
    },
  };
}

function sqlState(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
}

/**
 * A dedicated connection doing `LISTEN` on both channels. When it drops, it reconnects after a pause and calls
 * `onQueued` and `onTokenRevoked(undefined)` once, since a notice may have been missed meanwhile.
 */
async function listenForNotices(
  url: string,
  onQueued: () => void,
  onTokenRevoked: (tokenId: string | undefined) => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url, types });
    client = c;
    let failed = false;
    const fail = () => {
      if (failed) return;
      failed = true;
      c.removeAllListeners('notification');
      void c.end().catch(() => {});
      if (!stopped) retry = setTimeout(() => void reconnect(), LISTEN_RECONNECT_MS);
    };
    c.on('error', fail);
    c.on('end', fail);
    c.on('notification', (n) => {
      if (n.channel === QUEUED_CHANNEL) onQueued();
      else if (n.channel === TOKEN_REVOKED_CHANNEL) onTokenRevoked(n.payload || undefined);
    });
    await c.connect();
    await c.query(`LISTEN ${QUEUED_CHANNEL}`);
    await c.query(`LISTEN ${TOKEN_REVOKED_CHANNEL}`);
  };
  const reconnect = async () => {
    if (stopped) return;
    try {
      await connect();
      onQueued();
      onTokenRevoked(undefined);
    } catch {
      if (!stopped) retry = setTimeout(() => void reconnect(), LISTEN_RECONNECT_MS);
    }
  };

  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    const c = client;
    client = undefined;
    if (c) {
      c.removeAllListeners('end');
      await c.end().catch(() => {});
    }
  };
}

/** Replaces NUL in every string parameter of every query: PostgreSQL text cannot hold it. */
class NoNulPlugin implements KyselyPlugin {
  #transformer = new NoNulTransformer();
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node);
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

class NoNulTransformer extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    const value: unknown = node.value;
    return typeof value === 'string' ? { ...node, value: withoutNul(value) } : node;
  }
  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    return {
      ...node,
      values: node.values.map((v: unknown) => (typeof v === 'string' ? withoutNul(v) : v)),
    };
  }
}
