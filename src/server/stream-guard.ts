// Open streams stay bound to the user token that opened them: when that token is revoked (on this server or on
// another replica sharing the database) or expires, each of its streams gets a final `error` event naming the
// reason and is closed. Revocation here and on other replicas arrives as an event (the admin route, PostgreSQL
// NOTIFY); a check of every watched token at most every second is the backstop for lost notices and expiry.
import type { Store } from '../store/index.ts';
import type { TokenRow } from '../store/schema.ts';
import type { SseStream } from './sse.ts';

export type StreamEndReason = 'token_revoked' | 'token_expired';

/** The data of the final `error` event of a stream whose token stopped being valid. */
export interface StreamErrorFrame {
  reason: StreamEndReason;
  message: string;
}

/** How often the backstop re-reads the watched tokens (and compares expiry with the clock). */
export const STREAM_TOKEN_CHECK_MS = 1_000;

interface Watched {
  sse: SseStream;
  expiresAt: number | null;
}

export class StreamGuard {
  #byToken = new Map<string, Set<Watched>>();
  #timer: NodeJS.Timeout | undefined;
  #checking = false;
  #store: Store;
  #now: () => number;
  #onError: (err: unknown) => void;

  constructor(store: Store, now: () => number, onError: (err: unknown) => void) {
    this.#store = store;
    this.#now = now;
    this.#onError = onError;
  }

  /** Streams open right now (all tokens). */
  get size(): number {
    let n = 0;
    for (const set of this.#byToken.values()) n += set.size;
    return n;
  }

  /** Binds `sse` to `token` until the stream ends. */
  watch(token: TokenRow, sse: SseStream): void {
    const w: Watched = { sse, expiresAt: token.expires_at };
    let set = this.#byToken.get(token.id);
    if (!set) this.#byToken.set(token.id, (set = new Set()));
    set.add(w);
    void sse.done.then(() => {
      set.delete(w);
      if (set.size === 0 && this.#byToken.get(token.id) === set) this.#byToken.delete(token.id);
      if (this.#byToken.size === 0) this.#stopTimer();
    });
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.check(), STREAM_TOKEN_CHECK_MS);
      this.#timer.unref();
    }
  }

  /** A token was revoked (`undefined`: some may have been, e.g. after a lost notice): close its streams now. */
  revoked(tokenId: string | undefined): void {
    if (tokenId === undefined) {
      void this.check();
      return;
    }
    this.#end(tokenId, 'token_revoked');
  }

  /** Re-reads every watched token and closes the streams of those revoked, removed or expired. */
  async check(): Promise<void> {
    if (this.#checking || this.#byToken.size === 0) return;
    this.#checking = true;
    try {
      const now = this.#now();
      for (const set of this.#byToken.values())
        for (const w of set) if (w.expiresAt !== null && w.expiresAt <= now) this.#close(w, 'token_expired');
      const ids = [...this.#byToken.keys()];
      if (ids.length === 0) return;
      const rows = new Map((await this.#store.credentials.tokensByIds(ids)).map((r) => [r.id, r]));
      for (const id of ids) {
        const row = rows.get(id);
        if (!row || row.revoked_at !== null) this.#end(id, 'token_revoked');
        else if (row.expires_at !== null && row.expires_at <= this.#now()) this.#end(id, 'token_expired');
      }
    } catch (err) {
      this.#onError(err);
    } finally {
      this.#checking = false;
    }
  }

  stop(): void {
    this.#stopTimer();
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #end(tokenId: string, reason: StreamEndReason): void {
    const set = this.#byToken.get(tokenId);
    if (!set) return;
    for (const w of [...set]) this.#close(w, reason);
  }

  #close(w: Watched, reason: StreamEndReason): void {
    if (w.sse.closed) return;
    const frame: StreamErrorFrame = {
      reason,
      message:
        reason === 'token_revoked'
          ? 'the token this stream was opened with was revoked; the stream is closed'
          : 'the token this stream was opened with has expired; the stream is closed',
    };
    w.sse.send('error', frame);
    w.sse.close();
  }
}
