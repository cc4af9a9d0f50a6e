// Group commit: the writes that queue up while one transaction runs go to the database together, in the next
// single transaction, instead of one BEGIN … COMMIT each. Nothing waits on purpose: a write that finds the
// database idle starts at once; only writes that arrive while another holds the connection are grouped.
//
// Guarantees, the same as one transaction per write:
// - A caller's promise settles only after the transaction holding its write committed (or failed).
// - Writes run one after another in arrival order, each seeing the ones before it, as they would serially.
// - A write that throws fails alone: the group is rolled back and every write in it runs again in its own
//   transaction, so the others commit and the failing one reports its own error. (Writes must not have effects
//   outside the transaction — the StoreDialect contract — so running one again is safe.)

/** At most this many writes share one transaction, so one group never holds the database long. */
export const GROUP_COMMIT_MAX_WRITES = 64;

export interface GroupCommitStats {
  /** Writes asked for. */
  writes: number;
  /** Transactions committed or rolled back for them. */
  transactions: number;
}

interface Pending<C> {
  fn: (c: C) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommit<C> {
  run<T>(fn: (c: C) => Promise<T>): Promise<T>;
  readonly stats: GroupCommitStats;
}

/**
 * `transaction(body)` runs `body` in one transaction on one connection: commits when it returns, rolls back and
 * throws when it throws (or when the commit fails).
 */
export function createGroupCommit<C>(
  transaction: <T>(body: (c: C) => Promise<T>) => Promise<T>,
  o: { maxWrites?: number } = {},
): GroupCommit<C> {
  const maxWrites = o.maxWrites ?? GROUP_COMMIT_MAX_WRITES;
  const queue: Pending<C>[] = [];
  const stats: GroupCommitStats = { writes: 0, transactions: 0 };
  let draining = false;

  const alone = async (p: Pending<C>) => {
    stats.transactions++;
    try {
      p.resolve(await transaction(p.fn));
    } catch (err) {
      p.reject(err);
    }
  };

  const drain = async () => {
    draining = true;
    try {
      while (queue.length > 0) {
        const group = queue.splice(0, maxWrites);
        if (group.length === 1) {
          await alone(group[0]!);
          continue;
        }
        stats.transactions++;
        let results: unknown[];
        try {
          results = await transaction(async (c) => {
            const out: unknown[] = [];
            for (const p of group) out.push(await p.fn(c));
            return out;
          });
        } catch {
          // Which one failed matters to its caller only: each again on its own.
          for (const p of group) await alone(p);
          continue;
        }
        group.forEach((p, i) => p.resolve(results[i]));
      }
    } finally {
      draining = false;
    }
  };

  return {
    stats,
    run<T>(fn: (c: C) => Promise<T>): Promise<T> {
      stats.writes++;
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
        if (!draining) void drain();
      });
    },
  };
}
