// The invariants of RELIABILITY.md, checked after every fault test: read from the server's SQLite file
// (read-only), its API, its log, and /proc. Each check returns sentences naming the task and what broke.
import { closeSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import type { BatonClient } from '../../src/client/index.ts';
import { isTerminal } from '../../src/protocol/status.ts';
import { processesWithArg } from './processes.ts';

export interface InvariantInput {
  /** The server's SQLite file (`<dataDir>/baton.db`; task logs' bytes are read from `<dataDir>/blobs/logs`). */
  database: string;
  /** Used to compare what the API reports with what is stored. */
  client?: BatonClient;
  /** Everything every server process of the test printed (for 500s). */
  serverOutput?: string;
  /** Command-line markers of processes that belong to finished tasks: none may be running. */
  markers?: string[];
  /** Two attempts of a task may overlap by this much (clock reads on one server; default 100 ms). */
  overlapMarginMs?: number;
}

interface TaskRow {
  id: string;
  run_id: string;
  name: string;
  status: string;
  attempt: number;
}

interface AttemptRow {
  task_id: string;
  number: number;
  state: string;
  started_at: number | null;
  finished_at: number | null;
  result: string | null;
}

interface ChunkRow {
  task_id: string;
  attempt: number;
  seq: number;
  offset: number;
  data: string;
  /** Bytes in the attempt's log file (docs/adr/0021-log-bytes.md); null for a chunk stored as text. */
  length: number | null;
}

const LIVE_ATTEMPT = ['offered', 'running'];

/** Runs every check; returns the violations (empty when all hold). */
export async function findViolations(i: InvariantInput): Promise<string[]> {
  const out: string[] = [];
  const db = new Database(i.database, { readonly: true, fileMustExist: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') out.push(`integrity_check: ${String(integrity)}`);
    const tasks = db.prepare('SELECT id, run_id, name, status, attempt FROM tasks').all() as TaskRow[];
    const attempts = db
      .prepare(
        'SELECT task_id, number, state, started_at, finished_at, result FROM attempts ORDER BY task_id, number',
      )
      .all() as AttemptRow[];
    const byTask = new Map<string, AttemptRow[]>();
    for (const a of attempts) byTask.set(a.task_id, [...(byTask.get(a.task_id) ?? []), a]);
    const now = Date.now();
    for (const t of tasks) {
      const as = byTask.get(t.id) ?? [];
      out.push(...leaseViolations(t, as));
      out.push(...overlapViolations(t, as, now, i.overlapMarginMs ?? 100));
      out.push(...resultViolations(t, as));
    }
    const chunks = db
      .prepare(
        'SELECT task_id, attempt, seq, "offset", data, length FROM log_chunks ORDER BY task_id, attempt, seq',
      )
      .all() as ChunkRow[];
    out.push(...logViolations(chunks, tasks));
    if (i.client) out.push(...(await apiViolations(i.client, tasks)));
  } finally {
    db.close();
  }
  for (const m of i.markers ?? []) {
    const alive = processesWithArg(m);
    if (alive.length > 0)
      out.push(`(5) processes of a finished task still run: '${m}' in pid(s) ${alive.join(', ')}`);
  }
  if (i.serverOutput !== undefined) {
    const lines = i.serverOutput.split('\n').filter((l) => /unhandled error/.test(l));
    if (lines.length > 0)
      out.push(`(7) the server answered with 500: ${lines.map((l) => l.slice(0, 400)).join(' | ')}`);
  }
  return out;
}

/** Fails the test with every violation listed. */
export async function expectInvariants(i: InvariantInput): Promise<void> {
  expect(await findViolations(i)).toEqual([]);
}

// (1) Every task is terminal, queued (or still pending), or running with exactly one live attempt.
function leaseViolations(t: TaskRow, as: AttemptRow[]): string[] {
  const live = as.filter((a) => LIVE_ATTEMPT.includes(a.state));
  const name = `task '${t.name}' (${t.id})`;
  if (isTerminal(t.status) || t.status === 'queued' || t.status === 'pending') {
    return live.length === 0
      ? []
      : [`(1) ${name} is ${t.status} but has live attempt(s) ${live.map((a) => a.number).join(', ')}`];
  }
  if (t.status === 'running') {
    if (live.length !== 1) return [`(1) ${name} is running with ${live.length} live attempts`];
    if (live[0]!.number !== t.attempt)
      return [`(1) ${name} is on attempt ${t.attempt} but the live attempt is ${live[0]!.number}`];
    return [];
  }
  return [`(1) ${name} has unknown status '${t.status}'`];
}

// (2) No two attempts of one task ran at the same time.
function overlapViolations(t: TaskRow, as: AttemptRow[], now: number, marginMs: number): string[] {
  const ran = as
    .filter((a) => a.started_at !== null)
    .map((a) => ({ n: a.number, from: a.started_at!, to: a.finished_at ?? now }))
    .sort((a, b) => a.from - b.from);
  const out: string[] = [];
  for (let k = 1; k < ran.length; k++) {
    const prev = ran[k - 1]!;
    const cur = ran[k]!;
    if (cur.from < prev.to - marginMs)
      out.push(
        `(2) task '${t.name}': attempt ${cur.n} started ${prev.to - cur.from} ms before attempt ${prev.n} ended`,
      );
  }
  return out;
}

// (4) At most one successful result per task, and a succeeded task's result is that attempt's.
function resultViolations(t: TaskRow, as: AttemptRow[]): string[] {
  const succeeded = as.filter((a) => {
    if (a.result === null) return false;
    const r = JSON.parse(a.result) as { report?: { status?: string } };
    return r.report?.status === 'succeeded';
  });
  const out: string[] = [];
  if (succeeded.length > 1)
    out.push(
      `(4) task '${t.name}' has ${succeeded.length} successful attempts: ${succeeded.map((a) => a.number).join(', ')}`,
    );
  if (t.status === 'succeeded' && (succeeded.length !== 1 || succeeded[0]!.number !== t.attempt))
    out.push(
      `(4) task '${t.name}' is succeeded on attempt ${t.attempt} but no finished attempt of that number succeeded`,
    );
  const finishedButLive = as.filter((a) => a.state === 'finished' && a.result === null);
  if (finishedButLive.length > 0)
    out.push(
      `(4) task '${t.name}' attempt(s) ${finishedButLive.map((a) => a.number).join(', ')} finished without a stored result`,
    );
  return out;
}

// (3) Each attempt's stored log is contiguous: seq 0..n, each offset the previous plus its byte length.
function logViolations(chunks: ChunkRow[], tasks: TaskRow[]): string[] {
  const names = new Map(tasks.map((t) => [t.id, t.name]));
  const out: string[] = [];
  let key = '';
  let expectSeq = 0;
  let expectOffset = 0;
  for (const c of chunks) {
    const k = `${c.task_id}/${c.attempt}`;
    if (k !== key) {
      key = k;
      expectSeq = 0;
      expectOffset = 0;
    }
    const where = `task '${names.get(c.task_id) ?? c.task_id}' attempt ${c.attempt} chunk ${c.seq}`;
    if (c.seq !== expectSeq) out.push(`(3) ${where}: expected seq ${expectSeq} (gap or duplicate)`);
    if (c.offset !== expectOffset) out.push(`(3) ${where}: offset ${c.offset}, expected ${expectOffset}`);
    expectSeq = c.seq + 1;
    expectOffset = c.offset + (c.length ?? Buffer.byteLength(c.data, 'utf8'));
  }
  return out;
}

// The API tells the same story as the database.
async function apiViolations(client: BatonClient, tasks: TaskRow[]): Promise<string[]> {
  const out: string[] = [];
  for (const runId of new Set(tasks.map((t) => t.run_id))) {
    const run = await client.getRun(runId);
    for (const t of tasks.filter((x) => x.run_id === runId)) {
      const r = run.results[t.name];
      if (!r) out.push(`API: run ${runId} has no result for task '${t.name}'`);
      else if (isTerminal(t.status) && (r.status !== t.status || r.attempt !== t.attempt))
        out.push(
          `API: task '${t.name}' is ${r.status}/attempt ${r.attempt} in the API, ${t.status}/${t.attempt} stored`,
        );
    }
  }
  return out;
}

/**
 * The stored log of one attempt, read straight from storage: the index rows in seq order from the database,
 * each chunk's bytes from its row's text or from the attempt's log file beside the database.
 */
export function storedLog(database: string, taskId: string, attempt: number): string {
  const db = new Database(database, { readonly: true, fileMustExist: true });
  let rows: Array<{ offset: number; data: string; length: number | null }>;
  try {
    rows = db
      .prepare('SELECT "offset", data, length FROM log_chunks WHERE task_id = ? AND attempt = ? ORDER BY seq')
      .all(taskId, attempt) as typeof rows;
  } finally {
    db.close();
  }
  const file = join(dirname(database), 'blobs', 'logs', taskId.slice(0, 2), `${taskId}.${attempt}.log`);
  let fd: number | undefined;
  try {
    const parts = rows.map((r) => {
      if (r.length === null) return Buffer.from(r.data, 'utf8');
      fd ??= openSync(file, 'r');
      const buf = Buffer.alloc(r.length);
      const n = readSync(fd, buf, 0, r.length, r.offset);
      return buf.subarray(0, n);
    });
    return Buffer.concat(parts).toString('utf8');
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Attempts of one task as stored (for tests that assert on their states). */
export function storedAttempts(database: string, taskId: string): AttemptRow[] {
  const db = new Database(database, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        'SELECT task_id, number, state, started_at, finished_at, result FROM attempts WHERE task_id = ? ORDER BY number',
      )
      .all(taskId) as AttemptRow[];
  } finally {
    db.close();
  }
}
