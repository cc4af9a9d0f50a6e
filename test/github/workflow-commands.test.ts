// Workflow commands on a step's stdout (issue 18), through `baton run` as a real process. Each case follows
// docs.github.com "Workflow commands for GitHub Actions" (the section is named in each test).
import { describe, expect, it } from 'vitest';
import { batonRun, batonRunJson, gitCheckout } from './run.ts';

interface Annotated {
  annotations?: Array<Record<string, unknown>>;
}

function workflow(steps: string, env = ''): Record<string, string> {
  return { '.github/workflows/ci.yml': `on: push\n${env}jobs:\n  build:\n    steps:\n${steps}` };
}

describe('workflow commands, through baton run', () => {
  // "Masking a value in a log": `::add-mask::{value}`; the value is replaced by `*` in later output.
  it('masks a value added with ::add-mask:: in every later line, of this step and the next', async () => {
    const dir = gitCheckout(
      workflow(`      - run: |
          echo "::add-mask::tok-9f8e7d6c5b"
          echo "first tok-9f8e7d6c5b"
      - run: echo "second tok-9f8e7d6c5b"
`),
    );
    const live = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toContain('first ***');
    expect(live.stdout).toContain('second ***');
    expect(live.stdout).not.toContain('tok-9f8e7d6c5b');
  });

  // "Stopping and starting workflow commands": commands between ::stop-commands::TOKEN and ::TOKEN:: are not
  // processed; "Setting an output parameter" (deprecated set-output) after it is.
  it('ignores fake commands after ::stop-commands:: until the token comes back', async () => {
    const dir = gitCheckout(
      workflow(`      - id: s
        run: |
          echo "::stop-commands::resume-4711"
          echo "::set-output name=fake::yes"
          echo "::error::not an annotation"
          echo "::resume-4711::"
          echo "::set-output name=real::yes"
`),
    );
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    const build = json.run?.results.build as unknown as { outputs: Record<string, string> } & Annotated;
    expect(build.outputs).toEqual({ real: 'yes' });
    expect((build.annotations ?? []).filter((a) => a.level === 'error')).toEqual([]);
    const live = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(live.stdout).toContain('::set-output name=fake::yes');
    expect(live.stdout).toContain('::error::not an annotation');
  });

  // "Setting an error message", "Setting a warning message", "Setting a notice message": annotations with
  // file, line, col, endLine, endColumn and title; shown on the run (API) and in the CLI's summary.
  it('records ::error::, ::warning:: and ::notice:: as annotations on the run', async () => {
    const dir = gitCheckout(
      workflow(`      - name: lint
        run: |
          echo "::error file=app.js,line=10,col=15,endColumn=18,title=Syntax%3A bad::Missing semicolon"
          echo "::warning file=lib.js,line=2,endLine=4::Deprecated call"
          echo "::notice::Build took 3%25 longer"
`),
    );
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    const build = json.run?.results.build as unknown as Annotated;
    expect(build.annotations).toEqual([
      {
        level: 'error',
        message: 'Missing semicolon',
        step: 'lint',
        title: 'Syntax: bad',
        file: 'app.js',
        line: 10,
        col: 15,
        endColumn: 18,
      },
      { level: 'warning', message: 'Deprecated call', step: 'lint', file: 'lib.js', line: 2, endLine: 4 },
      { level: 'notice', message: 'Build took 3% longer', step: 'lint' },
    ]);
    const live = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toContain('Error: Missing semicolon');
    expect(live.stdout).toMatch(
      /annotations:\n {2}Error build \(lint\) app\.js:10:15: Syntax: bad: Missing semicolon/,
    );
  });

  // "Grouping log lines": ::group::/::endgroup:: fold the lines between them.
  it('prints a group as a titled block with its lines under it', async () => {
    const dir = gitCheckout(
      workflow(`      - run: |
          echo "::group::Install"
          echo "inside the group"
          echo "::endgroup::"
          echo "after the group"
`),
    );
    const live = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(live.code, live.stderr).toBe(0);
    // Under the step's header when its report came first (lines indented under it), else flush: either way
    // the group's lines are two further in than its title, and the line after it back at the title's depth.
    expect(live.stdout).toMatch(/\|( *)▸ Install\n.*\|\1 {2}inside the group\n.*\|\1after the group/);
    expect(live.stdout).not.toContain('::group::');
  });

  // "Setting a debug message": shown only when ACTIONS_STEP_DEBUG is true ("Enabling debug logging").
  it('shows ::debug:: messages only with ACTIONS_STEP_DEBUG=true', async () => {
    const dir = gitCheckout(workflow(`      - run: echo "::debug::the details"\n`));
    const quiet = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).not.toContain('the details');
    const debug = await batonRun(['.github/workflows/ci.yml'], {
      cwd: dir,
      env: { ACTIONS_STEP_DEBUG: 'true' },
    });
    expect(debug.stdout).toContain('Debug: the details');
    // Or as a configuration variable ("Enabling debug logging": a secret or variable ACTIONS_STEP_DEBUG).
    const asVar = await batonRun(['.github/workflows/ci.yml', '--var', 'ACTIONS_STEP_DEBUG=true'], {
      cwd: dir,
    });
    expect(asVar.stdout).toContain('Debug: the details');
  });

  // GitHub still honours `::set-output` and `::save-state` with a deprecation warning (changelog 2022-10-11).
  it('honours the deprecated ::set-output:: with its deprecation warning', async () => {
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  build:
    outputs:
      version: \${{ steps.v.outputs.version }}
    steps:
      - id: v
        run: echo "::set-output name=version::2.0.1"
      - run: echo "step saw \${{ steps.v.outputs.version }}"
  use:
    needs: build
    steps:
      - run: echo "job saw \${{ needs.build.outputs.version }}"
`,
    });
    const live = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toContain('step saw 2.0.1');
    expect(live.stdout).toContain('job saw 2.0.1');
    expect(live.stdout).toContain(
      'Warning: The `set-output` command is deprecated and will be disabled soon.',
    );
  });

  // "Setting an environment variable"/"Adding a system path": the set-env and add-path commands are disabled
  // unless the step sets ACTIONS_ALLOW_UNSECURE_COMMANDS=true; a disabled one fails the step with an error.
  it('fails a step that uses ::set-env:: without ACTIONS_ALLOW_UNSECURE_COMMANDS, and honours it with', async () => {
    const refused = gitCheckout(workflow(`      - run: echo "::set-env name=COLOR::red"\n`));
    const no = await batonRunJson(['.github/workflows/ci.yml'], { cwd: refused });
    expect(no.code).toBe(1);
    expect(no.run?.results.build?.status).toBe('failed');
    const annotations = (no.run?.results.build as unknown as Annotated).annotations ?? [];
    expect(annotations.map((a) => a.message)).toContain(
      "Unable to process command '::set-env name=COLOR::red' successfully.",
    );
    const allowed = gitCheckout(
      workflow(
        `      - run: |
          mkdir -p "$RUNNER_TEMP/bin" && printf '#!/bin/sh\\necho tool-ran\\n' > "$RUNNER_TEMP/bin/mytool" && chmod +x "$RUNNER_TEMP/bin/mytool"
          echo "::set-env name=COLOR::red"
          echo "::add-path::$RUNNER_TEMP/bin"
      - run: |
          echo "color=$COLOR"
          mytool
`,
        'env:\n  ACTIONS_ALLOW_UNSECURE_COMMANDS: true\n',
      ),
    );
    const yes = await batonRun(['.github/workflows/ci.yml'], { cwd: allowed });
    expect(yes.code, yes.stdout + yes.stderr).toBe(0);
    expect(yes.stdout).toContain('color=red');
    expect(yes.stdout).toContain('tool-ran');
  });

  // "Using secrets in GitHub Actions": secrets are redacted in logs; an annotation is shown beside the log, so it
  // is masked too (and an ::add-mask:: value added after it, when the task ends).
  it('masks secrets and add-mask values in annotations', async () => {
    const dir = gitCheckout(
      workflow(`      - name: leak
        env:
          TOKEN: \${{ secrets.DEPLOY_TOKEN }}
        run: |
          echo "::warning title=uses $TOKEN::token is $TOKEN and later-mask-77"
          echo "::add-mask::later-mask-77"
`),
    );
    const json = await batonRunJson(['.github/workflows/ci.yml', '--secret', 'DEPLOY_TOKEN'], {
      cwd: dir,
      env: { DEPLOY_TOKEN: 'dt-5b1e0c9a77f3' },
    });
    expect(json.code, json.stderr).toBe(0);
    const build = json.run?.results.build as unknown as Annotated;
    expect(build.annotations).toEqual([
      { level: 'warning', message: 'token is *** and ***', step: 'leak', title: 'uses ***' },
    ]);
    expect(json.stdout).not.toContain('dt-5b1e0c9a77f3');
  });
});
