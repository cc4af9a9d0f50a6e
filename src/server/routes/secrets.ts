// Secrets: set, list (names and times, never values) and remove. Values are encrypted with the master key
// before they are stored and leave the server only sealed to the one runner that runs a task naming them.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BatonError } from '../../protocol/errors.ts';
import { authenticateUser, scopeFor } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { iso } from '../views.ts';

export const SECRET_NAME = '^[A-Za-z_][A-Za-z0-9_]{0,99}$';
/** 64 KiB: certificates and keys fit; secrets are not a file store. */
export const MAX_SECRET_BYTES = 64 * 1024;
const Params = Type.Object({ name: Type.String({ pattern: SECRET_NAME }) });

export function secretRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.addHook('onRequest', async (req) => {
    await authenticateUser(ctx.store, req, ctx.now(), scopeFor(req.method, 'admin'));
  });

  r.get('/api/v1/secrets', async () => ({
    secrets: (await ctx.store.secrets.list()).map((s) => ({
      name: s.name,
      createdAt: iso(s.created_at),
      updatedAt: iso(s.updated_at),
    })),
  }));

  r.put(
    '/api/v1/secrets/:name',
    {
      schema: {
        params: Params,
        body: Type.Object({ value: Type.String() }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      const { value } = req.body;
      const min = ctx.config.minSecretLength;
      // A short value would be masked everywhere it happens to occur, or not masked at all: refuse it.
      if ([...value].length < min) {
        throw new BatonError(
          'bad_request',
          `secret '${req.params.name}' is ${[...value].length} characters long; secrets must have at least ${min} characters so they can be masked safely`,
        );
      }
      if (Buffer.byteLength(value) > MAX_SECRET_BYTES) {
        throw new BatonError(
          'payload_too_large',
          `secret '${req.params.name}' is larger than the limit of ${MAX_SECRET_BYTES} bytes`,
        );
      }
      const result = await ctx.store.secrets.put(
        req.params.name,
        ctx.masterKey.encrypt(req.params.name, value),
        ctx.now(),
      );
      reply.code(result === 'created' ? 201 : 200);
      return { name: req.params.name, result };
    },
  );

  r.delete('/api/v1/secrets/:name', { schema: { params: Params } }, async (req, reply) => {
    if (!(await ctx.store.secrets.remove(req.params.name)))
      throw new BatonError('not_found', `secret '${req.params.name}' not found`);
    reply.code(204);
  });
}
