// Cached task results, for admins: list the live entries (names of their outputs, never values) and clear them
// by workflow and/or key. `baton cache list|clear` are built on these.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CACHE_LIST_MAX,
  CacheClearQuery,
  CacheClearResponse,
  CacheListQuery,
  CacheListResponse,
  type CacheEntryView,
} from '../../protocol/cache.ts';
import type { CacheEntryRow } from '../../store/schema.ts';
import { authenticateUser } from '../auth.ts';
import type { ServerContext } from '../context.ts';

function entryView(row: CacheEntryRow): CacheEntryView {
  return {
    workflow: row.workflow,
    key: row.key,
    outputNames: Object.keys(JSON.parse(row.outputs) as Record<string, string>),
    sizeBytes: row.size_bytes,
    createdAt: new Date(row.created_at).toISOString(),
    expiresAt: new Date(row.expires_at).toISOString(),
  };
}

export function cacheRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  // Admin only, reading too: an entry's key can be derived from values a workflow was given.
  r.addHook('onRequest', async (req) => {
    await authenticateUser(ctx.store, req, ctx.now(), 'admin');
  });

  r.get(
    '/api/v1/cache',
    { schema: { querystring: CacheListQuery, response: { 200: CacheListResponse } } },
    async (req) => {
      const filter = req.query.workflow === undefined ? {} : { workflow: req.query.workflow };
      const rows = await ctx.store.cache.list(filter, ctx.now(), CACHE_LIST_MAX);
      return { entries: rows.map(entryView) };
    },
  );

  r.delete(
    '/api/v1/cache',
    { schema: { querystring: CacheClearQuery, response: { 200: CacheClearResponse } } },
    async (req) => {
      const removed = await ctx.store.cache.clear({
        ...(req.query.workflow === undefined ? {} : { workflow: req.query.workflow }),
        ...(req.query.key === undefined ? {} : { key: req.query.key }),
      });
      return { removed };
    },
  );
}
