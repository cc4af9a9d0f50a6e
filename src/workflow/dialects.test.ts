// The Harness, BountyHub and GitHub Actions dialects compile to the same plans as the native
// format; the scripts the compiler generates are run with real shells.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan, StepSpec, TaskSpec } from '../protocol/plan.ts';
import { compileWorkflow } from './index.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

function plan(text: string, fileName?: string): Plan {
  const result = compileWorkflow(text, fileName === undefined ? {} : { fileName });
  if (!result.ok) throw new Error(`expected a plan, got ${JSON.stringify(result.issues, null, 2)}`);
  return result.plan;
}

function task(p: Plan, name: string): TaskSpec {
  const found = p.tasks.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no task '${name}'`);
  return found;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Runs a generated step with a real shell in a fresh directory; returns stdout and the output file. */
function runStep(
  step: StepSpec,
  env: Record<string, string> = {},
): { stdout: string; outputFile: string; status: number | null } {
  const dir = mkdtempSync(join(tmpdir(), 'baton-dialect-'));
  dirs.push(dir);
  const script = join(dir, 'script');
  const outputFile = join(dir, 'output');
  writeFileSync(script, step.run);
  writeFileSync(outputFile, '');
  const argv =
    step.shell === 'bash'
      ? ['bash', '--noprofile', '--norc', '-eo', 'pipefail', script]
      : ['sh', '-e', script];
  const ran = spawnSync(argv[0]!, argv.slice(1), {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', BATON_OUTPUT: outputFile, ...env },
    encoding: 'utf8',
  });
  return { stdout: ran.stdout, outputFile: readFileSync(outputFile, 'utf8'), status: ran.status };
}

/** The BATON_OUTPUT file format: name=value lines and name<<DELIMITER blocks. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc !== null) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      outputs[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('='))
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
  }
  return outputs;
}

describe('Harness task group', () => {
  it('compiles the sample of the Harness document with its exports and imports', () => {
    const p = plan(fixture('harness-sample.yml'), 'harness-sample.yml');
    expect(p.dialect).toBe('harness');
    expect(p.tasks.map((t) => t.name)).toEqual(['foo', 'bar']);
    expect(task(p, 'foo').exports).toEqual([{ name: 'password', confidential: true, scope: 'local' }]);
    expect(task(p, 'bar')).toMatchObject({
      dependsOn: ['foo'],
      imports: [{ from: 'foo', variable: 'password', as: 'password' }],
      env: { key: 'value' },
    });
    expect(task(p, 'bar').steps[0]?.env).toEqual({ HARNESS_ARG_1: '${{ tasks.foo.outputs.password }}' });
    // Every Harness task gets OUTPUT_FILE; a native task does not.
    expect(p.tasks.map((t) => t.outputFile)).toEqual([true, true]);
    expect(plan('tasks:\n  a: { steps: [{ run: echo }] }\n').tasks[0]?.outputFile).toBeUndefined();
  });

  it('compiles an expression task (and its upstream spelling) to a typed task with no steps', () => {
    const p = plan(
      `
taskGroup:
  - { name: foo, type: os_exec, spec: { command: x }, exports: [user] }
  - name: a
    type: expression
    depends_on: [foo]
    spec: { expression: "format('{0}!', tasks.foo.outputs.user)" }
    exports: [{ name: result, scope: global }]
  - { name: b, type: expression_evalation, spec: { expression: '\${{ run.name }}' } }
`,
    );
    expect(task(p, 'a')).toMatchObject({
      type: 'expression',
      steps: [],
      driverSpec: { expression: "format('{0}!', tasks.foo.outputs.user)" },
    });
    expect(task(p, 'a').outputFile).toBeUndefined();
    expect(task(p, 'b')).toMatchObject({ type: 'expression', driverSpec: { expression: '${{ run.name }}' } });
  });

  it("runs a script as upstream does (sh -c): past a failing line, with the last command's status", () => {
    const p = plan(`
taskGroup:
  - name: foo
    type: os_exec
    spec:
      command: |
        secret=curl https://vault.invalid/v1/secret;
        echo "after: [\${secret-unset}]"
        false
    exports: [secret]
  - { name: ok, type: os_exec, spec: { command: "false; echo fine" } }
`);
    const failing = runStep(task(p, 'foo').steps[0]!, {});
    expect(failing.stdout).toBe('after: [unset]\n');
    expect(failing.status).toBe(1);
    const ok = runStep(task(p, 'ok').steps[0]!, {});
    expect(ok).toMatchObject({ stdout: 'fine\n', status: 0 });
  });

  it('runs an argv command as exactly its words, whatever the template value holds', () => {
    const p = plan(`
taskGroup:
  - { name: foo, type: os_exec, spec: { command: echo }, exports: [token] }
  - name: bar
    type: os_exec
    depends_on: [foo]
    spec:
      command: [printf, '%s|', "it's", 'pre-{{ .foo.token }}-post', '', '\${{ run.name }}']
`);
    const step = task(p, 'bar').steps[0]!;
    expect(step.shell).toBe('sh');
    expect(step.env).toEqual({
      HARNESS_ARG_1: '${{ tasks.foo.outputs.token }}',
      HARNESS_ARG_2: '${{ run.name }}',
    });
    const hostile = `it's "$(touch pwned)" \`id\` $HOME`;
    const { stdout } = runStep(step, { HARNESS_ARG_1: hostile, HARNESS_ARG_2: "'; id" });
    expect(stdout).toBe(`it's|pre-${hostile}-post||'; id|`);
  });

  it('copies exported shell variables to BATON_OUTPUT unless the script wrote them', () => {
    const p = plan(`
taskGroup:
  - name: vault
    type: os_exec
    spec:
      command: |
        password="two
        lines"
        echo "version=2" >> "$BATON_OUTPUT"
        version=ignored
    exports:
      - { name: password, confidential: true }
      - version
      - unset_one
`);
    const outputs = parseOutputs(runStep(task(p, 'vault').steps[0]!).outputFile);
    expect(outputs).toEqual({ version: '2', password: 'two\nlines' });
  });

  it('translates {{ .task.variable }} in a script and envs, and takes forward.to', () => {
    const p = plan(`
forward: { to: edge-runner }
taskGroup:
  - name: foo
    type: os_exec
    spec: { command: echo hi }
    exports: [{ name: token }]
  - name: bar
    type: os_exec
    forward: { to: vault-runner }
    depends_on: foo
    spec:
      command: 'curl -H "Authorization: {{ .foo.token }}" https://example.com'
      envs: { TOKEN: '{{.foo.token}}' }
`);
    expect(task(p, 'foo').forwardTo).toBe('edge-runner');
    expect(task(p, 'bar').forwardTo).toBe('vault-runner');
    expect(task(p, 'bar').steps[0]?.run).toBe(
      'set +e +o pipefail; curl -H "Authorization: ${{ tasks.foo.outputs.token }}" https://example.com',
    );
    expect(task(p, 'bar').env).toEqual({ TOKEN: '${{ tasks.foo.outputs.token }}' });
  });
});

