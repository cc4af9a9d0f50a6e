// "A new way to execute is one new module": a dispatcher written only in this file, registered through the public
// registry API, takes queued tasks from a real listening server and completes them through the same store calls
// as pull and push (claim, start, appendLogs, complete), so dependents, outputs, logs, the run's status and "why
// pending" all work with no other file changed.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompleteBody } from '../../protocol/api.ts';
import type { TaskSpec } from '../../protocol/plan.ts';
import type { ClaimingRunner } from '../../store/leases.ts';
import { startLiveServer } from '../../../test/helpers/live-server.ts';
import { tempDir } from '../../../test/helpers/temp.ts';
import { assignClaimed } from '../assign.ts';
import { publishAdvance, type ServerContext } from '../context.ts';
import { buildServerConfig, startServer } from '../index.ts';
import { dispatcherKinds, registerDispatcher, type DispatcherModule } from './index.ts';
import { candidate, missingGifts } from './pending.ts';
import type { PendingReason } from '../../protocol/api.ts';

/** Runs each step's script with `sh FILE` in a fresh dir; `name=value` lines of $INLINE_OUTPUT become outputs. */
function runStep(dir: string, script: string, env: Record<string, string>) {
  const file = join(dir, `step-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, script);
  return new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn('sh', [file], { cwd: dir, env: { PATH: process.env.PATH, ...env } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

const inline: DispatcherModule = {
  kind: 'inline-test',
  description: 'test only: runs tasks in the server process',
  create(ctx: ServerContext) {
    const runner: ClaimingRunner = {
      id: 'inline-test:1',
      name: 'inline',
      labels: ['inline'],
      canReceiveSecrets: false,
      gives: { sandbox: false, networkIsolation: false, limits: false, drivers: [] },
      requireRunsOn: true,
    };
    const inFlight = new Set<Promise<void>>();
    let off: (() => void) | undefined;
    let stopped = false;
    const execute = async () => {
      for (;;) {
        if (stopped) return;
        const claimed = await ctx.store.leases.claim(runner, ctx.now());
        if (!claimed) return;
        const lease = claimed.attempt.lease_id;
        await ctx.store.leases.start(lease, runner.id, ctx.now());
        const task = await assignClaimed(ctx, claimed, { id: runner.id, name: runner.name, publicKey: null });
        const startedAt = new Date(ctx.now()).toISOString();
        const dir = tempDir();
        const outputFile = join(dir, 'outputs');
        writeFileSync(outputFile, '');
        const deps = Object.fromEntries(
          Object.entries(task.context.tasks).flatMap(([t, r]) =>
            Object.entries(r.outputs).map(([k, v]) => [`IN_${t}_${k}`, v]),
          ),
        );
        let log = '';
        let code: number | null = 0;
        for (const step of task.spec.steps) {
          const r = await runStep(dir, step.run, { ...deps, INLINE_OUTPUT: outputFile });
          log += r.out;
          code = r.code;
          if (code !== 0) break;
        }
        await ctx.store.leases.appendLogs(
          lease,
          runner.id,
          [{ seq: 0, offset: 0, data: log }],
          ctx.now(),
          1 << 20,
        );
        const outputs = Object.fromEntries(
          readFileSync(outputFile, 'utf8')
            .split('\n')
            .filter((l) => l.includes('='))
            .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
        );
        const body: CompleteBody =
          code === 0
            ? { status: 'succeeded', exitCode: 0, outputs, steps: [], startedAt, finishedAt: startedAt }
            : {
                status: 'failed',
                reason: 'exit_code',
                exitCode: code,
                outputs: {},
                steps: [],
                startedAt,
                finishedAt: new Date(ctx.now()).toISOString(),
              };
        const res = await ctx.store.leases.complete(lease, runner.id, body, ctx.now());
        if (res.recorded) publishAdvance(ctx, res.runId, res.advance);
      }
    };
    const kick = () => {
      const p: Promise<void> = execute().finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    return {
      kind: 'inline-test',
      async start() {
        off = ctx.hub.onQueuedForDispatcher(kick);
        kick();
      },
      async stop() {
        stopped = true;
        off?.();
        await Promise.all([...inFlight]);
      },
      async explain(row, spec: TaskSpec) {
        const runsOn = JSON.parse(row.runs_on) as string[];
        const missing = runsOn.filter((l) => !runner.labels.includes(l));
        const mismatch = (detail: string, message: string): PendingReason[] => [
          { code: 'tag_mismatch', detail, message },
        ];
        const reasons: PendingReason[] = [
          ...(runsOn.length === 0 ? mismatch('no_runs_on', 'needs runs_on: [inline]') : []),
          ...(missing.length ? mismatch('labels_missing', `lacks ${missing.join(', ')}`) : []),
          ...missingGifts(row, runner.name, runner.gives),
          ...(spec.forwardTo !== undefined && spec.forwardTo !== runner.name
            ? mismatch('forwarded', `forwarded to ${spec.forwardTo}`)
            : []),
        ];
        return [
          candidate(
            {
              id: runner.id,
              name: runner.name,
              status: 'online',
              labels: runner.labels,
              dispatcher: 'inline-test',
            },
            reasons,
          ),
        ];
      },
    };
  },
};

const unregister = registerDispatcher(inline);
afterAll(() => unregister());

describe('the dispatcher registry', () => {
  it('runs queued tasks through a dispatcher defined only in this test file, through the same store calls', async () => {
    expect(dispatcherKinds().map((k) => k.kind)).toEqual(['pull', 'push', 'local', 'inline-test']);
    const { admin } = await startLiveServer({ dispatchers: ['pull', 'push', 'inline-test'] });
    const submitted = await admin.submitRun(
      [
        'name: inline',
        'tasks:',
        '  first:',
        '    runs_on: [inline]',
        '    run: |',
        '      echo "first says hi"',
        '      echo "word=hello" >> "$INLINE_OUTPUT"',
        '  second:',
        '    runs_on: [inline]',
        '    depends_on: [first]',
        '    run: echo "second got $IN_first_word"',
        '  broken:',
        '    runs_on: [inline]',
        '    run: exit 3',
        '  elsewhere:',
        '    run: echo nobody runs me here',
      ].join('\n'),
    );
    // `elsewhere` has no runs_on: it is left to pull runners, and none is registered.
    for (;;) {
      const run = await admin.getRun(submitted.id);
      if (
        ['succeeded', 'failed'].includes(run.results.second!.status) &&
        run.results.broken!.status === 'failed'
      )
        break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const run = await admin.getRun(submitted.id);
    expect(run.results.first!.status).toBe('succeeded');
    expect(run.results.first!.outputs).toEqual({ word: 'hello' });
    expect(run.results.second!.status).toBe('succeeded');
    expect(run.results.broken!).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(run.results.elsewhere!.status).toBe('queued');
    expect(await admin.taskLog(submitted.id, 'first')).toContain('first says hi');
    expect(await admin.taskLog(submitted.id, 'second')).toContain('second got hello');
  });

  it('explains a pending task with the candidates of every configured dispatcher', async () => {
    const { server, admin } = await startLiveServer({ dispatchers: ['pull', 'push', 'inline-test'] });
    const submitted = await admin.submitRun('name: p\ntasks:\n  t:\n    run: echo hi\n');
    const { ctx } = server;
    const { explainPending } = await import('../routes/ui.ts');
    const why = await explainPending(ctx, submitted.id, 't');
    expect(why.runners).toEqual([
      expect.objectContaining({
        dispatcher: 'inline-test',
        eligible: false,
        reasons: [{ code: 'tag_mismatch', detail: 'no_runs_on', message: 'needs runs_on: [inline]' }],
      }),
    ]);
    expect(why.summary).toBe('no runner can take this task now; the reasons per runner are below');
  });

  it('refuses an unknown or duplicate kind, and local without an embedded executor, naming the value', async () => {
    expect(() => registerDispatcher({ ...inline })).toThrow(
      "a dispatcher of kind 'inline-test' is already registered",
    );
    expect(() => registerDispatcher({ ...inline, kind: 'Bad Kind' })).toThrow(
      "dispatcher kind 'Bad Kind' must be",
    );
    const config = (dispatchers: string[]) =>
      buildServerConfig({ port: 0, dataDir: tempDir(), env: {}, dispatchers });
    await expect(startServer(config(['pull', 'nope']), { logger: false })).rejects.toThrow(
      "unknown dispatcher 'nope'; known: pull, push, local, inline-test",
    );
    await expect(startServer(config(['local']), { logger: false })).rejects.toThrow(
      "dispatcher 'local' needs 'pull' configured beside it",
    );
    await expect(startServer(config(['pull', 'local']), { logger: false })).rejects.toThrow(
      "the 'local' dispatcher needs an embedded executor",
    );
    expect(buildServerConfig({ env: { BATON_DISPATCHERS: ' pull , inline-test ' } }).dispatchers).toEqual([
      'pull',
      'inline-test',
    ]);
  });
});
