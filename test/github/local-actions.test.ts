// GitHub workflows using local actions through `baton run` (issue 18, "Local actions"). Each expectation is
// what GitHub documents in "Metadata syntax for GitHub Actions" (inputs, outputs, runs for composite and
// JavaScript actions, pre/post), "Workflow syntax" (jobs.<id>.steps[*].uses and with) and "Contexts"
// (github.action_path, steps.<id>.outputs).
//
// Until `baton run` copies the checkout into each task's workspace (the lead's "checkout as the workspace"
// change), a step sees an empty workspace: the node action's scripts are written into it by a run step first,
// and are also in the repository, where the CLI checks them.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BATON_BIN, batonRun, batonRunJson, gitCheckout } from './run.ts';

/** `baton validate FILE` in `cwd`: its exit code and output. */
async function batonValidate(
  file: string,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BATON_BIN, 'validate', file], {
      cwd,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const WORKFLOW = '.github/workflows/ci.yml';

const GREET = `name: greet
description: says hello
inputs:
  who:
    description: whom to greet
    default: world
  greeting:
    default: Hello
outputs:
  message:
    description: the greeting
    value: \${{ steps.say.outputs.text }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      run: echo "text=\${{ inputs.greeting }}, \${{ inputs.who }}" >> "$GITHUB_OUTPUT"
    - name: skipped by its condition
      if: inputs.who == 'nobody'
      shell: bash
      run: echo "never printed"
    - shell: bash
      env:
        WHERE: \${{ github.action_path }}
      working-directory: sub
      run: |
        echo "composite cwd $(basename "$PWD"), action path $GITHUB_ACTION_PATH, same $WHERE"
        echo "caller env $CALLER"
`;

describe('local actions through baton run', () => {
  it('runs a composite action with inputs, defaults and outputs, as "Metadata syntax" describes', async () => {
    const dir = gitCheckout({
      [WORKFLOW]: `on: push
jobs:
  build:
    outputs:
      greeting: \${{ steps.hi.outputs.message }}
    steps:
      - id: hi
        uses: ./.github/actions/greet
        env:
          CALLER: from the workflow step
        with:
          who: Mona
      - id: plain
        uses: ./.github/actions/greet
      - run: echo "first '\${{ steps.hi.outputs.message }}' second '\${{ steps.plain.outputs.message }}'"
`,
      '.github/actions/greet/action.yml': GREET,
    });
    const json = await batonRunJson([WORKFLOW], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    // "outputs.<output_id>.value" of a composite action becomes steps.<caller id>.outputs.<output_id>.
    expect(json.run?.results.build).toMatchObject({
      status: 'succeeded',
      outputs: { greeting: 'Hello, Mona' },
    });
    const live = await batonRun([WORKFLOW], { cwd: dir });
    expect(live.code, live.stderr).toBe(0);
    // An input without `with:` takes its `default`.
    expect(live.stdout).toContain("first 'Hello, Mona' second 'Hello, world'");
    expect(live.stdout).not.toContain('never printed');
    // github.action_path / GITHUB_ACTION_PATH: the action's directory; working-directory and the caller's env apply.
    expect(live.stdout).toMatch(
      /composite cwd sub, action path \/\S+\/\.github\/actions\/greet, same \/\S+\/\.github\/actions\/greet/,
    );
    expect(live.stdout).toContain('caller env from the workflow step');
  });

  it("runs nested composite actions, passing an output of one step as the next action's input", async () => {
    const dir = gitCheckout({
      [WORKFLOW]: `on: push
jobs:
  build:
    steps:
      - id: outer
        uses: ./actions/outer
        with:
          word: nested
      - run: echo "outer result \${{ steps.outer.outputs.result }}"
`,
      'actions/outer/action.yml': `inputs:
  word:
    required: true
outputs:
  result:
    value: \${{ steps.in.outputs.shout }}
runs:
  using: composite
  steps:
    - id: up
      shell: bash
      run: echo "upper=$(echo '\${{ inputs.word }}' | tr a-z A-Z)" >> "$GITHUB_OUTPUT"
    - id: in
      uses: ./actions/inner
      with:
        text: \${{ steps.up.outputs.upper }}
`,
      'actions/inner/action.yml': `inputs:
  text: {}
outputs:
  shout:
    value: \${{ steps.s.outputs.v }}!
runs:
  using: composite
  steps:
    - id: s
      shell: sh
      run: echo "v=\${{ inputs.text }}" >> "$GITHUB_OUTPUT"
`,
    });
    const live = await batonRun([WORKFLOW], { cwd: dir });
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toContain('outer result NESTED!');
  });

  it("decides a composite action's steps by the action's own failures, and its outcome by them", async () => {
    const dir = gitCheckout({
      [WORKFLOW]: `on: push
jobs:
  build:
    steps:
      - run: exit 4
      - id: after
        if: always()
        uses: ./flaky
      - if: always()
        run: echo "after outcome \${{ steps.after.outcome }} conclusion \${{ steps.after.conclusion }}"
      - id: tolerant
        if: always()
        continue-on-error: true
        uses: ./flaky
      - if: always()
        run: echo "tolerant outcome \${{ steps.tolerant.outcome }} conclusion \${{ steps.tolerant.conclusion }}"
      - id: never
        uses: ./flaky
      - if: always()
        run: echo "never outcome \${{ steps.never.outcome }}"
`,
      'flaky/action.yml': `runs:
  using: composite
  steps:
    - shell: bash
      run: echo "flaky ran"
    - shell: bash
      run: exit 2
    - shell: bash
      run: echo "not after a failure"
    - if: always()
      shell: bash
      run: echo "cleanup ran"
`,
    });
    const live = await batonRun([WORKFLOW], { cwd: dir });
    expect(live.code).toBe(1);
    const out = live.stdout;
    // The caller's `if: always()` lets the action start after the job failed; inside it, a step without a
    // status function runs only while the action's own steps succeed ("Metadata syntax": runs.steps[*].if).
    expect(out.match(/flaky ran/g)).toHaveLength(2);
    expect(out).not.toContain('not after a failure');
    expect(out.match(/cleanup ran/g)).toHaveLength(2);
    // "Contexts", steps.<id>.outcome / conclusion: continue-on-error makes the conclusion success.
    expect(out).toContain('after outcome failure conclusion failure');
    expect(out).toContain('tolerant outcome failure conclusion success');
    expect(out).toContain('never outcome skipped');
  });

  it('refuses composite actions nested past the depth limit, naming the limit and the chain', async () => {
    const dir = gitCheckout({
      [WORKFLOW]: `on: push
jobs:
  build:
    steps:
      - uses: ./loop
`,
      'loop/action.yml': `runs:
  using: composite
  steps:
    - uses: ./loop
`,
    });
    const run = await batonRun([WORKFLOW], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `${WORKFLOW}:5:15: step 1 of the action './loop' uses './loop': composite actions nest more than 10 levels deep (./loop → ./loop`,
    );
    expect(run.stderr).toContain('the limit is 10 levels');
  });

  it("refuses a composite action's run step without 'shell', at its line and column in action.yml", async () => {
    const dir = gitCheckout({
      [WORKFLOW]: `on: push
jobs:
  build:
    steps:
      - uses: ./noshell
`,
      'noshell/action.yml': `runs:
  using: composite
  steps:
    - run: echo hi
`,
    });
    // From a subdirectory: the action is found relative to the repository root, not the current directory.
    const validated = await batonValidate(`../${WORKFLOW}`, `${dir}/noshell`);
    expect(validated.code).toBe(2);
    expect(validated.stderr).toContain('noshell/action.yml:4:7: step 1 of the action needs');
    const run = await batonRun([WORKFLOW], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `${WORKFLOW}:5:15: noshell/action.yml:4:7: step 1 of the action needs 'shell'`,
    );
  });

  it('runs a node action with INPUT_ variables, its outputs, and posts in reverse order after a failure', async () => {
    const main = `const fs = require('node:fs');
const who = process.env['INPUT_WHO YOU ARE'.replace(/ /g, '_').toUpperCase()];
console.log('main of ' + who + ' in a ' + process.env.INPUT_MOOD + ' mood on node ' + process.versions.node);
console.log('action path ' + process.env.GITHUB_ACTION_PATH);
fs.appendFileSync(process.env.GITHUB_OUTPUT, 'said=hi from ' + who + '\\n');
`;
    const post = `console.log('post of ' + process.env.INPUT_WHO_YOU_ARE);\n`;
    const indent = (text: string) => text.replace(/^(?=.)/gm, '          ');
    const dir = gitCheckout({
      [WORKFLOW]: `on: push
jobs:
  build:
    steps:
      - name: put the action's scripts into the workspace
        run: |
          mkdir -p act/node
          cat > act/node/main.js <<'JS'
${indent(main)}          JS
          cat > act/node/post.js <<'JS'
${indent(post)}          JS
      - id: first
        uses: ./act/node
        with:
          who you are: Ada
      - id: second
        uses: ./act/node
        with:
          who you are: Grace
          mood: calm
      - run: echo "outputs '\${{ steps.first.outputs.said }}' '\${{ steps.second.outputs.said }}'"
      - run: exit 3
      - run: echo "not reached"
`,
      'act/node/action.yml': `name: node action
inputs:
  who you are:
    required: true
  mood:
    default: happy
runs:
  using: node24
  main: main.js
  post: post.js
`,
      'act/node/main.js': main,
      'act/node/post.js': post,
    });
    const live = await batonRun([WORKFLOW], { cwd: dir });
    expect(live.code).toBe(1);
    const out = live.stdout;
    // INPUT_<NAME>: upper case, spaces as '_'; a default applies when `with:` does not give the input.
    expect(out).toContain(`main of Ada in a happy mood on node ${process.versions.node}`);
    expect(out).toContain('main of Grace in a calm mood');
    expect(out).toMatch(/action path \/\S+\/act\/node/);
    expect(out).toContain("outputs 'hi from Ada' 'hi from Grace'");
    expect(out).not.toContain('not reached');
    // Post steps run after a failed step too, the later action's first ("runs.post").
    const posts = [out.indexOf('post of Grace'), out.indexOf('post of Ada')];
    expect(posts[0]).toBeGreaterThan(out.indexOf("outputs 'hi from Ada'"));
    expect(posts[1]).toBeGreaterThan(posts[0]!);
  });

  it('warns about a required input without a value and runs the action all the same', async () => {
    const dir = gitCheckout({
      [WORKFLOW]: `on: push
jobs:
  build:
    steps:
      - uses: ./needy
`,
      'needy/action.yml': `inputs:
  token:
    required: true
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "token is '\${{ inputs.token }}'"
`,
    });
    const live = await batonRun([WORKFLOW], { cwd: dir });
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toContain('Input required and not supplied: token');
    expect(live.stdout).toContain("token is ''");
  });

  it('treats actions/checkout of the workspace as done, with a notice', async () => {
    const dir = gitCheckout({
      [WORKFLOW]: `on: push
jobs:
  build:
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - run: echo checked
`,
    });
    const live = await batonRun([WORKFLOW], { cwd: dir });
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toContain(
      "actions/checkout@v4: the workspace already is this repository's checkout; nothing to fetch",
    );
    expect(live.stdout).toContain('checked');
  });

  it('refuses remote and Docker actions at validation, with the name, why, and line:column', async () => {
    const dir = gitCheckout({
      [WORKFLOW]: `on: push
jobs:
  build:
    steps:
      - uses: actions/setup-node@v4
      - uses: docker://alpine:3.20
      - uses: ./docker-action
`,
      'docker-action/action.yml': `runs:
  using: docker
  image: Dockerfile
`,
    });
    const run = await batonRun([WORKFLOW], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `${WORKFLOW}:5:15: step 1 of job 'build' uses 'actions/setup-node@v4': actions from other repositories are not supported: Baton does not download 'actions/setup-node'`,
    );
    expect(run.stderr).toContain(
      `${WORKFLOW}:6:15: step 2 of job 'build' uses 'docker://alpine:3.20': Docker actions are not supported`,
    );
    expect(run.stderr).toContain(
      `${WORKFLOW}:7:15: docker-action/action.yml:2:10: 'runs.using: docker' is not supported: Docker container actions are not supported`,
    );
  });

  // "Metadata syntax": runs.pre runs at the job's start; "Workflow commands", sending values to the pre and
  // post actions: state saved with GITHUB_STATE is the action's own, read as STATE_<name> by its main and post.
  it('a node action pre step runs first from the checkout, and its saved state reaches main and post', async () => {
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  build:
    steps:
      - run: echo "first job step"
      - uses: ./tools/stateful
`,
      'tools/stateful/action.yml': `name: stateful
runs:
  using: node20
  pre: pre.js
  main: main.js
  post: post.js
`,
      'tools/stateful/pre.js':
        "require('fs').appendFileSync(process.env.GITHUB_STATE, 'token=from-pre\\n');\nconsole.log('pre ran');\n",
      'tools/stateful/main.js':
        "console.log('main sees ' + process.env.STATE_token);\nrequire('fs').appendFileSync(process.env.GITHUB_STATE, 'pid=4242\\n');\n",
      'tools/stateful/post.js':
        "console.log('post sees ' + process.env.STATE_token + ' and ' + process.env.STATE_pid);\n",
    });
    const result = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const out = result.stdout;
    expect(out.indexOf('pre ran')).toBeGreaterThan(-1);
    expect(out.indexOf('pre ran')).toBeLessThan(out.indexOf('first job step'));
    expect(out).toContain('main sees from-pre');
    expect(out).toContain('post sees from-pre and 4242');
  });
});
