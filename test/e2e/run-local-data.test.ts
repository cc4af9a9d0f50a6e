// Issue 19: `baton run` keeps the run's artifacts (./baton-artifacts/<run-id>/ or --artifacts DIR) and says
// where; --keep-data keeps the embedded server's data; killed with SIGTERM it kills its steps and leaves no
// temp dir (which holds the embedded server's master key) behind.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

async function baton(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const p = startTracked(`baton ${args[0]}`, process.execPath, [BIN, ...args], { cwd, env });
  let stdout = '';
  let stderr = '';
  p.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  p.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return { code: (await p.exited).code, stdout, stderr };
}

const WITH_UPLOADS = `name: report
tasks:
  build:
    run: echo "<h1>ok</h1>" > report.html
    uploads: [report.html]
`;

describe('what baton run keeps', () => {
  it('saves artifacts under ./baton-artifacts/<run-id>/ or --artifacts, and keeps data with --keep-data', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'report.yml'), WITH_UPLOADS);
    const first = await baton(['run', 'report.yml', '--json'], dir);
    expect(first.code, first.stderr).toBe(0);
    const id = (JSON.parse(first.stdout) as { id: string }).id;
    expect(first.stderr).toContain(`artifacts: 1 saved in ${join(dir, 'baton-artifacts', id)}`);
    expect(readdirSync(join(dir, 'baton-artifacts', id))).toEqual(['build-uploads.zip']);

    const elsewhere = join(dir, 'out');
    const data = join(dir, 'kept');
    const second = await baton(['run', 'report.yml', '--artifacts', elsewhere, '--keep-data', data], dir);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`artifacts: 1 saved in ${elsewhere}`);
    expect(readdirSync(elsewhere)).toEqual(['build-uploads.zip']);
    expect(second.stderr).toContain(`data kept in ${data}`);
    expect(existsSync(join(data, 'baton.db'))).toBe(true);

    writeFileSync(join(dir, 'quiet.yml'), 'tasks:\n  t:\n    run: "true"\n');
    const quiet = await baton(['run', 'quiet.yml'], dir);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain('artifacts:');
  });

  it(
    'SIGTERM kills the steps and removes the temp dir with the master key',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      const tmp = tempDir('baton-tmpdir-');
      const seconds = `299.${process.pid}${Date.now() % 100000}`;
      writeFileSync(join(dir, 'slow.yml'), `tasks:\n  slow:\n    run: echo started; sleep ${seconds}\n`);
      const p = startTracked('baton run', process.execPath, [BIN, 'run', 'slow.yml'], {
        cwd: dir,
        env: { ...process.env, TMPDIR: tmp },
      });
      let stdout = '';
      const started = new Promise<void>((resolve) =>
        p.child.stdout?.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes('| started')) resolve();
        }),
      );
      await started;
      expect(readdirSync(tmp).filter((n) => n.startsWith('baton-run-'))).toHaveLength(1);
      p.child.kill('SIGTERM');
      const { code } = await p.exited;
      expect(code).toBe(1);
      expect(readdirSync(tmp).filter((n) => n.startsWith('baton-run-'))).toEqual([]);
      const alive = (() => {
        try {
          return execFileSync('pgrep', ['-f', `sleep ${seconds}`], { encoding: 'utf8' }).trim();
        } catch {
          return '';
        }
      })();
      expect(alive).toBe('');
    },
  );
});
