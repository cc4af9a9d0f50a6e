// `baton validate` on GitHub workflows (issue 18): a `${{ }}` where the field is not evaluated would be used as
// literal text; each place is named with line:column. Evaluated fields per "Contexts", context availability.
import { describe, expect, it } from 'vitest';
import { batonRun, gitCheckout } from './run.ts';
import { batonValidate } from './validate.ts';

describe('GitHub fields where ${{ }} would be taken literally, through baton validate', () => {
  it('refuses them with line:column, and baton run refuses the workflow before anything runs', async () => {
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  build:
    defaults:
      run:
        shell: bash -e \${{ env.FLAGS }} {0}
    steps:
      - name: Lint \${{ env.WHAT }}
        run: echo "should-not-run"
`,
    });
    const res = await batonValidate(['.github/workflows/ci.yml'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(
      ".github/workflows/ci.yml:6:16: 'jobs.build.defaults.run.shell' holds ${{ }}, but Baton does not evaluate this field, so 'bash -e ${{ env.FLAGS }} {0}' would be used as written",
    );
    // A step's display name is only shown: a warning, not a refusal.
    expect(res.stderr).toContain(
      ".github/workflows/ci.yml:8:15: warning: 'jobs.build.steps[0].name' holds ${{ }}, which Baton does not evaluate in a step's name (GitHub does)",
    );
    const run = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stdout).not.toMatch(/^.*should-not-run\s*$/m);
  });
});
