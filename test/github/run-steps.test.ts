// GitHub workflows through `baton run` (issue 18): the run-step basics every later bullet builds on.
import { describe, expect, it } from 'vitest';
import { batonRun, batonRunJson, gitCheckout } from './run.ts';

describe('a GitHub workflow of run steps, through baton run', () => {
  it('runs jobs with needs and passes a job output on, as GitHub does', async () => {
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  build:
    outputs:
      version: \${{ steps.v.outputs.version }}
    steps:
      - id: v
        run: echo "version=1.2.3" >> "$GITHUB_OUTPUT"
  test:
    needs: build
    steps:
      - run: echo "testing \${{ needs.build.outputs.version }}"
`,
    });
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    expect(json.run?.results.build).toMatchObject({ status: 'succeeded', outputs: { version: '1.2.3' } });
    const live = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toContain('testing 1.2.3');
  });
});
