// Ephemeral runners (the pool's one-task identities) against a real server: one task each, never a second;
// removed when they unregister, when their task ends, or when they die — `runners list` keeps no graveyard.
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.ts';
import { BatonError } from '../../src/protocol/errors.ts';
import { poll, startFaultServer, waitForTask } from '../helpers/fault-cluster.ts';
import { startLiveServer } from '../helpers/live-server.ts';

describe('ephemeral runners', () => {
  it('take one task only, and are removed once that task is lost with them', async () => {
    const server = await startFaultServer({ heartbeatMs: 500, leaseTtlMs: 3_000, sweepMs: 500 });
    const reg = await server.client.register(server.registrationToken, {
      name: 'slot-1',
      labels: [],
      capacity: 1,
      version: 'test',
      ephemeral: true,
    });
    const runner = createClient({ baseUrl: server.url, token: reg.token });
    const listed = (await server.client.listRunners()).runners.find((r) => r.id === reg.runnerId);
    expect(listed?.ephemeral).toBe(true);
    const run = await server.client.submitRun(
      `tasks:\n  first:\n    run: echo one\n  second:\n    run: echo two\n`,
    );
    const offer = await runner.acquire(1, 5_000);
    expect(offer).toBeDefined();
    await runner.start(offer!.lease);
    // A second task is refused outright, naming why — even though one is queued for it.
    const second = await runner.acquire(1, 1_000).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(second).toBeInstanceOf(BatonError);
    expect((second as BatonError).code).toBe('conflict');
    expect((second as BatonError).message).toMatch(/ephemeral runner 'slot-1' .*serves exactly one task/);
    // The runner dies (sends nothing more): its task is lost and the runner itself is removed.
    await waitForTask(
      server.client,
      run.id,
      offer!.task.name,
      (t) => t.status === 'runner_lost',
      'to be lost',
    );
    await poll(
      async () => !(await server.client.listRunners()).runners.some((r) => r.id === reg.runnerId),
      'the dead ephemeral runner to be removed',
    );
    const after = await runner.acquire(1, 100).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((after as BatonError).code).toBe('unauthenticated');
  });

  it('one that registered and went silent without taking a task is removed; a plain runner is kept', async () => {
    const live = await startLiveServer({
      maxLongPollMs: 300,
      heartbeatIntervalMs: 300,
      leaseTtlMs: 1_000,
      sweepIntervalMs: 200,
    });
    await live.registerRunner('plain');
    await live.registerRunner('slot-2', [], { ephemeral: true });
    await poll(async () => {
      const names = (await live.admin.listRunners()).runners.map((r) => r.name);
      return names.length === 1 && names[0] === 'plain';
    }, 'the silent ephemeral runner to be removed and the plain one kept');
  });

  it('may hold one acquire at a time: a concurrent second one is refused', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner('slot-4', [], { ephemeral: true });
    const outcomes = await Promise.allSettled([runner.acquire(1, 1_000), runner.acquire(1, 1_000)]);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(outcomes.filter((o) => o.status === 'fulfilled' && o.value === undefined)).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'conflict' });
    expect(((refused[0] as PromiseRejectedResult).reason as Error).message).toMatch(
      /ephemeral runner 'slot-4' already has an acquire in flight/,
    );
  });

  it('is removed when it unregisters', async () => {
    const live = await startLiveServer();
    const runner = await live.registerRunner('slot-3', [], { ephemeral: true });
    expect((await live.admin.listRunners()).runners).toHaveLength(1);
    await runner.unregister();
    expect((await live.admin.listRunners()).runners).toEqual([]);
  });
});
