// Job ids (issue 18), GitHub's rule from "Workflow syntax for GitHub Actions", jobs.<job_id>: "The <job_id> must
// start with a letter or _ and contain only alphanumeric characters, -, or _."
import { describe, expect, it } from 'vitest';
import { batonRun, batonRunJson, gitCheckout } from './run.ts';
import { batonValidate } from './validate.ts';

const workflow = (ids: string[]) =>
  `on: push\njobs:\n${ids.map((id) => `  ${id}:\n    steps:\n      - run: echo "job ${id.replace(/"/g, '')}"\n`).join('')}`;

describe('GitHub job ids, through baton run and baton validate', () => {
  it('runs jobs whose ids use letters, digits, - and _ and start with a letter or _', async () => {
    // "Workflow syntax", jobs.<job_id>: `_private`, `build-2` and `Test_it` are all valid ids.
    const dir = gitCheckout({ '.github/workflows/ci.yml': workflow(['_private', 'build-2', 'Test_it']) });
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    expect(Object.keys(json.run?.results ?? {}).sort()).toEqual(['Test_it', '_private', 'build-2']);
    expect(Object.values(json.run?.results ?? {}).map((r) => r.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
  });

  it('refuses ids that start with a digit or - or hold a dot, naming each with its line:column and the rule', async () => {
    // "Workflow syntax", jobs.<job_id>: an id starting with a digit, or holding '.', is not valid on GitHub.
    const dir = gitCheckout({ '.github/workflows/ci.yml': workflow(['ok', '2build', 'deploy.prod', '-x']) });
    const res = await batonValidate(['.github/workflows/ci.yml'], { cwd: dir });
    expect(res.code).toBe(2);
    const rule = 'a job id must start with a letter or _ and contain only letters, digits, - and _';
    expect(res.stderr).toContain(`.github/workflows/ci.yml:6:3: job id '2build' is not valid; ${rule}`);
    expect(res.stderr).toContain(`.github/workflows/ci.yml:9:3: job id 'deploy.prod' is not valid; ${rule}`);
    expect(res.stderr).toContain(`.github/workflows/ci.yml:12:3: job id '-x' is not valid; ${rule}`);
    expect(res.stderr).not.toContain("'ok'");
    // Nothing runs: baton run refuses the workflow with the same issues.
    const run = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("job id '2build' is not valid");
    expect(run.stdout).not.toContain('job ok');
  });
});
