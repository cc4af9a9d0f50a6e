// Issue 18, "Running locally": `baton run .github/workflows/x.yml` inside a checkout behaves as the job would on
// GitHub after `actions/checkout` — the checkout is the workspace (copied per task), hosted labels run on the
// embedded runner — and takes `--job`, `--secret NAME=…`, `--secret-file` as `act` users expect.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batonRun, batonRunJson, gitCheckout } from './run.ts';

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim();

describe('baton run inside a git checkout', () => {
  it('copies the checkout (uncommitted edits too) into each job, with its own .git on the same commit', async () => {
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: ./tool.sh
      - run: |
          echo "head=$(git rev-parse HEAD)"
          echo "branch=$(git branch --show-current)"
          echo "origin=$(git remote get-url origin)"
          git status --porcelain | sed 's/^/status:/'
          test ! -e build.log && echo "ignored files stay out"
          echo made > made-by-build.txt
  later:
    needs: build
    runs-on: [ubuntu-22.04]
    steps:
      - run: test ! -e made-by-build.txt && echo "a fresh copy for each job"
`,
      'tool.sh': '#!/bin/sh\necho "tool ran from the checkout"\n',
      '.gitignore': '*.log\n',
    });
    execFileSync('chmod', ['+x', join(dir, 'tool.sh')]);
    writeFileSync(join(dir, 'build.log'), 'ignored\n');
    writeFileSync(join(dir, 'notes.txt'), 'untracked but not ignored\n');
    writeFileSync(join(dir, '.gitignore'), '*.log\n# edited\n');
    const head = git(dir, 'rev-parse', 'HEAD');
    const before = git(dir, 'status', '--porcelain');

    const result = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('tool ran from the checkout');
    expect(result.stdout).toContain(`head=${head}`);
    expect(result.stdout).toContain('branch=main');
    expect(result.stdout).toContain('origin=https://github.com/octo-org/hello-world.git');
    expect(result.stdout).toContain('status: M .gitignore');
    expect(result.stdout).toContain('status:?? notes.txt');
    expect(result.stdout).toContain('ignored files stay out');
    expect(result.stdout).toContain('a fresh copy for each job');
    // The user's checkout is untouched.
    expect(existsSync(join(dir, 'made-by-build.txt'))).toBe(false);
    expect(git(dir, 'status', '--porcelain')).toBe(before);
  });

  it('--workspace empty starts each job in an empty directory; a native workflow does by default', async () => {
    const dir = gitCheckout({
      '.github/workflows/ci.yml': 'jobs:\n  a:\n    steps:\n      - run: echo "entries=$(ls -A | wc -l)"\n',
      'native.yml': 'tasks:\n  a:\n    steps:\n      - run: echo "entries=$(ls -A | wc -l)"\n',
    });
    const empty = await batonRun(['.github/workflows/ci.yml', '--workspace', 'empty'], { cwd: dir });
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toMatch(/entries=0\b/);
    const native = await batonRun(['native.yml'], { cwd: dir });
    expect(native.code, native.stderr).toBe(0);
    expect(native.stdout).toMatch(/entries=0\b/);
    const bad = await batonRun(['native.yml', '--workspace', 'home'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--workspace must be checkout or empty, got 'home'");
  });
});

describe('hosted labels and --labels', () => {
  const workflow = `jobs:
  gpu:
    runs-on: [self-hosted, gpu]
    steps:
      - run: echo "ran on the gpu box"
`;

  it('any runs-on runs on the embedded runner unless --labels restricts it', async () => {
    const dir = gitCheckout({ '.github/workflows/ci.yml': workflow });
    const result = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.run?.results.gpu?.status).toBe('succeeded');
  });

  it('a job the restricted local runner can never take fails the run at once, saying why', async () => {
    const dir = gitCheckout({ '.github/workflows/ci.yml': workflow });
    const result = await batonRun(['.github/workflows/ci.yml', '--labels', 'self-hosted,linux'], {
      cwd: dir,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "task 'gpu' can never run here: runner 'local' lacks label gpu (the task needs all of self-hosted, gpu); cancelling the run",
    );
    expect(result.stdout).not.toContain('ran on the gpu box');
  });
});

describe('--job, --secret and --secret-file', () => {
  const workflow = `jobs:
  setup:
    steps:
      - run: echo "setup ran"
  build:
    needs: setup
    steps:
      - run: echo "build ran with \${{ secrets.API_KEY }} and \${{ secrets.DB_PASS }}"
  docs:
    steps:
      - run: echo "docs ran"
`;

  it('--job runs the job and what it needs, nothing else; an unknown job is refused naming the jobs', async () => {
    const dir = gitCheckout({ '.github/workflows/ci.yml': workflow });
    const result = await batonRunJson(['.github/workflows/ci.yml', '--job', 'build'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(Object.keys(result.run?.results ?? {}).sort()).toEqual(['build', 'setup']);
    const unknown = await batonRun(['.github/workflows/ci.yml', '--job', 'deploy'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("the workflow has no job 'deploy'; its jobs are setup, build, docs");
  });

  it('secrets from NAME=value and a dotenv file reach the steps masked; a bad line is named', async () => {
    const dir = gitCheckout({ '.github/workflows/ci.yml': workflow });
    writeFileSync(join(dir, '.secrets'), '# local secrets\nDB_PASS="hunter2-db"\nAPI_KEY=from-file\n');
    const result = await batonRun(
      ['.github/workflows/ci.yml', '--secret-file', '.secrets', '--secret', 'API_KEY=s3cr3t-key'],
      { cwd: dir },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('build ran with *** and ***');
    expect(result.stdout).not.toContain('s3cr3t-key');
    expect(result.stdout).not.toContain('hunter2-db');
    writeFileSync(join(dir, '.secrets'), 'API_KEY=x\nnot a line\n');
    const bad = await batonRun(['.github/workflows/ci.yml', '--secret-file', '.secrets'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--secret-file .secrets: line 2 is not NAME=value');
    expect(readFileSync(join(dir, '.secrets'), 'utf8')).toContain('not a line');
  });
});
