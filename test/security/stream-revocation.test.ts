// Issue 12 finding 6: a revoked (or expired) user token keeps no open stream. Every SSE route (run events,
// task log follow) opened with a user token ends with a final `error` event naming the reason once the token is
// revoked through the API or the CLI, or expires — while the run is still going; nothing is delivered after it.
// Also across server replicas on PostgreSQL: revoked through replica B, the streams held by replica A end.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClient, readSse, type BatonClient, type SseMessage } from '../../src/client/index.ts';
import {
  startRunnerProcess,
  startServerProcess,
  waitFor,
  waitForRun,
  type ServerProcess,
} from '../helpers/cluster.ts';
import { startTracked, stopTracked } from '../helpers/processes.ts';
import { replicaSet } from '../helpers/replicas.ts';
import { stepVisibleDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;
const PG_URL = process.env.BATON_TEST_POSTGRES_URL;

/** A stream opened with raw fetch: every frame it delivered, and whether the server ended it. */
interface OpenStream {
  route: string;
  frames: SseMessage[];
  ended: Promise<void>;
  isEnded: () => boolean;
  abort: () => void;
}

function openStream(url: string, token: string, route: string): OpenStream {
  const frames: SseMessage[] = [];
  const ctl = new AbortController();
  let done = false;
  const ended = (async () => {
    const res = await fetch(new URL(route, url), {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: ctl.signal,
    });
    expect(res.status, `${route} opened`).toBe(200);
    try {
      for await (const m of readSse(res)) frames.push(m);
    } catch (err) {
      if (!ctl.signal.aborted) throw err;
    }
  })().finally(() => (done = true));
  return { route, frames, ended, isEnded: () => done, abort: () => ctl.abort() };
}

/**
 * A run whose one task prints a line and then waits on a gate file the test creates at the end; returns once
 * the line is stored, so a stream opened afterwards delivers it at once.
 */
async function gatedRun(server: ServerProcess) {
  const gate = join(stepVisibleDir(), 'gate');
  const run = await server.client.submitRun(`
tasks:
  slow:
    run: |
      echo "before the revoke"
      while [ ! -e ${gate} ]; do sleep 0.05; done
      echo "after the revoke"
`);
  await waitFor(
    async () => (await server.client.taskLog(run.id, 'slow')).includes('before the revoke'),
    'the task to print its first line',
  );
  return { run, open: () => writeFileSync(gate, '') };
}

function sseRoutes(runId: string): string[] {
  return [`/api/v1/runs/${runId}/events`, `/api/v1/runs/${runId}/tasks/slow/logs?follow=1`];
}

/** Waits for every stream to deliver the task's first line (they are live and the task is running). */
async function untilLive(streams: OpenStream[]) {
  for (const s of streams)
    await waitFor(
      () => s.frames.some((f) => f.event === 'log' && f.data.includes('before the revoke')),
      `${s.route} to deliver the first log line`,
    );
}

/** Each stream ended on its own (the run is still going), its last frame an `error` naming `reason`. */
async function expectEndedWith(streams: OpenStream[], reason: string) {
  for (const s of streams) {
    await waitFor(() => s.isEnded(), `${s.route} to be closed by the server (${reason})`, 15_000);
    await s.ended;
    const last = s.frames.at(-1);
    expect(last?.event, `${s.route} last frame`).toBe('error');
    expect(JSON.parse(last!.data)).toMatchObject({ reason });
    expect(s.frames.filter((f) => f.event === 'error')).toHaveLength(1);
  }
}

/** The run finishes after the streams ended: none of them delivered anything of its later part. */
async function finishAndCheckSilence(
  client: BatonClient,
  runId: string,
  streams: OpenStream[],
  open: () => void,
) {
  open();
  const result = await waitForRun(client, runId);
  expect(result.status).toBe('succeeded');
  expect(await client.taskLog(runId, 'slow')).toContain('after the revoke');
  for (const s of streams) {
    expect(s.frames.some((f) => f.data.includes('after the revoke'))).toBe(false);
    expect(s.frames.some((f) => f.event === 'end')).toBe(false);
  }
}

function cli(args: string[], env: Record<string, string>) {
  const proc = startTracked(`baton ${args.slice(0, 2).join(' ')}`, process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
  });
  let out = '';
  proc.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, exited: proc.exited.then((e) => e.code), output: () => out };
}

