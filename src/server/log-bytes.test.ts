// The binary log path (docs/adr/0021-log-bytes.md) on SQLite and PostgreSQL: chunks sent as raw bytes are stored
// once in the attempt's log file with only their index in the database, a crash between the file write and the
// index row neither doubles nor loses a byte, and chunks stored as text rows before migration 22 stay readable.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import type { AcquireResponse } from '../protocol/api.ts';
import { encodeLogFrames, type LogFrame } from '../protocol/log-frames.ts';

const PG_URL = process.env.BATON_TEST_POSTGRES_URL;

async function adminQuery(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** A test app on SQLite, or on a fresh PostgreSQL schema dropped after the test. */
async function appOn(db: 'sqlite' | 'postgres'): Promise<TestApp> {
  if (db === 'sqlite') return createTestApp();
  const schema = `t_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  const url = new URL(PG_URL!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const t = await createTestApp({ database: url.toString() });
  // Registered after createTestApp's own hook, so it runs after the store closed.
  onTestFinished(() => adminQuery(`DROP SCHEMA ${schema} CASCADE`));
  return t;
}

async function runningTask(t: TestApp) {
  const { token } = await t.registerRunner();
  const sub = await t.submit('tasks: { only: { run: echo hi } }');
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/runner/acquire',
    headers: { authorization: `Bearer ${token}` },
    payload: { capacity: 1, waitMs: 0 },
  });
  const offer = res.json() as AcquireResponse;
  await t.app.inject({
    method: 'POST',
    url: `/api/v1/runner/leases/${offer.lease}/start`,
    headers: { authorization: `Bearer ${token}` },
    payload: {},
  });
  const { task_id: taskId, runner_id: runnerId } = await t.store.dialect.db
    .selectFrom('attempts')
    .select(['task_id', 'runner_id'])
    .where('lease_id', '=', offer.lease)
    .executeTakeFirstOrThrow();
  return { token, offer, runId: sub.body.id as string, taskId, runnerId: runnerId! };
}

function frames(attempt: number, parts: Array<[seq: number, offset: number, text: string]>): LogFrame[] {
  return parts.map(([seq, offset, text]) => ({ attempt, seq, offset, bytes: Buffer.from(text, 'utf8') }));
}

async function putLog(t: TestApp, token: string, lease: string, body: Buffer) {
  const res = await t.app.inject({
    method: 'PUT',
    url: `/api/v1/runner/leases/${lease}/log`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    payload: body,
  });
  return { status: res.statusCode, json: () => res.json() as Record<string, unknown> };
}

async function taskLog(t: TestApp, runId: string) {
  const res = await t.app.inject({
    method: 'GET',
    url: `/api/v1/runs/${runId}/tasks/only/logs`,
    headers: { authorization: `Bearer ${t.adminToken}` },
  });
  return res.body;
}

function logFile(t: TestApp, taskId: string, attempt: number): string {
  return join(t.ctx.config.dataDir, 'blobs', 'logs', taskId.slice(0, 2), `${taskId}.${attempt}.log`);
}

const targets = [
  ['sqlite', true],
  ['postgres', PG_URL !== undefined],
] as const;

describe.each(targets)('binary log chunks on %s', (db, available) => {
  it.skipIf(!available)(
    'stores each chunk once in the attempt log file, a duplicate or retried chunk acknowledged without a second write',
    async () => {
      const t = await appOn(db);
      const { token, offer, runId, taskId } = await runningTask(t);
      const a = await putLog(
        t,
        token,
        offer.lease,
        encodeLogFrames(
          frames(1, [
            [0, 0, 'hello '],
            [1, 6, 'wörld\n'],
          ]),
        ),
      );
      expect(a.status).toBe(200);
      expect(a.json()).toEqual({ ackedSeq: 1, cancel: false });
      // A retry of chunk 1 with other bytes (a hostile resend) and a new chunk 2: the stored chunk 1 stays.
      const b = await putLog(
        t,
        token,
        offer.lease,
        encodeLogFrames(
          frames(1, [
            [1, 6, 'WÖRLD\n'],
            [2, 13, 'bye\n'],
          ]),
        ),
      );
      expect(b.json()).toEqual({ ackedSeq: 2, cancel: false });
      const again = await putLog(t, token, offer.lease, encodeLogFrames(frames(1, [[0, 0, 'hello ']])));
      expect(again.json()).toEqual({ ackedSeq: 2, cancel: false });
      expect(await taskLog(t, runId)).toBe('hello wörld\nbye\n');
      const path = logFile(t, taskId, 1);
      expect(readFileSync(path, 'utf8')).toBe('hello wörld\nbye\n');
      const rows = await t.store.dialect.db
        .selectFrom('log_chunks')
        .select(['seq', 'offset', 'length', 'data'])
        .where('task_id', '=', taskId)
        .orderBy('seq')
        .execute();
      expect(rows.map((r) => [r.seq, r.offset, r.length, r.data])).toEqual([
        [0, 0, 6, ''],
        [1, 6, 7, ''],
        [2, 13, 4, ''],
      ]);
      // A contradicting offset is refused as by the JSON call, and nothing is written.
      const moved = await putLog(t, token, offer.lease, encodeLogFrames(frames(1, [[3, 20, 'gap']])));
      expect(moved.status).toBe(409);
      expect(moved.json()).toMatchObject({ error: { code: 'log_offset_conflict' } });
      expect(statSync(path).size).toBe(17);
    },
  );

  it.skipIf(!available)(
    'refuses a batch naming another attempt, an invalid header, a chunk over 1 MiB and invalid UTF-8, storing nothing',
    async () => {
      const t = await appOn(db);
      const { token, offer, runId, taskId } = await runningTask(t);
      const other = await putLog(t, token, offer.lease, encodeLogFrames(frames(2, [[0, 0, 'x\n']])));
      expect(other.status).toBe(400);
      expect(other.json()).toMatchObject({
        error: { message: `the log chunks name attempt 2, but lease ${offer.lease} holds attempt 1` },
      });
      const torn = await putLog(t, token, offer.lease, Buffer.from('1 0 0 10\nshort'));
      expect(torn.json()).toMatchObject({
        error: { code: 'bad_request', message: 'log chunk 0 announces 10 bytes but the body ends after 5' },
      });
      const big = await putLog(t, token, offer.lease, Buffer.from(`1 0 0 ${2 * 1024 * 1024}\n`));
      expect(big.status).toBe(413);
      expect(big.json()).toMatchObject({
        error: { message: 'log chunk 0 is 2097152 bytes; the limit is 1048576 bytes per chunk' },
      });
      const bad = encodeLogFrames([
        { attempt: 1, seq: 0, offset: 0, bytes: Buffer.from([0x61, 0xff, 0x62]) },
      ]);
      expect((await putLog(t, token, offer.lease, bad)).json()).toMatchObject({
        error: { message: 'log chunk 0 is not valid UTF-8' },
      });
      expect(await taskLog(t, runId)).toBe('');
      expect(existsSync(logFile(t, taskId, 1))).toBe(false);
    },
  );

  it.skipIf(!available)(
    'a server stopped between the file write and the index row stores the retried chunk once, and serves no unindexed byte',
    async () => {
      const t = await appOn(db);
      const { token, offer, runId, taskId } = await runningTask(t);
      await putLog(t, token, offer.lease, encodeLogFrames(frames(1, [[0, 0, 'first\n']])));
      // What a crash leaves: chunk 1's bytes (and a torn part of a larger batch after them) in the file, no row.
      await t.ctx.logFiles.write(taskId, 1, [
        { seq: 1, offset: 6, bytes: Buffer.from('second\nTORN-BATCH-BYTES') },
      ]);
      expect(await taskLog(t, runId)).toBe('first\n');
      // The runner never got an answer: it sends chunk 1 again, then goes on.
      const retry = await putLog(t, token, offer.lease, encodeLogFrames(frames(1, [[1, 6, 'second\n']])));
      expect(retry.json()).toEqual({ ackedSeq: 1, cancel: false });
      const next = await putLog(t, token, offer.lease, encodeLogFrames(frames(1, [[2, 13, 'third\n']])));
      expect(next.json()).toEqual({ ackedSeq: 2, cancel: false });
      expect(await taskLog(t, runId)).toBe('first\nsecond\nthird\n');
      // Bytes past the index are never served, even those the file still holds.
      await t.ctx.logFiles.write(taskId, 1, [{ seq: 3, offset: 19, bytes: Buffer.from('unacked') }]);
      expect(await taskLog(t, runId)).toBe('first\nsecond\nthird\n');
    },
  );

  it.skipIf(!available)(
    'chunks stored as text rows before migration 22 stay readable, also when their attempt goes on in a log file',
    async () => {
      const t = await appOn(db);
      const { token, offer, runId, taskId, runnerId } = await runningTask(t);
      // A store without log files writes rows as every server did before migration 22: text, NULL length.
      await t.store.leases.appendLogs(
        offer.lease,
        runnerId,
        [
          { seq: 0, offset: 0, data: 'old ✓ row\n' },
          { seq: 1, offset: 12, data: 'another\n' },
        ],
        t.clock.now,
      );
      const old = await t.store.dialect.db
        .selectFrom('log_chunks')
        .select(['length', 'data'])
        .where('task_id', '=', taskId)
        .execute();
      expect(old.map((r) => [r.length, r.data])).toEqual([
        [null, 'old ✓ row\n'],
        [null, 'another\n'],
      ]);
      // The runner goes on through the new server: its chunks go to the file, readers see one log.
      const b = await putLog(t, token, offer.lease, encodeLogFrames(frames(1, [[2, 20, 'new bytes\n']])));
      expect(b.json()).toEqual({ ackedSeq: 2, cancel: false });
      // An offset contradicting the text row's length is still refused.
      const wrong = await putLog(t, token, offer.lease, encodeLogFrames(frames(1, [[1, 13, 'another\n']])));
      expect(wrong.status).toBe(409);
      expect(await taskLog(t, runId)).toBe('old ✓ row\nanother\nnew bytes\n');
      const follow = await t.app.inject({
        method: 'GET',
        url: `/api/v1/runs/${runId}/tasks/only/logs?follow=1&offset=16`,
        headers: { authorization: `Bearer ${t.adminToken}` },
        payloadAsStream: true,
      });
      // The follow stream is open until the task ends; read what it replayed so far.
      const stream = follow.stream();
      let text = '';
      for await (const part of stream) {
        text += (part as Buffer).toString('utf8');
        if (text.includes('new bytes')) break;
      }
      stream.destroy();
      expect(text).toContain('"her\\n"');
      expect(text).toContain('"new bytes\\n"');
    },
  );
});
