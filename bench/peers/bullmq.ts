// The BullMQ peer, bench side: a Queue to add jobs, QueueEvents to learn when they are completed (the entry BullMQ
// appends to the queue's event stream in the same script that marks the job completed; its id carries Redis's
// clock), and the worker process of bench/peers/bullmq-process.ts. Defaults everywhere but the concurrency.
import type { ChildProcess } from 'node:child_process';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { stop } from '../harness.ts';
import { bullOutputKey, type JobPayload, type Peer } from './contract.ts';
import { createCompletions, startWorkerProcess } from './worker-process.ts';

/**
 * BullMQ trims a queue's event stream to ~10,000 entries by default, about 2,000 jobs' worth: a bench that read
 * them a little late would lose completions. The bench's queues keep more; the worker writes the same entries.
 */
const EVENTS_MAX_LEN = 1_000_000;

export async function startBullPeer(o: {
  redisUrl: string;
  prefix: string;
  queue: string;
  concurrency: number;
}): Promise<Peer> {
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<JobPayload>(o.queue, {
    connection,
    prefix: o.prefix,
    streams: { events: { maxLen: EVENTS_MAX_LEN } },
    defaultJobOptions: { attempts: 1 },
  });
  const completions = createCompletions();
  // From the stream's start ('0'): the queue is new, and no completion can slip in before the first read.
  const eventsConnection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const events = new QueueEvents(o.queue, {
    connection: eventsConnection,
    prefix: o.prefix,
    lastEventId: '0',
  });
  events.on('completed', ({ jobId }, id) => completions.done(jobId, Number(id.split('-')[0])));
  events.on('failed', ({ jobId, failedReason }) => completions.failed(jobId, failedReason));
  events.on('error', (err) => completions.abort(err));
  const close = async () => {
    await events.close();
    await queue.close();
    eventsConnection.disconnect(); // it may be blocked in XREAD: QUIT would wait for it
    await connection.quit();
  };
  let worker: ChildProcess;
  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    worker = await startWorkerProcess(
      'bullmq-process.ts',
      [
        '--redis',
        o.redisUrl,
        '--prefix',
        o.prefix,
        '--queue',
        o.queue,
        '--concurrency',
        String(o.concurrency),
      ],
      `BullMQ worker (${o.queue})`,
    );
  } catch (err) {
    await close();
    throw err;
  }
  worker.once('exit', (code, signal) =>
    completions.abort(new Error(`the BullMQ worker exited ${code ?? signal}`)),
  );
  const key = (id: string) => bullOutputKey(o.prefix, o.queue, id);

  return {
    name: 'BullMQ',
    pids: [worker.pid!],
    async runJobs(files) {
      const jobs =
        files.length === 1
          ? [await queue.add('bash', { file: files[0]! })]
          : await queue.addBulk(files.map((file) => ({ name: 'bash', data: { file } })));
      const ids = jobs.map((j) => j.id!);
      const lastDoneAtMs = await completions.wait(ids, `BullMQ ${o.queue}`);
      completions.forget(ids);
      return { ids, lastDoneAtMs };
    },
    async storedOutput(id) {
      return (await connection.getBuffer(key(id))) ?? Buffer.alloc(0);
    },
    async dropOutputs(ids) {
      if (ids.length > 0) await connection.unlink(...ids.map(key));
    },
    async stop() {
      await stop(worker);
      await close();
    },
  };
}
