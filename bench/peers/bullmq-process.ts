// The BullMQ peer's worker process (started by bench/peers/bullmq.ts): a trivial BullMQ Worker whose job runs
// the script file named in its data and appends the output to the Redis string `bullOutputKey(…)` as it arrives;
// BullMQ marks the job completed once the processor returns, that is after the last append is acknowledged.
//   node bench/peers/bullmq-process.ts --redis URL --prefix P --queue Q --concurrency N
// Sends {ready: true} over IPC once the worker is connected; stops gracefully on SIGTERM.
import { parseArgs } from 'node:util';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { bullOutputKey, type JobPayload } from './contract.ts';
import { runScript } from './job-output.ts';

async function main() {
  const { values } = parseArgs({
    options: {
      redis: { type: 'string' },
      prefix: { type: 'string' },
      queue: { type: 'string' },
      concurrency: { type: 'string' },
    },
  });
  const { redis: url, prefix, queue } = values;
  const concurrency = Number(values.concurrency);
  if (!url || !prefix || !queue || !(concurrency >= 1))
    throw new Error('usage: bullmq-process.ts --redis URL --prefix P --queue Q --concurrency N');

  // BullMQ's blocking connection needs maxRetriesPerRequest: null; the worker duplicates this one for it.
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const worker = new Worker<JobPayload>(
    queue,
    async (job: Job<JobPayload>) => {
      const key = bullOutputKey(prefix, queue, job.id!);
      await runScript(job.data.file, async (chunk) => {
        await connection.append(key, chunk);
      });
    },
    { connection, prefix, concurrency },
  );
  worker.on('error', (err) => process.stderr.write(`bullmq worker: ${err.stack ?? err.message}\n`));
  await worker.waitUntilReady();

  process.once('SIGTERM', () => {
    void worker
      .close()
      .then(() => connection.quit())
      .finally(() => process.exit(0));
  });
  process.send!({ ready: true });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bullmq-process: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
