import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { makeTask, runCollected } from './test-support.ts';

describe('runTask: shells, scripts and working directories', () => {
  it('runs bash, sh, python, node and a custom template, each as its own script file', async () => {
    const task = makeTask([
      { shell: 'bash', run: 'echo "bash $BASH_VERSION" | cut -c1-4; echo "file=$0"' },
      { shell: 'sh', run: 'echo sh-ran' },
      { shell: 'python', run: 'import sys\nprint("python", sys.version_info[0])' },
      { shell: 'node', run: 'const os = require("node:os");\nconsole.log("node", typeof os.cpus)' },
      { shell: 'perl {0}', run: 'print "perl-ran\\n";' },
    ]);
    const { outcome, output } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.status).toBe('succeeded');
    expect(output).toContain('bash\n');
    expect(output).toMatch(/file=\/.*\.baton\/step-1-[0-9a-f]{8}\.sh\n/);
    expect(output).toContain('sh-ran\n');
    expect(output).toContain('python 3\n');
    expect(output).toContain('node function\n');
    expect(output).toContain('perl-ran\n');
  });

  it('runs a CommonJS node step under a work root inside an ESM package', async () => {
    const pkg = tempDir();
    writeFileSync(join(pkg, 'package.json'), '{"type":"module"}\n');
    const workRoot = join(pkg, 'work');
    const task = makeTask([
      { run: 'echo plain' },
      { shell: 'node', run: 'const os = require("node:os");\nconsole.log("cjs", typeof os.cpus)' },
      { shell: 'node', run: 'console.log("again", typeof require)' },
    ]);
    const { outcome, output } = await runCollected(task, { workRoot });
    expect(outcome.status).toBe('succeeded');
    expect(output).toContain('cjs function\n');
    expect(output).toContain('again function\n');
  });

  it('runs bash with pipefail, so a failing command inside a pipe fails the step', async () => {
    const { outcome } = await runCollected(makeTask([{ run: 'false | cat\necho not reached' }]), {
      workRoot: tempDir(),
    });
    expect(outcome.status).toBe('failed');
  });

  it('never interprets task or step names: an injection attempt creates no file', async () => {
    const root = tempDir();
    const evil = 'x"; touch PWNED; echo "';
    const task = makeTask([{ name: evil, run: 'echo "$BATON_STEP_NAME"' }], { name: evil });
    const { outcome, output } = await runCollected(task, { workRoot: root });
    expect(outcome.status).toBe('succeeded');
    expect(output).toBe(`${evil}\n`);
    expect(outcome.steps[0]?.name).toBe(evil);
    expect(existsSync(join(root, 'PWNED'))).toBe(false);
    expect(existsSync(join(process.cwd(), 'PWNED'))).toBe(false);
    expect(readdirSync(root)).toEqual([]);
  });

  it('runs in the task and step working directories, creating them', async () => {
    const task = makeTask([{ run: 'pwd', workingDirectory: 'src/pkg/a' }, { run: 'pwd' }], {
      workingDirectory: 'src',
    });
    const { outcome, output } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.status).toBe('succeeded');
    expect(output).toMatch(/\/build-[0-9a-f]{8}\/src\/pkg\/a\n.*\/build-[0-9a-f]{8}\/src\n$/);
  });

  it('refuses a working directory outside the work dir as a setup failure', async () => {
    const task = makeTask([{ name: 'escape', run: 'touch escaped', workingDirectory: '../..' }]);
    const { outcome } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'setup_failed' });
    expect(outcome.message).toBe("step 'escape': working directory '../..' is outside the task's work dir");
  });

  it('refuses a working directory that leaves the work dir through a symlink an earlier step made', async () => {
    const outside = tempDir();
    const task = makeTask([
      { run: `ln -s ${outside} link` },
      { name: 'follow', run: 'touch escaped', workingDirectory: 'link/new' },
    ]);
    const { outcome } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'setup_failed' });
    expect(outcome.message).toMatch(/through a symlink/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('fails with spawn_failed when the shell is not installed', async () => {
    const task = makeTask([{ name: 'ps', shell: 'pwsh-not-here {0}', run: 'Write-Output hi' }]);
    const { outcome } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'spawn_failed', exitCode: null });
    expect(outcome.message).toMatch(/step 'ps' could not start: shell 'pwsh-not-here' is not installed/);
  });

  it("explains E2BIG when the runner's own environment is too large for the kernel", async () => {
    // The task's variables are held to Baton's limits before this (env-limits.test.ts); the runner's own are not.
    const task = makeTask([{ name: 'big', run: 'true' }, { run: 'true' }]);
    const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HUGE: 'x'.repeat(200_000) };
    const { outcome } = await runCollected(task, { workRoot: tempDir(), baseEnv });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'spawn_failed' });
    expect(outcome.message).toBe(
      "step 'big' could not start: the environment or arguments are too large for the kernel (E2BIG)",
    );
    expect(outcome.steps.map((s) => s.status)).toEqual(['failed', 'skipped']);
  });
});
