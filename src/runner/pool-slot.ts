// A pool slot's runner (`baton runner pool slot`, started only by the pool): takes its identity from the
// pool over IPC, runs one task as a one-off agent, unregisters and exits. It obeys only messages that carry
// its slot's secret, and when the pool goes away it cancels its task and exits: nothing outlives the pool.
import { hostname } from 'node:os';
import { findDrivers } from '../engine/index.ts';
import { createClient, trustCaFile } from '../client/index.ts';
import { toError } from '../protocol/errors.ts';
import { Agent, type RunnerLogger } from './agent.ts';
import { ISOLATIONS, type Isolation } from './config.ts';
import { proveIsolation } from './isolation.ts';
import { withoutBatonSettings } from './env-file.ts';
import { loadIdentity } from './identity.ts';
import { createLogger, LOG_LEVELS } from './log.ts';
import type { PoolToSlot, SlotHandover, SlotToPool } from './pool.ts';

/** Isolation levels this build's agent can apply to a slot's tasks. */
export const SLOT_ISOLATIONS = ISOLATIONS;

function send(m: SlotToPool): void {
  if (process.connected) process.send?.(m);
}

function isHandover(m: unknown): m is SlotHandover {
  const h = m as Partial<SlotHandover> | null;
  return (
    typeof h === 'object' &&
    h !== null &&
    h.type === 'handover' &&
    typeof h.secret === 'string' &&
    /^[0-9a-f]{32}$/.test(h.secret) &&
    typeof h.token === 'string' &&
    typeof h.runnerId === 'string'
  );
}

/** Waits for the pool's hand-over; refuses to run without an IPC channel (it is never started by hand). */
function handover(): Promise<SlotHandover> {
  return new Promise((res, rej) => {
    if (!process.send)
      return rej(new Error('`baton runner pool slot` is started by `baton runner pool`, not by hand'));
    process.once('message', (m: unknown) =>
      isHandover(m) ? res(m) : rej(new Error('the pool sent no valid hand-over')),
    );
    process.once('disconnect', () => rej(new Error('the pool went away before the hand-over')));
  });
}

export async function runSlot(): Promise<number> {
  const h = await handover();
  // The pool checked these and passes them in the slot's environment.
  const level = process.env.BATON_LOG_LEVEL ?? 'info';
  const format = process.env.BATON_LOG_FORMAT === 'pretty' ? 'pretty' : 'json';
  const log: RunnerLogger = createLogger({
    level: (LOG_LEVELS as readonly string[]).includes(level) ? level : 'info',
    format,
    name: h.name,
  });
  const fail = (message: string): number => {
    log.error(message);
    send({ type: 'error', secret: h.secret, message });
    process.disconnect?.();
    return 1;
  };
  if (!(SLOT_ISOLATIONS as readonly string[]).includes(h.isolation))
    return fail(
      `--isolation ${h.isolation} is not supported by this runner build (supported: ${SLOT_ISOLATIONS.join(', ')})`,
    );
  const network = h.network === 'none' ? 'none' : 'host';
  const proven = await proveIsolation(h.isolation as Isolation, network);
  if ('error' in proven) return fail(proven.error);
  const isolation = proven.isolation;
  try {
    if (h.caFile) trustCaFile(h.caFile);
    const identity = loadIdentity(h.stateDir, h.runnerId);
    const client = createClient({ baseUrl: h.server, token: h.token, userAgent: `baton-runner-pool-slot` });
    const drivers = h.drivers === undefined ? undefined : findDrivers(h.drivers).drivers;
    const env = withoutBatonSettings(process.env);
    delete env.NODE_CHANNEL_FD;
    delete env.NODE_CHANNEL_SERIALIZATION_MODE;
    const agent = new Agent({
      client,
      name: h.name,
      maxParallelTasks: 1,
      workDir: h.workDir,
      baseEnv: env,
      oneOff: true,
      stateDir: h.stateDir,
      hide: h.hide,
      ...(h.stepInitDir === undefined ? {} : { stepInitDir: h.stepInitDir }),
      isolation,
      network,
      ...(drivers === undefined ? {} : { drivers }),
      keys: identity?.keys,
      log,
      onTaskStarted: (offer) =>
        send({
          type: 'task',
          secret: h.secret,
          task: offer.task.name,
          runId: offer.task.runId,
          attempt: offer.task.attempt,
        }),
      onTaskFinished: (_offer, outcome) =>
        send({ type: 'finished', secret: h.secret, status: outcome.status }),
    });
    process.on('message', (m: PoolToSlot) => {
      if (typeof m !== 'object' || m === null || m.secret !== h.secret) return;
      if (m.type === 'drain') agent.stop();
      else if (m.type === 'cancel') {
        agent.stop();
        agent.stop();
      }
    });
    // The pool is gone (killed): cancel the task rather than run on unsupervised.
    process.once('disconnect', () => {
      log.warn('the pool went away; cancelling');
      agent.stop();
      agent.stop();
    });
    // Signals come from the pool only: tasks cannot see this process (their own pid namespace).
    process.on('SIGTERM', () => agent.stop());
    process.on('SIGINT', () => agent.stop());
    send({ type: 'ready', secret: h.secret });
    log.info(`slot runner ${h.name} (${hostname()}) waiting for one task`);
    await agent.run();
    await client.unregister().catch(() => {});
    process.disconnect?.();
    return 0;
  } catch (err) {
    return fail(`the slot's runner failed: ${toError(err).message}`);
  }
}
