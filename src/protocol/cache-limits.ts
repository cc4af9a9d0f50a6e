// Limits of cached task results (issue 16). No imports: the runner, the workflow compiler and the web UI take
// these without pulling in the TypeBox schemas of cache.ts.

/** A cache key as the workflow gives it or the runner derives it: at most this many characters. */
export const MAX_CACHE_KEY_CHARS = 512;
/** The longest `cache.ttl`: 7 days. */
export const MAX_CACHE_TTL_MS = 7 * 24 * 3_600_000;
/** One entry's outputs, as JSON, at most 1 MiB: a bigger result is run every time and never stored. */
export const MAX_CACHE_ENTRY_BYTES = 1_048_576;
/** How many entries `GET /api/v1/cache` lists at most. */
export const CACHE_LIST_MAX = 1000;
