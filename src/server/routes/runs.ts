// User API for runs: submit, list, show, cancel, and follow a run's events.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BatonError, toError } from '../../protocol/errors.ts';
import {
  ListRunsQuery,
  ListRunsResponse,
  RUN_NAME_FILTER_MAX_CHARS,
  RUN_SHAPES,
  RunResult,
  TaskResult,
  RunShowQuery,
  SubmitRunBody,
  TaskGroupResult,
  type StepRecord,
} from '../../protocol/api.ts';
import { isTerminal, type RunStatus } from '../../protocol/status.ts';
import type { Plan } from '../../protocol/plan.ts';
import type { TaskRow } from '../../store/schema.ts';
import { resolveInputs, selectJobs, type CustomTypeSite } from '../../workflow/index.ts';
import { authenticateUser, scopeFor, userTokenOf } from '../auth.ts';
import { publishAdvance, type ServerContext } from '../context.ts';
import { runnerGives, runnerReport, runResult, runSummary, taskGroupResult } from '../views.ts';
import { CompilePool } from '../compile-pool.ts';
import { githubRunContext, takesInputs } from '../github-run.ts';
import { decodeJsonBody } from '../utf8-body.ts';
import { openSse } from '../sse.ts';

const RunParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export async function loadRunResult(ctx: ServerContext, runId: string) {
  const loaded = await ctx.store.runs.get(runId);
  if (!loaded) throw new BatonError('not_found', `run ${runId} not found`);
  return runResult(loaded.run, loaded.tasks, await namesOfRunners(ctx, loaded.tasks));
}

/** The names of the runners `tasks` ran on, by id: only those are read, however large the fleet. */
function namesOfRunners(ctx: ServerContext, tasks: readonly TaskRow[]): Promise<Map<string, string>> {
  const ids: string[] = [];
  for (const t of tasks) if (t.runner_id !== null) ids.push(t.runner_id);
  return ids.length === 0 ? Promise.resolve(new Map()) : ctx.store.credentials.runnerNames(ids);
}

