// `uses:` steps compiled into Baton steps ("Workflow syntax": jobs.<id>.steps[*].uses; "Metadata syntax for
// GitHub Actions": inputs, outputs, runs for composite and JavaScript actions, pre, pre-if, post, post-if).
import { describe, expect, it } from 'vitest';
import type { ActionFiles } from './action-files.ts';
import { parseUses } from './action-files.ts';
import { compileWorkflow } from './compile.ts';

function job(steps: string): string {
  return `on: push\njobs:\n  a:\n    steps:\n${steps}`;
}

function compile(steps: string, actions: Record<string, string>) {
  const files: ActionFiles = Object.fromEntries(
    Object.entries(actions).map(([dir, text]) => [dir, { file: 'action.yml', text }]),
  );
  return compileWorkflow(job(steps), { actions: files });
}

function steps(steps: string, actions: Record<string, string>) {
  const result = compile(steps, actions);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.plan.tasks[0]!.steps;
}

function messages(steps: string, actions: Record<string, string>): string[] {
  const result = compile(steps, actions);
  return result.ok ? [] : result.issues.map((issue) => `${issue.line}:${issue.column}: ${issue.message}`);
}

const NODE = `inputs:
  who:
    required: true
runs:
  using: node20
  pre: pre.js
  pre-if: runner.os == 'Linux'
  main: dist/index.js
  post: post.js
`;

