// Artifacts: runners stream a task's zipped uploads in and fetch their dependencies' out; users list and
// download a run's artifacts. Bytes go to the blob store under server-generated keys; names are allow-listed;
// an uploaded zip is checked against the archive rules before it is kept (`unsafe_archive`).
import type { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ARCHIVE_LIMITS } from '../../protocol/archive-rules.ts';
import { BatonError } from '../../protocol/errors.ts';
import type { TaskSpec } from '../../protocol/plan.ts';
import { checkUploadedArchive } from '../archive-check.ts';
import { authenticateRunner, authenticateUser, scopeFor } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { iso } from '../views.ts';

/** 1 GiB: the same limit the runner applies when it zips uploads. */
export const MAX_ARTIFACT_BYTES = ARCHIVE_LIMITS.maxBytes;
const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';
const Id = Type.String({ pattern: '^[0-9a-z]{26}$' });

export function artifactRoutes(app: FastifyInstance, ctx: ServerContext): void {
  // Zip bodies are streamed straight to the blob store, never buffered.
  app.addContentTypeParser(['application/zip', 'application/octet-stream'], (_req, payload, done) =>
    done(null, payload),
  );

  app.register(async (scope) => {
    const r = scope.withTypeProvider<TypeBoxTypeProvider>();
    r.put(
      '/api/v1/runner/leases/:lease/artifacts/:artifact',
      {
        schema: {
          params: Type.Object({
            lease: Type.String({ pattern: '^[0-9a-f]{32}$' }),
            artifact: Type.String({ pattern: NAME }),
          }),
        },
        bodyLimit: MAX_ARTIFACT_BYTES,
      },
      async (req, reply) => {
        const runner = await authenticateRunner(ctx.store, req);
        // Check the lease before reading a byte: a stale runner uploads nothing.
        await ctx.store.leases.check(req.params.lease, runner.id, ctx.now());
        const body = req.body as Readable | undefined;
        if (!body || typeof (body as { pipe?: unknown }).pipe !== 'function') {
          throw new BatonError(
            'bad_request',
            'send the zip as the request body with content-type application/zip',
          );
        }
        // Checked whole before it is kept: an unsafe archive is refused here, naming its first bad entry.
        const name = req.params.artifact;
        const blob = await ctx.blobs.put(body, MAX_ARTIFACT_BYTES, (path) =>
          checkUploadedArchive(path, name, ARCHIVE_LIMITS),
        );
        try {
          const rec = await ctx.store.leases.recordArtifact(
            req.params.lease,
            runner.id,
            { name, blobKey: blob.key, sizeBytes: blob.sizeBytes, sha256: blob.sha256 },
            ctx.now(),
          );
          if (!rec.created) await ctx.blobs.delete(blob.key);
          reply.code(rec.created ? 201 : 200);
          return { id: rec.id, name, sizeBytes: blob.sizeBytes, sha256: blob.sha256 };
        } catch (err) {
          await ctx.blobs.delete(blob.key);
          throw err;
        }
      },
    );

    r.get(
      '/api/v1/runner/leases/:lease/artifacts/:artifact',
      {
        schema: { params: Type.Object({ lease: Type.String({ pattern: '^[0-9a-f]{32}$' }), artifact: Id }) },
      },
      async (req, reply) => {
        const runner = await authenticateRunner(ctx.store, req);
        const { task } = await ctx.store.leases.check(req.params.lease, runner.id, ctx.now());
        const artifact = await ctx.store.artifacts.get(req.params.artifact);
        const spec = JSON.parse(task.spec) as TaskSpec;
        const from =
          artifact && artifact.run_id === task.run_id
            ? (await ctx.store.runs.get(task.run_id))?.tasks.find((t) => t.id === artifact.task_id)
            : undefined;
        // Only the artifacts of the tasks this task declared in `artifacts.from`.
        if (!artifact || !from || !spec.artifactsFrom.includes(from.name))
          throw new BatonError('not_found', `artifact ${req.params.artifact} not found`);
        const { stream, sizeBytes } = await ctx.blobs.open(artifact.blob_key);
        reply.header('content-type', 'application/zip').header('content-length', sizeBytes);
        return reply.send(stream);
      },
    );
  });

  app.register(async (scope) => {
    const r = scope.withTypeProvider<TypeBoxTypeProvider>();
    r.addHook('onRequest', async (req) => {
      await authenticateUser(ctx.store, req, ctx.now(), scopeFor(req.method, 'runs'));
    });
    r.get(
      '/api/v1/runs/:id/artifacts',
      { schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } },
      async (req) => {
        if (!(await ctx.store.runs.get(req.params.id)))
          throw new BatonError('not_found', `run ${req.params.id} not found`);
        const rows = await ctx.store.artifacts.ofRun(req.params.id);
        return {
          artifacts: rows.map((a) => ({
            id: a.id,
            task: a.task_name,
            name: a.name,
            attempt: a.attempt,
            sizeBytes: a.size_bytes,
            sha256: a.sha256,
            createdAt: iso(a.created_at),
          })),
        };
      },
    );
    r.get(
      '/api/v1/runs/:id/artifacts/:artifact',
      { schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }), artifact: Id }) } },
      async (req, reply) => {
        const a = await ctx.store.artifacts.get(req.params.artifact);
        if (!a || a.run_id !== req.params.id)
          throw new BatonError('not_found', `run ${req.params.id} has no artifact ${req.params.artifact}`);
        const { stream, sizeBytes } = await ctx.blobs.open(a.blob_key);
        const task = (await ctx.store.runs.get(a.run_id))?.tasks.find((t) => t.id === a.task_id);
        const file = `${task?.name ?? 'task'}-${a.name}.zip`.replace(/[^A-Za-z0-9._-]/g, '_');
        reply
          .header('content-type', 'application/zip')
          .header('content-length', sizeBytes)
          .header('content-disposition', `attachment; filename="${file}"`);
        return reply.send(stream);
      },
    );
  });
}
