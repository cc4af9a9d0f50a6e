// Server replicas sharing one PostgreSQL schema: each a real `baton server --database` process with the same
// tokens and master key, on its own ephemeral port and data dir, and the schema dropped at the end.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { onTestFinished } from 'vitest';
import { createClient } from '../../src/client/index.ts';
import { generateToken } from '../../src/server/tokens.ts';
import { waitForOutput, type ServerProcess } from './cluster.ts';
import { startTracked } from './processes.ts';
import { tempDir } from './temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

export interface ReplicaSet {
  /** The schema-scoped database URL every replica uses. */
  database: string;
  schema: string;
  query(text: string): Promise<pg.QueryResult>;
  start(label: string, extraArgs?: string[]): Promise<ServerProcess>;
}

export async function replicaSet(baseUrl: string): Promise<ReplicaSet> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  onTestFinished(async () => {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const adminToken = generateToken('user');
  const registrationToken = generateToken('registration');
  const masterKey = randomBytes(32).toString('base64');
  // One blob directory for every replica, as a shared volume serves them in production: artifacts and task
  // logs written through one replica are read through another.
  const blobDir = tempDir('baton-blobs-');
  return {
    database: url.toString(),
    schema,
    query: (text) => admin.query(text),
    async start(label, extraArgs = []) {
      const dataDir = tempDir(`baton-${label}-`);
      const args = [
        BIN,
        'server',
        '--port',
        '0',
        '--data-dir',
        dataDir,
        '--blob-dir',
        blobDir,
        '--database',
        url.toString(),
        '--log-level',
        'warn',
        ...extraArgs,
      ];
      const env = {
        ...process.env,
        BATON_ADMIN_TOKEN: adminToken,
        BATON_RUNNER_REGISTRATION_TOKEN: registrationToken,
        BATON_MASTER_KEY: masterKey,
      };
      const proc = startTracked(label, process.execPath, args, { env }, true);
      let out = '';
      proc.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      proc.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      const m = await waitForOutput(proc, () => out, /listening on (http:\/\/\S+)/, `${label} listened`);
      return {
        url: m[1]!,
        adminToken,
        registrationToken,
        dataDir,
        proc,
        output: () => out,
        client: createClient({ baseUrl: m[1]!, token: adminToken }),
      };
    },
  };
}
