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
});
