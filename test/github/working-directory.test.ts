// `working-directory` of GitHub steps and `defaults.run` through `baton run` (issue 18). "Workflow syntax for
// GitHub Actions": jobs.<job_id>.steps[*].working-directory and defaults.run accept expressions ("Contexts",
// context availability: matrix, env, runner, … for steps[*].working-directory; env, matrix for defaults.run).
import { describe, expect, it } from 'vitest';
import { batonRun, gitCheckout } from './run.ts';
import { batonValidate } from './validate.ts';

describe('GitHub working-directory, through baton run', () => {
  it('evaluates ${{ }} in a step working-directory, once per matrix combination', async () => {
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  build:
    strategy:
      matrix:
        d: [app, lib]
    steps:
      - working-directory: \${{ matrix.d }}
        run: echo "in=$(basename "$PWD") parent-has-literal=$(ls -a .. | grep -c '{' || true)"
`,
    });
    const res = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('in=app parent-has-literal=0');
    expect(res.stdout).toContain('in=lib parent-has-literal=0');
  });

  it('evaluates ${{ }} in defaults.run.working-directory, and a step working-directory replaces it', async () => {
    // "Workflow syntax", defaults.run: the default working-directory applies to every run step of the job;
    // a step's own working-directory is used instead of it.
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  build:
    env:
      SUB: pkg
    defaults:
      run:
        working-directory: \${{ env.SUB }}/inner
    steps:
      - run: echo "default=$(basename "$(dirname "$PWD")")/$(basename "$PWD")"
      - working-directory: other
        run: echo "own=$(basename "$PWD")"
`,
    });
    const res = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('default=pkg/inner');
    expect(res.stdout).toContain('own=other');
  });

  it('accepts an absolute working-directory, literal or from an expression', async () => {
    // "Workflow syntax", steps[*].working-directory: any directory; ${{ runner.temp }} is absolute ("Contexts",
    // runner.temp: "The path to a temporary directory on the runner").
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  build:
    steps:
      - working-directory: /usr
        run: echo "abs=$PWD"
      - working-directory: \${{ runner.temp }}
        run: test "$PWD" = "$RUNNER_TEMP" && echo "temp-ok"
`,
    });
    const res = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('abs=/usr');
    expect(res.stdout).toContain('temp-ok');
  });

  it('fails the step when an evaluated relative path climbs out of the work dir, or an absolute one is missing', async () => {
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  up:
    env:
      UP: ../..
    steps:
      - working-directory: \${{ env.UP }}/etc
        run: echo "escaped"
  missing:
    steps:
      - working-directory: /no/such/dir-\${{ env.X }}
        run: echo "ran-missing"
`,
    });
    const res = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(res.code).not.toBe(0);
    const all = res.stdout + res.stderr;
    expect(all).toContain("working directory '../../etc' is outside the task's work dir");
    expect(all).toContain(
      "working directory '/no/such/dir-' does not exist or is not a directory; an absolute working directory outside the task's work dir is used as it is and never created",
    );
    expect(all).not.toMatch(/^.*(escaped|ran-missing)\s*$/m);
  });

  it('refuses a literal relative working-directory that climbs out, naming line:column', async () => {
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  build:
    steps:
      - working-directory: ../outside
        run: echo hi
`,
    });
    const res = await batonValidate(['.github/workflows/ci.yml'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(
      ".github/workflows/ci.yml:5:28: 'working-directory' of step 1 of job 'build': '../outside' climbs out of the task's work dir with '..'",
    );
  });
});
