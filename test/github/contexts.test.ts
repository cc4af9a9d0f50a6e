// GitHub contexts and default variables through `baton run` (issue 18, "Contexts"), each checked against
// docs.github.com: "Contexts" (github, vars, job, strategy, runner, env, inputs) and "Variables" ("Default
// environment variables").
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServerProcess, startRunnerProcess } from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { BATON_BIN, batonRun, batonRunJson, gitCheckout } from './run.ts';

/** A one-job workflow whose step writes `name=value` outputs; the job exports them all. */
function outputsWorkflow(on: string, lines: Record<string, string>, extra = ''): string {
  const names = Object.keys(lines);
  return `on: ${on}
${extra}jobs:
  probe:
    outputs:
${names.map((n) => `      ${n}: \${{ steps.p.outputs.${n} }}`).join('\n')}
    steps:
      - id: p
        run: |
${names.map((n) => `          echo "${n}=${lines[n]}" >> "$GITHUB_OUTPUT"`).join('\n')}
`;
}

describe('the github context and GITHUB_* variables, from the local checkout', () => {
  it('fills github.* from git and the origin remote, and sets the same GITHUB_* variables in each step', async () => {
    // "Contexts" > "github context": sha, ref, ref_name, ref_type, repository, repository_owner, event_name, job,
    // workflow, server_url, api_url, graphql_url. "Variables" > "Default environment variables": GITHUB_* mirror them,
    // CI and GITHUB_ACTIONS are true.
    const fields = ['sha', 'ref', 'ref_name', 'ref_type', 'repository', 'repository_owner', 'event_name'];
    const more = ['job', 'workflow', 'server_url', 'api_url', 'graphql_url', 'run_attempt', 'token'];
    const lines: Record<string, string> = {};
    for (const f of [...fields, ...more]) lines[`ctx_${f}`] = `\${{ github.${f} }}`;
    for (const f of fields) lines[`env_${f}`] = `$GITHUB_${f.toUpperCase()}`;
    Object.assign(lines, {
      env_job: '$GITHUB_JOB',
      env_workflow: '$GITHUB_WORKFLOW',
      env_ci: '$CI',
      env_actions: '$GITHUB_ACTIONS',
      env_server: '$GITHUB_SERVER_URL',
      env_api: '$GITHUB_API_URL',
      env_graphql: '$GITHUB_GRAPHQL_URL',
      env_action: '$GITHUB_ACTION',
      ws_same: '${{ github.workspace == env.NOTHING }}',
      ws_env: '$([ "$GITHUB_WORKSPACE" = "$PWD" ] && echo cwd)',
      run_id_same: '$([ "$GITHUB_RUN_ID" = "${{ github.run_id }}" ] && echo same)',
      run_number: '${{ github.run_number }}',
      env_run_number: '$GITHUB_RUN_NUMBER',
      env_attempt: '$GITHUB_RUN_ATTEMPT',
      workflow_ref: '${{ github.workflow_ref }}',
      env_workflow_ref: '$GITHUB_WORKFLOW_REF',
      workflow_sha: '$([ "$GITHUB_WORKFLOW_SHA" = "${{ github.sha }}" ] && echo same)',
    });
    const dir = gitCheckout(
      { '.github/workflows/ci.yml': outputsWorkflow('push', lines, 'name: CI\n') },
      { remote: 'git@github.com:octo-org/hello-world.git', branch: 'feature/x' },
    );
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir }).toString().trim();
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    const o = json.run!.results.probe!.outputs;
    const expected = {
      sha,
      ref: 'refs/heads/feature/x',
      ref_name: 'feature/x',
      ref_type: 'branch',
      repository: 'octo-org/hello-world',
      repository_owner: 'octo-org',
      event_name: 'push',
    };
    for (const [field, value] of Object.entries(expected)) {
      expect(o[`ctx_${field}`], field).toBe(value);
      expect(o[`env_${field}`], field).toBe(value);
    }
    expect(o).toMatchObject({
      ctx_job: 'probe',
      env_job: 'probe',
      ctx_workflow: 'CI',
      env_workflow: 'CI',
      ctx_server_url: 'https://github.com',
      env_server: 'https://github.com',
      ctx_api_url: 'https://api.github.com',
      env_api: 'https://api.github.com',
      ctx_graphql_url: 'https://api.github.com/graphql',
      env_graphql: 'https://api.github.com/graphql',
      ctx_run_attempt: '1',
      env_attempt: '1',
      ctx_token: '',
      env_ci: 'true',
      env_actions: 'true',
      // "GITHUB_ACTION: … the id of a step"
      env_action: 'p',
      ws_same: 'false',
      ws_env: 'cwd',
      run_id_same: 'same',
      run_number: '1',
      env_run_number: '1',
      // github.workflow_ref: "The ref path to the workflow", owner/repo/path@ref.
      workflow_ref: 'octo-org/hello-world/.github/workflows/ci.yml@refs/heads/feature/x',
      env_workflow_ref: 'octo-org/hello-world/.github/workflows/ci.yml@refs/heads/feature/x',
      workflow_sha: 'same',
    });
  });

  it('writes the event payload to GITHUB_EVENT_PATH and reads --event-file as github.event', async () => {
    // "Contexts" > github.event: "The full event webhook payload"; "Variables": GITHUB_EVENT_PATH is "the path to the
    // file on the runner that contains the full event webhook payload".
    const dir = gitCheckout({
      '.github/workflows/pr.yml': outputsWorkflow('[push, pull_request]', {
        number: '${{ github.event.pull_request.number }}',
        title: '${{ github.event.pull_request.title }}',
        from_file: '$(node -e "console.log(require(process.env.GITHUB_EVENT_PATH).pull_request.head.ref)")',
        event: '${{ github.event_name }}',
        // github.head_ref/base_ref: "only available when the event … is either pull_request or pull_request_target".
        refs: '${{ github.head_ref }}>${{ github.base_ref }},$GITHUB_HEAD_REF>$GITHUB_BASE_REF',
        path_same: '$([ "$GITHUB_EVENT_PATH" = "${{ github.event_path }}" ] && echo same)',
        // github.workflow: "If the workflow file doesn't specify a name, … the full path of the workflow file".
        workflow: '${{ github.workflow }}',
      }),
    });
    const payload = {
      pull_request: {
        number: 42,
        title: 'Add a feature',
        head: { ref: 'feature-branch' },
        base: { ref: 'main' },
      },
    };
    writeFileSync(join(dir, 'event.json'), JSON.stringify(payload));
    const json = await batonRunJson(
      ['.github/workflows/pr.yml', '--event', 'pull_request', '--event-file', 'event.json'],
      { cwd: dir },
    );
    expect(json.code, json.stderr).toBe(0);
    expect(json.run!.results.probe!.outputs).toEqual({
      number: '42',
      title: 'Add a feature',
      from_file: 'feature-branch',
      event: 'pull_request',
      refs: 'feature-branch>main,feature-branch>main',
      path_same: 'same',
      workflow: '.github/workflows/pr.yml',
    });
  });

  it('builds a push payload from the checkout: github.event.head_commit and after are the commit', async () => {
    // "Events that trigger workflows" > push: the payload's `after` is the pushed commit, head_commit its details.
    const dir = gitCheckout({
      '.github/workflows/ci.yml': outputsWorkflow('push', {
        after_is_sha: '${{ github.event.after == github.sha }}',
        message: '${{ github.event.head_commit.message }}',
        repo: '${{ github.event.repository.full_name }}',
      }),
    });
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    expect(json.run!.results.probe!.outputs).toEqual({
      after_is_sha: 'true',
      message: 'initial',
      repo: 'octo-org/hello-world',
    });
  });

  it('refuses an event the workflow does not run on, naming it and the events it lists', async () => {
    const dir = gitCheckout({ '.github/workflows/ci.yml': outputsWorkflow('push', { a: 'b' }) });
    const result = await batonRun(['.github/workflows/ci.yml', '--event', 'pull_request'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("the workflow does not run on 'pull_request': its 'on' lists push");
  });

  it('runs outside a git checkout with empty git facts', async () => {
    const dir = gitCheckout({
      '.github/workflows/ci.yml': outputsWorkflow('push', { sha: '[${{ github.sha }}]' }),
    });
    execFileSync('rm', ['-rf', join(dir, '.git')]);
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    expect(json.run!.results.probe!.outputs).toEqual({ sha: '[]' });
  });
});

