// Issue 19: a runner's token and key are never written into a git work tree without a warning — the next
// `git add -A` would commit them. Git-ignored files and directories outside any work tree get none.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

async function register(
  server: ServerProcess,
  config: string,
): Promise<{ code: number | null; output: string }> {
  const env = { ...process.env };
  delete env.BATON_SERVER;
  const p = startTracked(
    'baton runner register',
    process.execPath,
    [
      BIN,
      'runner',
      'register',
      '--server',
      server.url,
      '--registration-token',
      server.registrationToken,
      '--config',
      config,
    ],
    { env },
  );
  let output = '';
  p.child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  p.child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { code: (await p.exited).code, output };
}

function gitRepo(): string {
  const dir = tempDir('baton-repo-');
  execFileSync('git', ['init', '-q', dir]);
  return dir;
}

describe('runner state and git work trees', () => {
  it(
    'warns when the config and state land in a work tree that does not ignore them',
    { timeout: 120_000 },
    async () => {
      const server = await startServerProcess();
      const repo = gitRepo();
      const inside = await register(server, join(repo, 'ci', 'runner.json'));
      expect(inside.code, inside.output).toBe(0);
      expect(inside.output).toContain(`inside the git work tree ${repo}`);
      expect(inside.output).toContain('ci/runner.json');
      expect(inside.output).toContain('a `git add` would commit them');

      const ignoring = gitRepo();
      writeFileSync(join(ignoring, '.gitignore'), 'runner.json\n.baton-state/\n');
      const ignored = await register(server, join(ignoring, 'runner.json'));
      expect(ignored.code, ignored.output).toBe(0);
      expect(ignored.output).not.toContain('warning');

      const outside = await register(server, join(tempDir('baton-plain-'), 'runner.json'));
      expect(outside.code, outside.output).toBe(0);
      expect(outside.output).not.toContain('warning');
    },
  );
});
