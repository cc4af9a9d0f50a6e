// Whether the server's own storage refuses writes (disk full), and the way back (docs/adr/0010).
// A write refused for lack of space marks the storage troubled: from then the reaper expires nothing, since
// the renewals it would be judging may have been refused by this server rather than missed by their runners.
// The way back is one write: every live lease extended by the TTL from now (store.leases.extendLiveLeases).
// It is tried before any other write request and at each sweep; once it succeeds, with no new refusal while
// it ran, the trouble is over.

import { BatonError } from '../protocol/errors.ts';

/** SQLite and PostgreSQL ways of saying the disk is full. */
export function isStorageFull(err: Error & { code?: unknown }): boolean {
  return (
    err.code === 'SQLITE_FULL' ||
    err.code === '53100' ||
    /database or disk is full|No space left/i.test(err.message)
  );
}

export interface StorageHealthOptions {
  /** Extends every live lease by the TTL from now; answers how many. */
  extendLiveLeases: () => Promise<number>;
  onTrouble?: (err: Error) => void;
  onRecovered?: (extended: number, troubledForMs: number) => void;
  now?: () => number;
}

export class StorageHealth {
  #o: StorageHealthOptions;
  #troubledSince: number | undefined;
  /** Counts refusals: a recovery only ends the trouble when none happened while it ran. */
  #refusals = 0;
  #recovering: Promise<boolean> | undefined;

  constructor(o: StorageHealthOptions) {
    this.#o = o;
  }

  #now(): number {
    return this.#o.now ? this.#o.now() : performance.now();
  }

  /** True while a write was refused for lack of space and no lease extension has succeeded since. */
  get troubled(): boolean {
    return this.#troubledSince !== undefined;
  }

  /** A write was refused because storage is full. */
  refused(err: Error): void {
    this.#refusals++;
    if (this.#troubledSince === undefined) {
      this.#troubledSince = this.#now();
      this.#o.onTrouble?.(err);
    }
  }

  /**
   * While troubled: tries the way back (one at a time for all callers). Resolves true when storage is (again)
   * writable and every live lease was extended; false while it is still full. Other errors are thrown.
   */
  recover(): Promise<boolean> {
    if (this.#troubledSince === undefined) return Promise.resolve(true);
    this.#recovering ??= this.#tryRecover().finally(() => (this.#recovering = undefined));
    return this.#recovering;
  }

  /**
   * Before any write a runner or user asks for (an HTTP write's preHandler, a runner session's frame): while
   * troubled, the way back first, so nothing is judged against a lease that ran out while this server could
   * not record its renewals; `storage_full` (nothing written) while the disk is still full.
   */
  async ensureWritable(): Promise<void> {
    if (this.troubled && !(await this.recover()))
      throw new BatonError(
        'storage_full',
        'the server cannot store data: its disk is full; nothing was written',
      );
  }

  async #tryRecover(): Promise<boolean> {
    const refusals = this.#refusals;
    let extended: number;
    try {
      extended = await this.#o.extendLiveLeases();
    } catch (err) {
      if (err instanceof Error && isStorageFull(err)) {
        this.#refusals++;
        return false;
      }
      throw err;
    }
    // A write refused while the extension ran may belong to a renewal the extension did not cover: stay
    // troubled, and extend again next time.
    if (this.#refusals !== refusals || this.#troubledSince === undefined) return false;
    const since = this.#troubledSince;
    this.#troubledSince = undefined;
    this.#o.onRecovered?.(extended, this.#now() - since);
    return true;
  }
}