describe('BountyHub job', () => {
  it('compiles a 3-step job with uploads as one task named after the job', () => {
    const p = plan(fixture('bountyhub-job.yml'));
    expect(p.dialect).toBe('bountyhub');
    expect(p.name).toBe('subdomain enumeration');
    expect(p.tasks).toHaveLength(1);
    expect(p.tasks[0]).toMatchObject({
      name: 'subdomain-enumeration',
      uploads: ['output.txt'],
      env: { TARGET: 'example.com' },
    });
    expect(p.tasks[0]?.steps.map((step) => [step.name, step.shell])).toEqual([
      ['enumerate', 'bash {0}'],
      ['count', 'sh {0}'],
      ['step-3', 'python3 {0}'],
    ]);
  });

  it("names the task 'job' when the job has no name", () => {
    expect(plan('steps: [{ run: echo hi, shell: bash }]').tasks[0]?.name).toBe('job');
  });
});

describe('GitHub Actions', () => {
  it('compiles the CI fixture: matrix jobs, runs-on from the matrix, continue-on-error per combination', () => {
    const p = plan(fixture('github-ci.yml'));
    expect(p.dialect).toBe('github');
    expect(p.env).toEqual({ CI_LEVEL: 'full', RETRIES: '3' });
    expect(p.tasks.map((t) => t.name)).toEqual([
      'lint',
      'test (ubuntu-latest, 18, false)',
      'test (ubuntu-latest, 20, false)',
      'test (ubuntu-latest, 22, false)',
      'test (macos-latest, 20, false)',
      'test (macos-latest, 22, false)',
      'test (ubuntu-latest, 23, true)',
      'summary',
    ]);
    expect(task(p, 'lint')).toMatchObject({ runsOn: ['ubuntu-latest'], timeoutMs: 600_000 });
    expect(task(p, 'test (macos-latest, 20, false)')).toMatchObject({
      runsOn: ['macos-latest'],
      strategy: { group: 'test', failFast: false, maxParallel: 4 },
    });
    expect(task(p, 'test (macos-latest, 20, false)').continueOnError).toBeUndefined();
    expect(task(p, 'test (ubuntu-latest, 23, true)').continueOnError).toBe(true);
    expect(task(p, 'test (ubuntu-latest, 18, false)').steps.map((s) => [s.name, s.shell, s.if])).toEqual([
      ['Show versions', 'bash', undefined],
      ['tests', 'bash', undefined],
      ['Report', 'bash', 'steps.tests.outputs.passed > 0'],
    ]);
    expect(task(p, 'summary')).toMatchObject({
      if: 'always()',
      dependsOn: ['lint', ...p.tasks.slice(1, 7).map((t) => t.name)],
    });
  });

  it('compiles the release fixture: dispatch inputs, job outputs through a final step, working directories', () => {
    const p = plan(fixture('github-release.yml'));
    expect(p.inputs).toEqual({
      version: { description: 'Version to release', required: true },
      mode: {
        description: 'Publish, or only print what would happen',
        required: false,
        default: 'dry-run',
        type: 'choice',
        options: ['dry-run', 'publish'],
      },
    });
    const prepare = task(p, 'prepare');
    expect(prepare.exports).toEqual([
      { name: 'tag', confidential: false, scope: 'local' },
      { name: 'notes', confidential: false, scope: 'local' },
    ]);
    expect(prepare.steps.map((s) => [s.name, s.shell, s.workingDirectory])).toEqual([
      ['Make the work directory', 'bash -e {0}', undefined],
      ['tag', 'bash -e {0}', 'release'],
      ['notes', 'sh', 'release'],
      ['__outputs', 'bash', undefined],
    ]);
    expect(prepare.steps[3]).toMatchObject({
      if: 'always()',
      env: {
        BATON_JOB_OUTPUT_1: '${{ steps.tag.outputs.tag }}',
        BATON_JOB_OUTPUT_2: '${{ steps.notes.outputs.notes }}',
      },
    });
    expect(task(p, 'publish')).toMatchObject({ if: "inputs.mode == 'publish'", timeoutMs: 1_800_000 });
    expect(task(p, 'publish').steps[0]?.timeoutMs).toBe(300_000);
    expect(task(p, 'publish').steps[1]?.continueOnError).toBe(true);
  });

  it('compiles the nightly fixture: python and sh steps, a failure handler', () => {
    const p = plan(fixture('github-nightly.yml'));
    expect(p.tasks.map((t) => [t.name, t.if, t.runsOn])).toEqual([
      ['cleanup', undefined, ['ubuntu-22.04']],
      ['notify', 'failure()', ['ubuntu-22.04']],
    ]);
    expect(task(p, 'cleanup').steps.map((s) => [s.name, s.shell])).toEqual([
      ['cutoff', 'python'],
      ['Remove old files', 'sh'],
      ['Add a tool directory', 'bash -e {0}'],
    ]);
  });

  it('writes job outputs safely: a value holding newlines, a delimiter-like line and $(…) arrives intact', () => {
    const step = task(plan(fixture('github-release.yml')), 'prepare').steps[3]!;
    const nasty = 'line 1\nBATON_EOF\nEOF\n$(touch pwned) `id`';
    const outputs = parseOutputs(
      runStep(step, { BATON_JOB_OUTPUT_1: 'v1.2', BATON_JOB_OUTPUT_2: nasty }).outputFile,
    );
    expect(outputs).toEqual({ tag: 'v1.2', notes: nasty });
  });

  it('numbers repeated step display names and keeps ids as names', () => {
    const p = plan(`
on: push
jobs:
  a:
    runs-on: linux
    steps:
      - { name: Install, run: make deps }
      - { name: Install, run: make tools }
      - { id: build, name: Build it, run: make }
`);
    expect(task(p, 'a').steps.map((s) => s.name)).toEqual(['Install', 'Install (2)', 'build']);
  });
});
