// The graphile-worker peer's worker process (started by bench/peers/graphile.ts): graphile-worker's runner with
// one task that runs the script file named in the job's payload and inserts the output into the bench's table
// (one row per write, each insert its own transaction) as it arrives; graphile-worker completes the job once
// the task returns, that is after the last insert is committed.
//   node bench/peers/graphile-process.ts --database URL --concurrency N
// Sends {ready: true} over IPC once the runner listens for new jobs; stops gracefully on SIGTERM.
import { EventEmitter } from 'node:events';
import { parseArgs } from 'node:util';
import { Logger, run, type Task, type WorkerEvents } from 'graphile-worker';
import pg from 'pg';
import { GRAPHILE_OUTPUT_TABLE, GRAPHILE_TASK, type JobPayload } from './contract.ts';
import { runScript } from './job-output.ts';

/**
 * Warnings and errors only, on stderr: graphile-worker's default logger prints a line per job, which Baton's
 * processes in the bench do not (the server runs with --log-level warn).
 */
const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning')
    process.stderr.write(`graphile-worker ${level}: ${message}\n`);
});

async function main() {
  const { values } = parseArgs({
    options: { database: { type: 'string' }, concurrency: { type: 'string' } },
  });
  const concurrency = Number(values.concurrency);
  if (!values.database || !(concurrency >= 1))
    throw new Error('usage: graphile-process.ts --database URL --concurrency N');

  const pool = new pg.Pool({ connectionString: values.database });
  const insert = `INSERT INTO ${GRAPHILE_OUTPUT_TABLE} (job_id, seq, chunk) VALUES ($1, $2, $3)`;
  const bash: Task = async (payload, helpers) => {
    const { file } = payload as JobPayload;
    await runScript(file, async (chunk, seq) => {
      await pool.query(insert, [helpers.job.id, seq, chunk]);
    });
  };
  // Listened to before the runner starts, so its first LISTEN cannot be missed.
  const events = new EventEmitter() as WorkerEvents;
  const listening = new Promise<void>((resolve) => events.once('pool:listen:success', () => resolve()));
  const runner = await run({
    pgPool: pool,
    concurrency,
    noHandleSignals: true,
    logger,
    events,
    taskList: { [GRAPHILE_TASK]: bash },
  });

  process.once('SIGTERM', () => {
    void runner
      .stop()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  });
  await listening;
  process.send!({ ready: true });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `graphile-process: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