export function runRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  // Workflows compile in a worker thread (docs/adr/0009-compile-in-a-worker.md).
  const compiler = new CompilePool();
  app.addHook('onClose', async () => compiler.close());
  // Invalid UTF-8 is refused before JSON.parse could turn it into U+FFFD.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = decodeJsonBody(body as Buffer);
    } catch (error) {
      done(toError(error), undefined);
      return;
    }
    parseJson(req, text, done);
  });
  r.addHook('onRequest', async (req) => {
    await authenticateUser(ctx.store, req, ctx.now(), scopeFor(req.method, 'runs'));
  });

  r.post(
    '/api/v1/runs',
    { schema: { body: SubmitRunBody, response: { 201: RunResult } } },
    async (req, reply) => {
      const compiled = await compiler.compile(req.body.workflow, {
        fileName: req.body.fileName,
        ...(req.body.actions === undefined ? {} : { actions: req.body.actions }),
      });
      if (!compiled.ok) {
        const n = compiled.issues.length;
        throw new BatonError(
          'invalid_workflow',
          `the workflow has ${n} problem${n === 1 ? '' : 's'}; nothing was stored`,
          {
            issues: compiled.issues,
          },
        );
      }
      let plan = compiled.plan;
      if (req.body.jobs !== undefined) {
        const selected = selectJobs(plan, req.body.jobs);
        if (!selected.ok) throw new BatonError('bad_request', `${selected.message}; nothing was stored`);
        plan = selected.plan;
      }
      await refuseUnknownTypes(ctx, plan, compiled.customTypes ?? []);
      const inputs = takesInputs(plan, req.body)
        ? resolveInputs(plan, req.body.inputs ?? {})
        : ({ ok: true, inputs: {} } as const);
      if (!inputs.ok) {
        throw new BatonError('invalid_inputs', inputs.issues.map((i) => i.message).join('; '), {
          issues: inputs.issues,
        });
      }
      const github = githubRunContext(plan, req.body, inputs.inputs);
      const { runId, advance } = await ctx.store.runs.create({
        plan,
        workflow: req.body.workflow,
        inputs: inputs.inputs,
        now: ctx.now(),
        submittedBy: submitter(userTokenOf(req)),
        ...(github === undefined ? {} : { github }),
      });
      ctx.hub.runEvent({ type: 'run', runId, status: 'queued' });
      publishAdvance(ctx, runId, advance);
      reply.code(201);
      return loadRunResult(ctx, runId);
    },
  );

  r.get(
    '/api/v1/runs',
    { schema: { querystring: ListRunsQuery, response: { 200: ListRunsResponse } } },
    async (req) => {
      const name = req.query.name?.trim();
      // Checked here rather than by the schema, so the answer says the limit in words.
      if (name !== undefined && name.length > RUN_NAME_FILTER_MAX_CHARS)
        throw new BatonError(
          'bad_request',
          `the name filter is ${name.length} characters long; the limit is ${RUN_NAME_FILTER_MAX_CHARS}`,
        );
      const rows = await ctx.store.runs.list({
        status: req.query.status,
        name: name || undefined,
        limit: req.query.limit ?? 50,
        before: req.query.before,
      });
      return { runs: rows.map(runSummary) };
    },
  );

  r.get(
    '/api/v1/runs/:id',
    {
      schema: {
        params: RunParams,
        querystring: RunShowQuery,
        response: { 200: Type.Union([RunResult, TaskGroupResult]) },
      },
    },
    async (req) => {
      const shape = req.query.shape ?? 'run';
      if (!(RUN_SHAPES as readonly string[]).includes(shape))
        throw new BatonError(
          'bad_request',
          `unknown shape '${shape.slice(0, 64)}'; the shapes are ${RUN_SHAPES.join(', ')}`,
        );
      if (shape === 'run') return loadRunResult(ctx, req.params.id);
      const loaded = await ctx.store.runs.get(req.params.id);
      if (!loaded) throw new BatonError('not_found', `run ${req.params.id} not found`);
      return taskGroupResult(loaded.run, loaded.tasks);
    },
  );

  r.get(
    '/api/v1/runs/:id/tasks/:task',
    {
      schema: {
        params: Type.Object({ id: Type.String({ maxLength: 64 }), task: Type.String({ maxLength: 200 }) }),
        response: { 200: TaskResult },
      },
    },
    async (req) => {
      const result = await loadRunResult(ctx, req.params.id);
      const task = result.results[req.params.task];
      if (task === undefined)
        throw new BatonError('not_found', `run ${req.params.id} has no task '${req.params.task}'`);
      return task;
    },
  );

  r.post(
    '/api/v1/runs/:id/cancel',
    { schema: { params: RunParams, response: { 200: RunResult } } },
    async (req) => {
      const now = ctx.now();
      const result = await ctx.store.runs.cancel(req.params.id, now);
      if (!result) throw new BatonError('not_found', `run ${req.params.id} not found`);
      for (const task of result.cancelled)
        ctx.hub.runEvent({ type: 'task', runId: req.params.id, task, status: 'cancelled' });
      publishAdvance(ctx, req.params.id, result.advance);
      return loadRunResult(ctx, req.params.id);
    },
  );

  // Events: a snapshot of every task's status and the logs stored so far, then live transitions and log
  // chunks, ending with the run's final status.
  r.get('/api/v1/runs/:id/events', { schema: { params: RunParams } }, async (req, reply) => {
    const runId = req.params.id;
    const buffered: Parameters<Parameters<typeof ctx.hub.onRun>[1]>[0][] = [];
    let live = false;
    // Subscribed before the one read of the run: whatever happens after the read is buffered until the
    // snapshot is sent, and nothing happens unseen between the two.
    const off = ctx.hub.onRun(runId, (m) => (live ? deliver(m) : buffered.push(m)));
    const first = await ctx.store.runs.get(runId).catch((error: unknown) => {
      off();
      throw error;
    });
    if (!first) {
      off();
      throw new BatonError('not_found', `run ${runId} not found`);
    }
    const token = userTokenOf(req);
    const sse = openSse(req, reply);
    // Revoking or expiring the token ends this stream with an `error` event (see stream-guard.ts).
    ctx.streams.watch(token, sse);
    const sentSeq = new Map<string, number>();
    /** The steps last sent per task (`attempt#json`), so a re-read of the database sends only changes. */
    const sentSteps = new Map<string, string>();
    let finished = false;
    const deliver = (m: (typeof buffered)[number]) => {
      if (m.kind === 'log') {
        const key = `${m.log.task}#${m.log.attempt}`;
        if ((sentSeq.get(key) ?? -1) >= m.log.seq) return;
        sentSeq.set(key, m.log.seq);
        sse.send('log', {
          task: m.log.task,
          attempt: m.log.attempt,
          seq: m.log.seq,
          offset: m.log.offset,
          data: m.log.data,
        });
        return;
      }
      if (m.kind === 'steps') {
        const { task, attempt, steps } = m.steps;
        const json = JSON.stringify(steps);
        if (sentSteps.get(task) === `${attempt}#${json}`) return;
        sentSteps.set(task, `${attempt}#${json}`);
        sse.send('step', { task, attempt, steps });
        return;
      }
      sse.send(m.event.type, m.event);
      if (m.event.type === 'run' && isTerminal(m.event.status)) {
        finished = true;
        sse.close();
      }
    };
    const sentStatus = new Map<string, string>();
    // Sends what changed since the last call: task statuses and log chunks not yet sent (dedup by seq).
    /** `read`: a snapshot read since the subscription (the stream's first); else the run is read again. */
    const sendState = async (read?: typeof first) => {
      const snap = read ?? (await ctx.store.runs.get(runId)) ?? first;
      const names = await namesOfRunners(ctx, snap.tasks);
      for (const t of snap.tasks) {
        const key = `${t.status}#${t.attempt}`;
        if (sentStatus.get(t.name) !== key) {
          sentStatus.set(t.name, key);
          const runner = t.runner_id === null ? undefined : names.get(t.runner_id);
          sse.send('task', {
            type: 'task',
            runId,
            task: t.name,
            status: t.status,
            attempt: t.attempt,
            ...(runner ? { runner } : {}),
          });
        }
        if (t.attempt === 0) continue;
        if (t.status === 'running' && t.steps !== null)
          deliver({
            kind: 'steps',
            steps: { runId, task: t.name, attempt: t.attempt, steps: JSON.parse(t.steps) as StepRecord[] },
          });
        let after = sentSeq.get(`${t.name}#${t.attempt}`) ?? -1;
        for (;;) {
          const chunks = await ctx.store.logs.chunks(t.id, t.attempt, after, 1000, ctx.logFiles);
          if (chunks.length === 0) break;
          for (const c of chunks) {
            const { seq, offset } = c;
            const data = c.bytes.toString('utf8');
            deliver({
              kind: 'log',
              log: { runId, task: t.name, taskId: t.id, attempt: t.attempt, seq, offset, data },
            });
            after = c.seq;
          }
        }
      }
      return snap;
    };
    // With several servers on one database, transitions made through another replica reach this one's
    // subscribers only from the database: re-read it every second as well.
    const backstop = ctx.store.dialect.capabilities.multiProcess
      ? setInterval(() => {
          void sendState()
            .then((snap) => {
              if (!finished && isTerminal(snap.run.status))
                deliver({
                  kind: 'event',
                  event: { type: 'run', runId, status: snap.run.status as RunStatus },
                });
            })
            .catch((err: unknown) => ctx.log.warn({ err: toError(err) }, 'run event backstop failed'));
        }, 1_000)
      : undefined;
    try {
      sse.send('run', { type: 'run', runId, status: first.run.status });
      const snap = await sendState(first);
      live = true;
      for (const m of buffered.splice(0)) deliver(m);
      if (!finished && isTerminal(snap.run.status)) sse.close();
      await sse.done;
    } finally {
      clearInterval(backstop);
      off();
    }
  });
}