describe('revoking a token closes its open streams', () => {
  it('revoked through the API: both SSE routes and the CLI follows end with token_revoked while the run goes on', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'streams');
    const { run, open } = await gatedRun(server);
    const user = await server.client.createToken({ kind: 'user', scope: 'read', name: 'watcher' });
    const streams = sseRoutes(run.id).map((r) => openStream(server.url, user.token, r));
    // The CLI follows (run events and one task's log), as a person would leave them running.
    const env = { BATON_SERVER: server.url, BATON_TOKEN: user.token };
    const followers = [
      cli(['runs', 'logs', run.id, '--follow'], env),
      cli(['runs', 'logs', run.id, 'slow', '--follow'], env),
    ];
    try {
      await untilLive(streams);
      for (const f of followers)
        await waitFor(
          () => f.output().includes('before the revoke'),
          'the CLI follow to print the first line',
        );

      await server.client.revokeToken(user.id);

      await expectEndedWith(streams, 'token_revoked');
      for (const f of followers) {
        await waitFor(() => f.proc.child.exitCode !== null, 'the CLI follow to exit', 15_000);
        expect(await f.exited).toBe(1);
        expect(f.output()).toMatch(/token this stream was opened with was revoked.*token_revoked/);
      }
      // The typed client says the same instead of ending quietly (or reconnecting).
      const client = createClient({ baseUrl: server.url, token: user.token });
      await expect(client.getRun(run.id)).rejects.toMatchObject({ code: 'unauthenticated' });
      await finishAndCheckSilence(server.client, run.id, streams, open);
    } finally {
      for (const s of streams) s.abort();
      for (const f of followers) await stopTracked(f.proc);
    }
  });

  it('revoked with `baton token revoke`: the streams end, and the typed client throws the reason', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'streams-cli');
    const { run, open } = await gatedRun(server);
    const user = await server.client.createToken({ kind: 'user', scope: 'read' });
    const streams = sseRoutes(run.id).map((r) => openStream(server.url, user.token, r));
    const client = createClient({ baseUrl: server.url, token: user.token });
    const logText: string[] = [];
    const typed = (async () => {
      for await (const text of client.followTaskLog(run.id, 'slow')) logText.push(text);
    })();
    typed.catch(() => {});
    try {
      await untilLive(streams);
      await waitFor(() => logText.join('').includes('before the revoke'), 'the typed follow to start');
      const revoke = cli(['token', 'revoke', user.id], {
        BATON_SERVER: server.url,
        BATON_TOKEN: server.adminToken,
      });
      expect(await revoke.exited, revoke.output()).toBe(0);
      await expectEndedWith(streams, 'token_revoked');
      await expect(typed).rejects.toMatchObject({
        code: 'unauthenticated',
        details: { reason: 'token_revoked' },
      });
      await finishAndCheckSilence(server.client, run.id, streams, open);
    } finally {
      for (const s of streams) s.abort();
    }
  });

  it('a token that expires while its streams are open: they end with token_expired', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'streams-expiry');
    const { run, open } = await gatedRun(server);
    // Long enough to open both streams on a loaded machine, short enough to expire while the task waits.
    const user = await server.client.createToken({ kind: 'user', scope: 'read', expiresInSeconds: 5 });
    const streams = sseRoutes(run.id).map((r) => openStream(server.url, user.token, r));
    try {
      await untilLive(streams);
      await expectEndedWith(streams, 'token_expired');
      await finishAndCheckSilence(server.client, run.id, streams, open);
    } finally {
      for (const s of streams) s.abort();
    }
  });
});

describe.skipIf(!PG_URL)('revocation across replicas (BATON_TEST_POSTGRES_URL must be set)', () => {
  it('revoked through replica B: the streams replica A holds end with token_revoked', async () => {
    const set = await replicaSet(PG_URL!);
    // One after the other: two replicas starting at once can both insert the configured admin token (a race in
    // start.ts ensureToken that this test is not about).
    const a = await set.start('replica-a');
    const b = await set.start('replica-b');
    await startRunnerProcess(a, 'on-a');
    const { run, open } = await gatedRun(a);
    const user = await a.client.createToken({ kind: 'user', scope: 'read' });
    const streams = sseRoutes(run.id).map((r) => openStream(a.url, user.token, r));
    try {
      await untilLive(streams);
      await b.client.revokeToken(user.id);
      await expectEndedWith(streams, 'token_revoked');
      await finishAndCheckSilence(a.client, run.id, streams, open);
    } finally {
      for (const s of streams) s.abort();
    }
  });
});
