// The one interface behind "how a task reaches an executor" (DESIGN.md's dispatchers). A server composes its
// configured set of dispatchers from the registry (index.ts) and knows nothing else about them: each one claims
// the tasks it can deliver with `store.leases.claim`, holds the lease, and writes logs and the result through the
// same store calls (start, heartbeat, appendLogs, complete, lose), so leases, fencing, retries and the run's
// advance behave the same whichever way a task travelled. See docs/dispatchers.md and docs/adr/0015.
import type { FastifyInstance } from 'fastify';
import type { TaskSpec } from '../../protocol/plan.ts';
import type { TaskRow } from '../../store/schema.ts';
import type { ServerContext } from '../context.ts';

/** A way to execute, as the registry holds it: a kind and a factory for one server's instance. */
export interface DispatcherModule {
  /** Its name in `--dispatchers` / `BATON_DISPATCHERS` (lowercase letters, digits, dashes). */
  readonly kind: string;
  /** One line for `baton server --help` and error messages. */
  readonly description: string;
  /** Kinds that must be configured beside it (`local` runs a pull runner, so it needs `pull`). */
  readonly requires?: readonly string[];
  /**
   * Called once by createServer with the server's shared context. Must not start anything yet: a server built
   * for inject() tests never listens, and then only `routes` and `explain` are used.
   */
  create(ctx: ServerContext, options: DispatchOptions): Dispatcher;
}

/** One server's instance of a way to execute. Every member is optional but `kind`. */
export interface Dispatcher {
  readonly kind: string;
  /** The HTTP face of this way, registered by createServer (the runner protocol of pull, push runner hosts). */
  routes?(app: FastifyInstance): Promise<void>;
  /** Once the server listens (startServer): background loops, embedded executors. */
  start?(server: ListeningServer): Promise<void>;
  /**
   * When the server closes, in the reverse order of `start`: stop taking tasks and wait for those in flight
   * to be finished or handed back (a lease left behind is extended, then judged, by the next start).
   */
  stop?(): Promise<void>;
  /** For "why is this task pending": each executor this way knows of, and why it would pass the task over. */
  explain?(task: TaskRow, spec: TaskSpec): Promise<PendingCandidate[]>;
}

export interface ListeningServer {
  /** Where the server listens, e.g. `http://127.0.0.1:40123`. */
  url: string;
}

/**
 * An executor that lives in this process, handed to the server by the program that embeds it (`baton run`):
 * the server (which may not import the runner, DESIGN.md's import table) gives it a one-use registration token,
 * and the dispatcher that owns it (`local`) starts and stops it with the server.
 */
export interface EmbeddedExecutor {
  launch(server: ListeningServer & { registrationToken: string }): Promise<RunningExecutor>;
}

export interface RunningExecutor {
  /** Stop taking tasks; called twice, cancel the running ones. */
  stop(): void;
  /** Settles when the executor has finished. */
  done: Promise<void>;
}

/** What a program that starts a server may hand to its dispatchers. */
export interface DispatchOptions {
  embedded?: EmbeddedExecutor;
}

import type { PendingReason } from '../../protocol/api.ts';
export type { PendingReason };

/** One executor a dispatcher could hand the task to, and every reason it would not now. */
export interface PendingCandidate {
  id: string;
  name: string;
  status: string;
  labels: string[];
  /** The dispatcher `kind` that reaches it. */
  dispatcher: string;
  eligible: boolean;
  /** The one reason that decides (the first of PENDING_REASON_CODES that applies); null when eligible. */
  reason: PendingReason | null;
  reasons: PendingReason[];
}