/**
 * A task of a custom type that no registered runner advertises a driver for, in a workflow that does not declare
 * it under `drivers:`, is a typo far more often than a runner yet to come: refused with its place and the hint.
 */
async function refuseUnknownTypes(ctx: ServerContext, plan: Plan, sites: CustomTypeSite[]): Promise<void> {
  if (sites.length === 0) return;
  const declared = new Set(plan.drivers ?? []);
  const advertised = new Set<string>();
  for (const row of await ctx.store.credentials.listRunners())
    for (const type of runnerGives(runnerReport(row)).drivers) advertised.add(type);
  const unknown = sites.filter((site) => !declared.has(site.type) && !advertised.has(site.type));
  if (unknown.length === 0) return;
  const known = [...advertised].sort();
  const issues = unknown.map((site) => ({
    code: 'invalid_value',
    message: `task '${site.task}' has type '${site.type}', which no registered runner has a driver for (${known.length === 0 ? 'no runner advertises any' : `runners advertise: ${known.join(', ')}`}); declare it with 'drivers: [${site.type}]' at the top of the workflow to queue it for a runner yet to come`,
    line: site.line,
    column: site.column,
    path: site.path,
  }));
  throw new BatonError(
    'invalid_workflow',
    `the workflow has ${issues.length} problem${issues.length === 1 ? '' : 's'}; nothing was stored`,
    { issues },
  );
}

/** How the runs list names who submitted a run: the token's name, else its id. */
function submitter(token: { id: string; name: string | null }): string {
  return token.name ?? `token ${token.id}`;
}
