import { describe, expect, it } from 'vitest';
import { startLiveServer } from '../../test/helpers/live-server.ts';
import { waitFor } from '../../test/helpers/cluster.ts';

describe('long-poll acquire over real HTTP', () => {
  it('holds an acquire until a task is queued, then answers it with that task', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner();
    const pending = runner.acquire(1, 20_000);
    // The request is being held: the server has one waiter (an acquire answered at once would never be one).
    await waitFor(() => live.server.ctx.hub.waitingAcquires === 1, 'the acquire to be held');
    await live.admin.submitRun('tasks: { late: { run: "true" } }');
    const offer = await pending;
    expect(offer?.task.name).toBe('late');
    expect(live.server.ctx.hub.waitingAcquires).toBe(0);
  });

  it('a held acquire ends when its client goes away, and the server lets go of it', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner();
    const abort = new AbortController();
    const pending = runner.acquire(1, 20_000, abort.signal).catch((e: unknown) => e);
    await waitFor(() => live.server.ctx.hub.waitingAcquires === 1, 'the acquire to be held');
    abort.abort();
    await pending;
    await waitFor(() => live.server.ctx.hub.waitingAcquires === 0, 'the server to drop the waiter');
  });

  it('40 held acquires and one queued task: exactly one runner is offered it, the least recently given one', async () => {
    const live = await startLiveServer();
    const runners = [];
    for (let i = 0; i < 40; i++) runners.push(await live.registerRunner(`w${String(i).padStart(2, '0')}`));
    // First round: w00 … w39 all idle and never given a task; one of them gets the first task.
    const first = runners.map((r) => r.acquire(1, 3_000));
    await waitFor(() => live.server.ctx.hub.waitingAcquires === 40, 'every acquire to be held');
    await live.admin.submitRun('tasks: { one: { run: "true" } }');
    const offers = await Promise.all(first);
    const given = offers.flatMap((o, i) => (o ? [i] : []));
    expect(given).toHaveLength(1);
    // Second round: the runner given the first task now ranks last among equally idle ones, so another gets it.
    const second = runners.map((r) => r.acquire(1, 3_000));
    await waitFor(() => live.server.ctx.hub.waitingAcquires === 40, 'every acquire to be held again');
    await live.admin.submitRun('tasks: { two: { run: "true" } }');
    const again = (await Promise.all(second)).flatMap((o, i) => (o ? [i] : []));
    expect(again).toHaveLength(1);
    expect(again[0]).not.toBe(given[0]);
  });
});
