// Cached task results (issue 16): the wire contract of the lease-scoped cache lookup a runner makes before it
// runs a task that declares `cache:`, what `complete` says about it, and the admin API over the entries.
//
// Contract of `POST /api/v1/runner/leases/:lease/cache` (runner token):
// - Call order: after `start`, before the task executes; at most once per attempt. It writes nothing.
// - Fencing: like heartbeat — a lease that is not the task's live attempt gets `409 lease_superseded` or
//   `lease_expired` (the runner then stops the attempt); another runner's lease gets `404`.
// - The entry looked up is (the run's workflow name, `key`): the same key under another workflow is a miss.
//   Expired entries are misses. A task that declares no `cache:` gets `400 invalid_request`.
// - Idempotent: asking again gives the same answer until the entry expires or is cleared.
// - After a miss the runner runs the task and reports `cache: {key, hit: false}` with `complete`; the server
//   stores a succeeded result's outputs under the key for the task's ttl. After a hit the runner completes the
//   task as succeeded with the entry's outputs and `cache: {key, hit: true, createdAt}`; nothing is stored.
import { Type, type Static } from '@sinclair/typebox';

import {
  CACHE_LIST_MAX,
  MAX_CACHE_ENTRY_BYTES,
  MAX_CACHE_KEY_CHARS,
  MAX_CACHE_TTL_MS,
} from './cache-limits.ts';

export { CACHE_LIST_MAX, MAX_CACHE_ENTRY_BYTES, MAX_CACHE_KEY_CHARS, MAX_CACHE_TTL_MS };

const Iso = Type.String({ description: 'ISO 8601 timestamp' });

export const CacheLookupBody = Type.Object(
  { key: Type.String({ minLength: 1, maxLength: MAX_CACHE_KEY_CHARS }) },
  { additionalProperties: false },
);
export type CacheLookupBody = Static<typeof CacheLookupBody>;

export const CacheLookupResponse = Type.Object({
  hit: Type.Boolean(),
  /** The cached outputs (present on a hit). */
  outputs: Type.Optional(Type.Record(Type.String(), Type.String())),
  /** When the entry was stored (present on a hit). */
  createdAt: Type.Optional(Iso),
  /** How old the entry is, by the server's clock (present on a hit). */
  ageMs: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type CacheLookupResponse = Static<typeof CacheLookupResponse>;

/** What `complete` reports about the cache for a task that declares `cache:`. */
export const CompleteCache = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: MAX_CACHE_KEY_CHARS }),
    /** The task did not execute: its outputs are the entry's. */
    hit: Type.Boolean(),
    /** The entry's creation time (hits only). */
    createdAt: Type.Optional(Iso),
  },
  { additionalProperties: false },
);
export type CompleteCache = Static<typeof CompleteCache>;

/** One entry as the admin API lists it (outputs are not listed: only their names). */
export const CacheEntryView = Type.Object({
  workflow: Type.String(),
  key: Type.String(),
  outputNames: Type.Array(Type.String()),
  sizeBytes: Type.Integer(),
  createdAt: Iso,
  expiresAt: Iso,
});
export type CacheEntryView = Static<typeof CacheEntryView>;

export const CacheListQuery = Type.Object({
  workflow: Type.Optional(Type.String({ maxLength: 200, description: 'Only this workflow’s entries' })),
});
export type CacheListQuery = Static<typeof CacheListQuery>;

export const CacheListResponse = Type.Object({ entries: Type.Array(CacheEntryView) });
export type CacheListResponse = Static<typeof CacheListResponse>;

export const CacheClearQuery = Type.Object({
  workflow: Type.Optional(Type.String({ maxLength: 200, description: 'Only this workflow’s entries' })),
  key: Type.Optional(
    Type.String({ maxLength: MAX_CACHE_KEY_CHARS, description: 'Only entries with this key' }),
  ),
});
export type CacheClearQuery = Static<typeof CacheClearQuery>;

export const CacheClearResponse = Type.Object({ removed: Type.Integer() });
export type CacheClearResponse = Static<typeof CacheClearResponse>;
