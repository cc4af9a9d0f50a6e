// The body of a compile worker thread (see compile-pool.ts): compiles one workflow per message and
// posts the result back. Nothing here touches the store or the network.
import { parentPort } from 'node:worker_threads';
import { compileWorkflow, type CompileOptions } from '../workflow/index.ts';
import type { CompileAnswer } from './compile-pool.ts';

export interface CompileJob {
  id: number;
  text: string | Uint8Array;
  options: CompileOptions;
}

parentPort?.on('message', (job: CompileJob) => {
  const result = compileWorkflow(job.text, job.options);
  // The result's size, for the pool's cache bound, measured here rather than on the server's loop.
  let bytes: number;
  try {
    bytes = JSON.stringify(result).length;
  } catch {
    bytes = Number.POSITIVE_INFINITY; // too big to measure is too big to keep
  }
  const answer: CompileAnswer = { id: job.id, result, bytes };
  parentPort?.postMessage(answer);
});
