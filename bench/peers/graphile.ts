// The graphile-worker peer, bench side: WorkerUtils to add jobs, a LISTEN on the channel the bench's trigger on
// graphile-worker's job table notifies when a job is done or failed (bench/peers/peers.ts), and the worker
// process of bench/peers/graphile-process.ts. Defaults everywhere but the concurrency and one attempt per job.
import type { ChildProcess } from 'node:child_process';
import { makeWorkerUtils, Logger, type WorkerUtils } from 'graphile-worker';
import pg from 'pg';
import { stop } from '../harness.ts';
import { GRAPHILE_DONE_CHANNEL, GRAPHILE_OUTPUT_TABLE, GRAPHILE_TASK, type Peer } from './contract.ts';
import { createCompletions, startWorkerProcess } from './worker-process.ts';

const quiet = new Logger(() => (level, message) => {
  if (level === 'error') process.stderr.write(`graphile-worker utils: ${message}\n`);
});

export async function startGraphilePeer(o: { databaseUrl: string; concurrency: number }): Promise<Peer> {
  const completions = createCompletions();
  const listener = new pg.Client({ connectionString: o.databaseUrl });
  await listener.connect();
  listener.on('notification', (n) => {
    const m = JSON.parse(n.payload ?? '{}') as { id: string; atMs?: number; error?: string };
    if (m.error !== undefined) completions.failed(m.id, m.error);
    else completions.done(m.id, Number(m.atMs));
  });
  listener.on('error', (err) => completions.abort(err));
  await listener.query(`LISTEN ${GRAPHILE_DONE_CHANNEL}`);
  let utils: WorkerUtils | undefined;
  const close = async () => {
    await utils?.release();
    await listener.end();
  };
  let worker: ChildProcess;
  try {
    utils = await makeWorkerUtils({ connectionString: o.databaseUrl, logger: quiet });
    worker = await startWorkerProcess(
      'graphile-process.ts',
      ['--database', o.databaseUrl, '--concurrency', String(o.concurrency)],
      'graphile-worker worker',
    );
  } catch (err) {
    await close();
    throw err;
  }
  const add = utils; // narrowed for the closures below
  worker.once('exit', (code, signal) =>
    completions.abort(new Error(`the graphile-worker worker exited ${code ?? signal}`)),
  );

  return {
    name: 'graphile-worker',
    pids: [worker.pid!],
    async runJobs(files) {
      // One attempt: a failed job must fail the workload, not come back after graphile-worker's backoff.
      const jobs =
        files.length === 1
          ? [await add.addJob(GRAPHILE_TASK, { file: files[0]! }, { maxAttempts: 1 })]
          : await add.addJobs(
              files.map((file) => ({ identifier: GRAPHILE_TASK, payload: { file }, maxAttempts: 1 })),
            );
      const ids = jobs.map((j) => String(j.id));
      const lastDoneAtMs = await completions.wait(ids, 'graphile-worker');
      completions.forget(ids);
      return { ids, lastDoneAtMs };
    },
    async storedOutput(id) {
      const { rows } = await listener.query<{ chunk: Buffer }>(
        `SELECT chunk FROM ${GRAPHILE_OUTPUT_TABLE} WHERE job_id = $1 ORDER BY seq`,
        [id],
      );
      return Buffer.concat(rows.map((r) => r.chunk));
    },
    async dropOutputs(ids) {
      await listener.query(`DELETE FROM ${GRAPHILE_OUTPUT_TABLE} WHERE job_id = ANY($1::bigint[])`, [ids]);
    },
    async stop() {
      await stop(worker);
      await close();
    },
  };
}
