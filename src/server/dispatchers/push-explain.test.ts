// "Why pending" lists push runners beside pull runners: the push dispatcher's explain says, per push runner, why
// its claim would pass the task over.
import { describe, expect, it } from 'vitest';
import { startLiveServer } from '../../../test/helpers/live-server.ts';
import { explainPending } from '../routes/ui.ts';

describe('the push dispatcher explains pending tasks', () => {
  it('names a push runner that never registered, one a task does not select, and a task with no runs_on', async () => {
    const { server, admin, registerRunner } = await startLiveServer();
    await admin.createPushRunner({ name: 'edge', labels: ['gpu'] });
    await registerRunner('puller', ['linux']);
    const run = await admin.submitRun(
      'name: p\ntasks:\n  plain:\n    runs_on: [linux, big]\n    run: echo hi\n  gpu:\n    runs_on: [gpu]\n    run: echo hi\n  any:\n    run: echo hi\n',
    );
    const gpu = await explainPending(server.ctx, run.id, 'gpu');
    const edge = gpu.runners.find((r) => r.dispatcher === 'push');
    expect(edge).toMatchObject({ name: 'edge', labels: ['edge', 'gpu'], status: 'pending', eligible: false });
    expect(edge!.reasons.map((r) => r.detail)).toEqual(['not_registered']);
    expect(edge!.reason?.code).toBe('offline');
    expect(gpu.runners.find((r) => r.dispatcher === 'pull')).toMatchObject({ name: 'puller' });

    const plain = await explainPending(server.ctx, run.id, 'plain');
    const edgeForPlain = plain.runners.find((r) => r.dispatcher === 'push')!;
    expect(edgeForPlain.reasons.map((r) => [r.code, r.detail])).toEqual([
      ['offline', 'not_registered'],
      ['tag_mismatch', 'labels_missing'],
    ]);
    expect(edgeForPlain.reasons[1]!.message).toBe(
      "push runner 'edge' lacks labels linux, big (the task needs all of linux, big)",
    );

    const any = await explainPending(server.ctx, run.id, 'any');
    const edgeForAny = any.runners.find((r) => r.dispatcher === 'push')!;
    expect(edgeForAny.reasons[1]).toEqual({
      code: 'tag_mismatch',
      detail: 'no_runs_on',
      message: 'a push runner takes only tasks whose runs_on names it or its labels (e.g. runs_on: [edge])',
    });
  });

  it('lists no push runner when the push dispatcher is not configured', async () => {
    const { server, admin } = await startLiveServer({ dispatchers: ['pull'] });
    const run = await admin.submitRun('name: p\ntasks:\n  t:\n    run: echo hi\n');
    const why = await explainPending(server.ctx, run.id, 't');
    expect(why.runners).toEqual([]);
    expect(why.summary).toBe('no runner is registered: add one on the Runners page');
    // Its host routes went with it.
    await expect(admin.listPushRunners()).rejects.toThrow();
  });
});
