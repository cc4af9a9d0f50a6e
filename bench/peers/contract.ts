// The contract between the bench and a peer (another job queue measured beside Baton in the same run, issue 20),
// and the names the peer's bench side and its worker process share.
//
// A peer is a queue plus one trivial Node worker process, started for one workload with the workload's number
// of slots (its concurrency) and stopped after it. Calls come from one workload at a time, never concurrently:
//   startPeer(…) → runJobs(files) → storedOutput(id) … → dropOutputs(ids) → … → stop()
// While the bench measures a baseline, Baton or another peer, it pauses the peer's `pids` (SIGSTOP) and resumes
// them (SIGCONT) before the peer's own turn; the peer's store (Redis, PostgreSQL) is shared and never paused.
// A job whose script exits non-zero, or whose output could not be stored, makes runJobs reject: a workload is
// broken, never a slower figure.

export const PEER_NAMES = ['BullMQ', 'graphile-worker'] as const;
export type PeerName = (typeof PEER_NAMES)[number];

/** What a job carries: the script file the worker runs as `bash --noprofile --norc -eo pipefail FILE`. */
export interface JobPayload {
  file: string;
}

export interface JobsDone {
  /** The peer's job ids, in the order of the files. */
  ids: string[];
  /**
   * When the last job was acknowledged, in ms since the epoch, stamped by the peer's store as it recorded the
   * completion (the counterpart of a Baton run's finishedAt): a Redis stream entry's id, PostgreSQL's
   * clock_timestamp() in the deleting transaction.
   */
  lastDoneAtMs: number;
}

export interface Peer {
  readonly name: PeerName;
  /** The worker process: paused while anything else is measured. */
  readonly pids: number[];
  /**
   * Enqueues one job per file in one call (in order) and resolves once every one is acknowledged (its output
   * stored first). Rejects with the peer's error if a job failed.
   */
  runJobs(files: string[]): Promise<JobsDone>;
  /** The bytes a job's worker stored as its output (stdout and stderr, in arrival order). */
  storedOutput(id: string): Promise<Buffer>;
  /** Deletes stored outputs (after they are checked), so a full run does not hold hundreds of MB. */
  dropOutputs(ids: string[]): Promise<void>;
  /** Stops the worker process and closes the bench's connections; the store's data stays until the set closes. */
  stop(): Promise<void>;
}

/** The Redis string holding a BullMQ job's output: under the bench's prefix, so cleaning the prefix removes it. */
export const bullOutputKey = (prefix: string, queue: string, jobId: string) =>
  `${prefix}:${queue}:output:${jobId}`;

/** The graphile-worker task every bench job runs. */
export const GRAPHILE_TASK = 'bash';
/** The graphile-worker peer's output table: one row per write, ordered by seq. */
export const GRAPHILE_OUTPUT_TABLE = 'bench_output';
/** The channel graphile-worker's job table notifies (through a bench trigger) when a job is done or failed. */
export const GRAPHILE_DONE_CHANNEL = 'bench_job_done';
