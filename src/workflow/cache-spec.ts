// `cache: {key?, ttl}` of a task (native and Harness dialects): reuse a succeeded result of the same workflow
// with the same key for `ttl`. The key may hold `${{ }}` expressions, evaluated on the runner like task env.
import { MAX_CACHE_KEY_CHARS, MAX_CACHE_TTL_MS } from '../protocol/cache-limits.ts';
import type { CacheSpec } from '../protocol/plan.ts';
import { addTemplate, type TaskDraft } from './drafts.ts';
import { readDuration } from './native-control.ts';
import type { Located, NodeReader } from './node-reader.ts';

export function readCache(reader: NodeReader, loc: Located, owner: string, draft: TaskDraft): void {
  const what = `'cache' of ${owner}`;
  const fields = reader.map(loc, what);
  if (fields === undefined) return;
  const known = new Map(reader.checkKeys(fields, ['key', 'ttl'], what).map((field) => [field.key, field]));
  const ttl = known.get('ttl');
  if (ttl === undefined || ttl.node === null) {
    reader.report(
      'missing_field',
      `${what} needs 'ttl': how long a result is reused, like 1h`,
      loc.at,
      loc.path,
    );
    return;
  }
  const ttlMs = readDuration(reader, ttl, owner, 'cache.ttl');
  if (ttlMs === undefined) return;
  if (ttlMs > MAX_CACHE_TTL_MS) {
    reader.report(
      'invalid_value',
      `'cache.ttl' of ${owner} is ${ttlMs} ms; the limit is ${MAX_CACHE_TTL_MS} ms (7d, MAX_CACHE_TTL_MS)`,
      ttl.at,
      ttl.path,
    );
    return;
  }
  // A result with confidential outputs is never cached (docs/workflows.md "Caching results"): the cache would
  // keep a secret-bearing value beyond its run, so the workflow is told at once rather than silently missing.
  const secret = draft.spec.exports.find((e) => e.confidential);
  if (secret !== undefined) {
    reader.report(
      'invalid_value',
      `${what}: the task exports '${secret.name}' as confidential, and results with confidential outputs are never cached; remove 'cache' or the confidential export`,
      loc.at,
      loc.path,
    );
    return;
  }
  const spec: CacheSpec = { ttlMs };
  const keyField = known.get('key');
  if (keyField !== undefined && keyField.node !== null) {
    const key = reader.string(keyField, `'cache.key' of ${owner}`, { convert: true });
    if (key === undefined) return;
    if (key.trim() === '' || key.length > MAX_CACHE_KEY_CHARS) {
      const why =
        key.trim() === ''
          ? 'is empty; give a key or leave it out for the derived one'
          : `is ${key.length} characters; the limit is ${MAX_CACHE_KEY_CHARS} (MAX_CACHE_KEY_CHARS)`;
      reader.report('invalid_value', `'cache.key' of ${owner} ${why}`, keyField.at, keyField.path);
      return;
    }
    addTemplate(draft.templates, key, keyField, `'cache.key' of ${owner}`, 'task');
    spec.key = key;
  }
  draft.spec.cache = spec;
}
