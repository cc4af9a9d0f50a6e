// `baton runner pool` as a real process for tests: started against a server process, its status read from
// its private directory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PoolStatus } from '../../src/runner/pool.ts';
import { type ServerProcess } from './cluster.ts';
import { BIN } from './fault-cluster.ts';
import { startTracked, type TrackedChild } from './processes.ts';
import { tempDir } from './temp.ts';

export interface PoolProcess {
  proc: TrackedChild;
  dir: string;
  output: () => string;
  status: () => PoolStatus | undefined;
}

/**
 * `baton runner pool --size <size>`. `parent`: where its dir is made (default a temp dir; steps get a private
 * /tmp, so pass a step-visible one to prove the pool hides its dir by itself).
 */
export function startPool(
  server: ServerProcess,
  size: number,
  extraArgs: string[] = [],
  parent = tempDir('baton-pool-'),
): PoolProcess {
  const dir = join(parent, 'pool');
  const proc = startTracked(
    'runner pool',
    process.execPath,
    [BIN, 'runner', 'pool', '--server', server.url, '--size', String(size), '--dir', dir, ...extraArgs],
    // The token in the pool's environment, as a service manager would put it: no task may read it there.
    { env: { ...process.env, BATON_RUNNER_REGISTRATION_TOKEN: server.registrationToken } },
    true,
  );
  let text = '';
  proc.child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  proc.child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return {
    proc,
    dir,
    output: () => text,
    status: () => {
      try {
        return JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as PoolStatus;
      } catch {
        return undefined;
      }
    },
  };
}