describe('the vars, job, strategy, runner and env contexts', () => {
  it('reads vars from --var and --var-file, the flag winning', async () => {
    // "Contexts" > "vars context": configuration variables; an unset one is an empty string.
    const dir = gitCheckout({
      '.github/workflows/ci.yml': outputsWorkflow(
        'push',
        { region: '${{ vars.REGION }}', stage: '${{ vars.STAGE }}', unset: '[${{ vars.UNSET }}]' },
        'env:\n  FROM_VARS: ${{ vars.STAGE }}\n',
      ),
      '.vars': 'REGION=eu-west-1\nSTAGE=from-file\n',
    });
    const json = await batonRunJson(
      ['.github/workflows/ci.yml', '--var-file', '.vars', '--var', 'STAGE=prod'],
      { cwd: dir },
    );
    expect(json.code, json.stderr).toBe(0);
    expect(json.run!.results.probe!.outputs).toEqual({ region: 'eu-west-1', stage: 'prod', unset: '[]' });
  });

  it('refuses a var name GitHub refuses, naming it', async () => {
    const dir = gitCheckout({ '.github/workflows/ci.yml': outputsWorkflow('push', { a: 'b' }) });
    const result = await batonRun(['.github/workflows/ci.yml', '--var', 'GITHUB_X=1'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("var name 'GITHUB_X' is not valid");
  });

  it('gives strategy.job-index, job-total, fail-fast and max-parallel from the matrix', async () => {
    // "Contexts" > "strategy context": fail-fast, job-index (zero-based), job-total, max-parallel.
    const dir = gitCheckout({
      '.github/workflows/m.yml': `on: push
jobs:
  m:
    strategy:
      fail-fast: false
      max-parallel: 2
      matrix:
        n: [a, b, c]
    outputs:
      r: \${{ steps.s.outputs.r }}
    steps:
      - id: s
        run: echo "r=\${{ matrix.n }}:\${{ strategy.job-index }}/\${{ strategy.job-total }}:\${{ strategy.fail-fast }}:\${{ strategy.max-parallel }}" >> "$GITHUB_OUTPUT"
  single:
    outputs:
      r: \${{ steps.s.outputs.r }}
    steps:
      - id: s
        run: echo "r=\${{ strategy.job-index }}/\${{ strategy.job-total }}:\${{ strategy.fail-fast }}:\${{ strategy.max-parallel }}" >> "$GITHUB_OUTPUT"
`,
    });
    const json = await batonRunJson(['.github/workflows/m.yml'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    const results = json.run!.results;
    const values = Object.values(results).map((r) => r.outputs.r);
    expect(values.sort()).toEqual(['0/1:true:1', 'a:0/3:false:2', 'b:1/3:false:2', 'c:2/3:false:2']);
  });

  it('has job.status follow the steps, and runner.os, arch, temp and tool_cache with RUNNER_* beside them', async () => {
    // "Contexts" > "job context": job.status is success, failure or cancelled; "runner context": os is Linux,
    // macOS or Windows, arch X86, X64, ARM or ARM64; temp and tool_cache are directories.
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  probe:
    outputs:
      before: \${{ steps.a.outputs.s }}
      after: \${{ steps.c.outputs.s }}
      runner: \${{ steps.r.outputs.r }}
    steps:
      - id: a
        run: echo "s=\${{ job.status }}" >> "$GITHUB_OUTPUT"
      - id: r
        run: |
          echo "r=\${{ runner.os }},\${{ runner.arch }},$RUNNER_OS,$RUNNER_ARCH,$([ -d "\${{ runner.tool_cache }}" ] && [ "$RUNNER_TOOL_CACHE" = "\${{ runner.tool_cache }}" ] && echo tool),$([ "$RUNNER_TEMP" = "\${{ runner.temp }}" ] && echo temp)" >> "$GITHUB_OUTPUT"
      - run: exit 3
        continue-on-error: false
      - id: c
        if: always()
        run: echo "s=\${{ job.status }}" >> "$GITHUB_OUTPUT"
`,
    });
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.code).toBe(1);
    const probe = json.run!.results.probe!;
    expect(probe.status).toBe('failed');
    expect(probe.outputs.before).toBe('success');
    expect(probe.outputs.after).toBe('failure');
    const arch = { x64: 'X64', arm64: 'ARM64', arm: 'ARM', ia32: 'X86' }[process.arch as string];
    expect(probe.outputs.runner).toBe(`Linux,${arch},Linux,${arch},tool,temp`);
  });

  it("keeps the runner's own environment out of the env context, as GitHub does", async () => {
    // "Contexts" > "env context": variables set in the workflow, job or step (and by GITHUB_ENV), not the
    // runner machine's; GITHUB_* defaults are variables, not env context entries.
    const dir = gitCheckout({
      '.github/workflows/ci.yml': outputsWorkflow(
        'push',
        {
          home_ctx: '[${{ env.HOME }}]',
          sha_ctx: '[${{ env.GITHUB_SHA }}]',
          mine: '${{ env.MINE }}',
          home_var: '$([ -n "$HOME" ] && echo set)',
        },
        'env:\n  MINE: workflow-level\n',
      ),
    });
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    expect(json.run!.results.probe!.outputs).toEqual({
      home_ctx: '[]',
      sha_ctx: '[]',
      mine: 'workflow-level',
      home_var: 'set',
    });
  });

  it('reads github and vars in a job-level if', async () => {
    // "Contexts" > "Context availability": jobs.<job_id>.if may read github, needs, vars and inputs.
    const dir = gitCheckout({
      '.github/workflows/ci.yml': `on: push
jobs:
  on_main:
    if: github.ref == 'refs/heads/main' && vars.DEPLOY == 'yes'
    steps:
      - run: echo deploying
  elsewhere:
    if: github.ref_name != 'main'
    steps:
      - run: echo never
`,
    });
    const json = await batonRunJson(['.github/workflows/ci.yml', '--var', 'DEPLOY=yes'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    expect(json.run!.results.on_main!.status).toBe('succeeded');
    expect(json.run!.results.elsewhere!.status).toBe('skipped');
  });
});

describe('baton submit', () => {
  it('sends the checkout, event and vars to a server whose runner is a separate process', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'elsewhere');
    const dir = gitCheckout({
      '.github/workflows/ci.yml': outputsWorkflow('[push, release]', {
        repo: '${{ github.repository }}',
        event: '${{ github.event_name }}:${{ github.event.release.tag_name }}',
        var: '${{ vars.STAGE }}',
        env_repo: '$GITHUB_REPOSITORY',
      }),
    });
    writeFileSync(join(dir, 'release.json'), JSON.stringify({ release: { tag_name: 'v2.0.0' } }));
    const submit = startTracked(
      'baton submit',
      process.execPath,
      [
        BATON_BIN,
        'submit',
        '.github/workflows/ci.yml',
        '--server',
        server.url,
        '--token',
        server.adminToken,
        '--event',
        'release',
        '--event-file',
        'release.json',
        '--var',
        'STAGE=qa',
        '--follow',
        '--json',
      ],
      { cwd: dir },
    );
    let out = '';
    submit.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    submit.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    expect((await submit.exited).code, out).toBe(0);
    const run = JSON.parse(out) as { results: Record<string, { outputs: Record<string, string> }> };
    expect(run.results.probe!.outputs).toEqual({
      repo: 'octo-org/hello-world',
      event: 'release:v2.0.0',
      var: 'qa',
      env_repo: 'octo-org/hello-world',
    });
  });
});
