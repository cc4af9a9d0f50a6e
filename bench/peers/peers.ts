// The peers of `npm run bench -- --peers` (issue 20): what they share for one bench run — a Redis server (started
// here when none answers), a unique BullMQ key prefix, a throwaway PostgreSQL database for graphile-worker — and
// which peer module starts each. See bench/peers/contract.ts for the contract.
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { runMigrations } from 'graphile-worker';
import pg from 'pg';
import { sleep, stop, track } from '../harness.ts';
import { GRAPHILE_DONE_CHANNEL, GRAPHILE_OUTPUT_TABLE, type Peer, type PeerName } from './contract.ts';
import { startBullPeer } from './bullmq.ts';
import { startGraphilePeer } from './graphile.ts';

export interface PeerSetOptions {
  /** Default redis://127.0.0.1:6379; a loopback one that does not answer is started for the run. */
  redisUrl: string;
  /** A PostgreSQL where the bench may create and drop a database. */
  postgresUrl: string;
  log: (line: string) => void;
}

export interface PeerSet {
  /** One line for the report: the stores' versions and where they run. */
  readonly description: string;
  /** Starts the peer's worker process with `concurrency` slots, on a queue of its own named after the workload. */
  start(name: PeerName, o: { workload: string; concurrency: number }): Promise<Peer>;
  /** Stops the peers a workload left running (it broke before stopping them); called after every workload. */
  stopPeers(): Promise<void>;
  /** Stops what is left, deletes the BullMQ keys, drops the graphile-worker database, stops a Redis started here. */
  close(): Promise<void>;
}

const REDIS_START_MS = 10_000;

export async function createPeerSet(o: PeerSetOptions): Promise<PeerSet> {
  const redisServer = (await redisAnswers(o.redisUrl)) ? undefined : await startRedis(o.redisUrl, o.log);
  const prefix = `baton-bench-${process.pid}`;
  const database = `baton_bench_graphile_${process.pid}`;
  let dbUrl: string | undefined;
  try {
    const info = new Redis(o.redisUrl, { lazyConnect: true });
    await info.connect();
    const redisVersion = (await info.info('server')).match(/redis_version:(\S+)/)?.[1] ?? '?';
    await info.quit();
    dbUrl = await createDatabase(o.postgresUrl, database);
    const pgVersion = await prepareGraphile(dbUrl);
    const description =
      `Redis ${redisVersion} at ${o.redisUrl}${redisServer ? ' (started by the bench, no persistence)' : ''}, ` +
      `PostgreSQL ${pgVersion} (database ${database})`;
    const live = new Set<Peer>();
    const stopPeers = async () => {
      const peers = [...live];
      live.clear();
      await Promise.allSettled(peers.map((p) => p.stop()));
    };
    return {
      description,
      async start(name, s) {
        const peer = await (name === 'BullMQ'
          ? startBullPeer({ redisUrl: o.redisUrl, prefix, queue: s.workload, concurrency: s.concurrency })
          : startGraphilePeer({ databaseUrl: dbUrl!, concurrency: s.concurrency }));
        live.add(peer);
        return {
          ...peer,
          async stop() {
            live.delete(peer);
            await peer.stop();
          },
        };
      },
      stopPeers,
      async close() {
        await stopPeers();
        await cleanRedis(o.redisUrl, prefix).catch((err: unknown) =>
          o.log(`peers: cleaning Redis: ${String(err)}`),
        );
        await dropDatabase(o.postgresUrl, database);
        if (redisServer) await stop(redisServer);
      },
    };
  } catch (err) {
    if (dbUrl) await dropDatabase(o.postgresUrl, database);
    if (redisServer) await stop(redisServer);
    throw err;
  }
}

// ---- Redis ----

async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {}); // the answer is the point; a refused connection is "no"
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** `redis-server` on the URL's loopback port, without persistence, stopped by the set's close() or on exit. */
async function startRedis(url: string, log: (line: string) => void): Promise<ChildProcess> {
  const { hostname, port } = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname))
    throw new Error(
      `Redis at ${url} does not answer; start it, or point BATON_BENCH_REDIS_URL at one that does`,
    );
  const args = ['--port', port || '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  log(`peers: no Redis answers at ${url}; starting redis-server ${args.map((a) => a || "''").join(' ')}`);
  const child = track(spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] }), 'suite');
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const deadline = Date.now() + REDIS_START_MS;
  while (!(await redisAnswers(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop(child);
      throw new Error(`redis-server ${args.join(' ')} did not answer within ${REDIS_START_MS} ms: ${stderr}`);
    }
    await sleep(50);
  }
  return child;
}

async function cleanRedis(url: string, prefix: string): Promise<void> {
  const client = new Redis(url);
  try {
    const stream = client.scanStream({ match: `${prefix}:*`, count: 1000 });
    for await (const keys of stream as AsyncIterable<string[]>)
      if (keys.length > 0) await client.unlink(...keys);
  } finally {
    await client.quit();
  }
}

// ---- PostgreSQL ----

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  await withClient(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); // a run killed before its close()
    await c.query(`CREATE DATABASE ${name}`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/**
 * graphile-worker's schema, the bench's output table, and a trigger on graphile-worker's job table that tells
 * the bench when a job is done (its row deleted: graphile-worker deletes a completed job) or failed (its lock
 * released with an error), with the time of the transaction's statement. graphile-worker has no completion
 * event another process can follow, and its in-process `job:complete` fires before the deletion is committed.
 */
async function prepareGraphile(url: string): Promise<string> {
  await runMigrations({ connectionString: url, logger: undefined });
  return withClient(url, async (c) => {
    await c.query(`
      CREATE TABLE ${GRAPHILE_OUTPUT_TABLE} (
        job_id bigint NOT NULL,
        seq integer NOT NULL,
        chunk bytea NOT NULL,
        PRIMARY KEY (job_id, seq)
      );
      CREATE FUNCTION bench_job_done() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${GRAPHILE_DONE_CHANNEL}', json_build_object(
          'id', OLD.id::text,
          'atMs', extract(epoch FROM clock_timestamp()) * 1000)::text);
        RETURN NULL;
      END $$;
      CREATE FUNCTION bench_job_failed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${GRAPHILE_DONE_CHANNEL}', json_build_object(
          'id', NEW.id::text,
          'error', left(NEW.last_error, 2000))::text);
        RETURN NULL;
      END $$;
      CREATE TRIGGER bench_job_done AFTER DELETE ON graphile_worker._private_jobs
        FOR EACH ROW EXECUTE FUNCTION bench_job_done();
      CREATE TRIGGER bench_job_failed AFTER UPDATE ON graphile_worker._private_jobs
        FOR EACH ROW WHEN (NEW.last_error IS NOT NULL AND OLD.locked_at IS NOT NULL AND NEW.locked_at IS NULL)
        EXECUTE FUNCTION bench_job_failed();
    `);
    const { rows } = await c.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return rows[0]!.v.split(' ')[0]!;
  });
}
