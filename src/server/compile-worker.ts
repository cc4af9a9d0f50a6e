// The body of a compile worker thread (see compile-pool.ts): compiles one workflow per message and
// posts the result back. Nothing here touches the store or the network.
import { parentPort } from 'node:worker_threads';
import { compileWorkflow, type CompileOptions } from '../workflow/index.ts';

export interface CompileJob {
  id: number;
  text: string | Uint8Array;
  options: CompileOptions;
}

parentPort?.on('message', (job: CompileJob) => {
  parentPort?.postMessage({ id: job.id, result: compileWorkflow(job.text, job.options) });
});