describe('uses: steps compiled into steps', () => {
  it('reads uses: as GitHub does', () => {
    expect(parseUses('./a/b/')).toEqual({ kind: 'local', dir: 'a/b' });
    expect(parseUses('./')).toEqual({ kind: 'local', dir: '' });
    expect(parseUses('actions/checkout@v4')).toEqual({ kind: 'checkout', ref: 'v4' });
    expect(parseUses('octo/repo/sub/dir@main')).toEqual({
      kind: 'remote',
      name: 'octo/repo/sub/dir',
      ref: 'main',
    });
    expect(parseUses('docker://alpine')).toEqual({ kind: 'docker', image: 'alpine' });
    expect(parseUses('./../outside').kind).toBe('invalid');
    expect(parseUses('octo/repo').kind).toBe('invalid');
  });

  it("puts node actions' pre steps first and their posts last, the later action's post first", () => {
    const compiled = steps(
      '      - id: one\n        uses: ./n\n        with: { who: a }\n      - run: echo middle\n      - id: two\n        uses: ./n\n        with: { who: b }\n',
      { n: NODE },
    );
    expect(compiled.map((step) => step.name)).toEqual([
      'one/pre',
      'two/pre',
      'one',
      'step-2',
      'two',
      'two/post',
      'one/post',
    ]);
    const [pre, , , , main, post] = compiled;
    expect(pre).toMatchObject({ if: "runner.os == 'Linux'", actionPath: 'n', env: { INPUT_WHO: 'a' } });
    expect(main).toMatchObject({ actionPath: 'n', env: { INPUT_WHO: 'b' } });
    expect(main!.run).toContain(`"$BATON_NODE" "$GITHUB_ACTION_PATH"/'dist/index.js'`);
    // "runs.post-if" defaults to always(); a post runs only for an action whose main step ran.
    expect(post!.if).toBe("(always()) && steps['two'].outcome != 'skipped'");
  });

  it("gives a composite action's steps the caller's condition, env and continue-on-error", () => {
    const compiled = steps(
      "      - id: c\n        if: runner.os == 'Linux'\n        continue-on-error: true\n        env: { A: '1' }\n        uses: ./c\n",
      {
        c: "runs:\n  using: composite\n  steps:\n    - shell: bash\n      if: always()\n      env: { B: '2' }\n      run: echo\n",
      },
    );
    // The caller's `if` is decided once, by the action's first step; the action's steps then ask whether it ran.
    expect(compiled[0]).toMatchObject({ name: 'c/(start)', if: "runner.os == 'Linux'" });
    expect(compiled[1]).toMatchObject({
      name: 'c/1',
      if: "steps['c/(start)'].outcome == 'success' && (always())",
      env: { A: '1', B: '2' },
      continueOnError: true,
    });
    // The caller's record: skipped when the action did not start, failed when one of its steps failed.
    expect(compiled[2]).toMatchObject({
      name: 'c',
      if: "!cancelled() && steps['c/(start)'].outcome == 'success'",
      env: { BATON_ACTION_FAILED: "${{ steps['c/1'].outcome == 'failure' }}" },
      continueOnError: true,
    });
  });

  it('reports problems inside an action at the uses: that brought it in, with the line and column in its file', () => {
    expect(
      messages('      - uses: ./c\n', {
        c: 'runs:\n  using: composite\n  steps:\n    - run: echo ${{ inputs }}\n      shell: bash\n',
      }),
    ).toEqual([
      "5:15: c/action.yml:4:12: invalid expression: a composite action reads 'inputs' one name at a time (inputs.<name>), not as a whole at position 1 in 'inputs' (in the action './c' used by step 1 of job 'a')",
    ]);
    expect(messages('      - uses: ./gone\n', {})).toEqual([
      "5:15: step 1 of job 'a' uses './gone': no action.yml or action.yaml in 'gone' came with the workflow; baton run, submit and validate send the action files of 'uses: ./…' steps, read relative to the repository root (the git top-level of the workflow file)",
    ]);
    expect(messages('      - uses: ./n\n', { n: 'runs:\n  using: node16\n  main: a.js\n' })).toEqual([
      "5:15: n/action.yml:2:10: 'runs.using: node16' is not supported: GitHub no longer runs node16 actions; change runs.using to node20 or node24 (in the action './n' used by step 1 of job 'a')",
    ]);
  });

  it('refuses a uses: step that also has run or shell, and a checkout of another repository', () => {
    expect(messages('      - uses: ./c\n        run: echo\n', { c: NODE })).toContainEqual(
      expect.stringContaining(
        "unknown key 'run' in step 1 of job 'a'; a step has either 'run' or 'uses', not both",
      ),
    );
    expect(
      messages('      - uses: actions/checkout@v4\n        with:\n          repository: octo/other\n', {}),
    ).toEqual([
      "5:15: step 1 of job 'a' uses 'actions/checkout@v4': checking out another repository ('with: repository') is not supported: Baton does not fetch (no network); the workspace is this repository's checkout",
    ]);
  });

  it('names the steps of two callers with one display name apart', () => {
    const action = { s: 'runs:\n  using: composite\n  steps:\n    - { id: x, shell: bash, run: echo }\n' };
    const names = steps(
      '      - name: Setup\n        uses: ./s\n      - name: Setup\n        uses: ./s\n',
      action,
    ).map((step) => step.name);
    expect(names).toEqual([
      'Setup/(start)',
      'Setup/x',
      'Setup',
      'Setup (2)/(start)',
      'Setup (2)/x',
      'Setup (2)',
    ]);
  });

  it('refuses a with: key that cannot become an INPUT_ variable', () => {
    expect(messages('      - uses: ./n\n        with:\n          "a=b": x\n', { n: NODE })).toContainEqual(
      "7:11: input name 'a=b' in 'with' of step 1 of job 'a' is not valid; use letters, digits, _, -, . and spaces, starting with a letter or _",
    );
  });

  it('refuses an action file over the size limit, naming the limit', () => {
    const big = `runs:\n  using: composite\n  steps: []\n#${'x'.repeat(262144)}\n`;
    expect(messages('      - uses: ./big\n', { big })).toEqual([
      `5:15: big/action.yml: action file is ${big.length} bytes; the limit is 262144 bytes (256 KiB) per action file (in the action './big' used by step 1 of job 'a')`,
    ]);
  });

  it('counts the steps actions add against the steps-per-task limit', () => {
    const many = `runs:\n  using: composite\n  steps:\n${'    - { shell: bash, run: echo }\n'.repeat(60)}`;
    const result = compileWorkflow(job('      - uses: ./m\n      - uses: ./m\n'), {
      actions: { m: { file: 'action.yml', text: many } },
      limits: { maxStepsPerTask: 100 },
    });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues[0]!.message).toBe(
        "job 'a' has 124 steps once its actions are expanded; the limit is 100 steps per task",
      );
  });
});
