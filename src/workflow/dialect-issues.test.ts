// Invalid workflows in every dialect: each problem reported with its exact message, line and column.

import { describe, expect, it } from 'vitest';
import { compileWorkflow, type WorkflowIssue } from './index.ts';

type Case = [title: string, yaml: string, code: string, message: string, line: number, column: number];

const CASES: Case[] = [
  [
    'native: retries over the maximum',
    'tasks:\n  a:\n    run: x\n    retries: 11\n',
    'invalid_value',
    "'retries' of task 'a' must be a whole number from 0 to 10 (further attempts after the first), not 11",
    4,
    14,
  ],
  [
    'native: retry on an unknown outcome',
    'tasks:\n  a:\n    run: x\n    retries: { max: 1, on: [failed, crashed] }\n',
    'invalid_value',
    "'on' of 'retries' of task 'a' has 'crashed'; use failed, timed_out, runner_lost",
    4,
    37,
  ],
  [
    'native: import from a task not depended on',
    'tasks:\n  a: { run: x, exports: [v] }\n  b:\n    run: y\n    imports: [{ from: a, variable: v }]\n',
    'unknown_reference',
    "task 'b' imports 'v' from 'a' but does not depend on it; add 'a' to depends_on",
    5,
    23,
  ],
  [
    'native: import of a variable not exported',
    'tasks:\n  a: { run: x, exports: [v] }\n  b:\n    run: y\n    depends_on: a\n    imports: [{ from: a, variable: w }]\n',
    'unknown_reference',
    "task 'b' imports 'w' from 'a', which does not export it; did you mean 'v'?; it exports v",
    6,
    23,
  ],
  [
    'native: upload climbing out',
    'tasks:\n  a:\n    run: x\n    uploads: [../secret]\n',
    'invalid_path',
    "'uploads' of task 'a': '../secret' climbs out of the task's work dir with '..'",
    4,
    15,
  ],
  [
    'native: artifacts from a non-dependency',
    'tasks:\n  a: { run: x }\n  b:\n    run: y\n    artifacts: { from: a }\n',
    'unknown_reference',
    "task 'b' takes artifacts from 'a' but does not depend on it; add 'a' to depends_on",
    5,
    24,
  ],
  [
    'native: matrix reference outside a matrix task',
    "tasks:\n  a: { run: 'echo ${{ matrix.os }}' }\n",
    'unknown_reference',
    "'run' of task 'a' reads matrix.os, but task 'a' has no strategy.matrix",
    2,
    13,
  ],
  [
    'native: matrix too big',
    'tasks:\n  a:\n    run: x\n    strategy:\n      matrix: { a: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17], b: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16] }\n',
    'limit_exceeded',
    "'matrix' of task 'a' makes 272 combinations; the limit is 256 per matrix",
    5,
    15,
  ],
  [
    'native: duplicate matrix expansion',
    'tasks:\n  a:\n    run: x\n    strategy:\n      matrix: { os: [linux, linux] }\n',
    'duplicate_task',
    "matrix of task 'a' makes the task 'a (linux)' twice; remove the repeated values",
    5,
    7,
  ],
  [
    'native: exclude with an unknown key',
    'tasks:\n  a:\n    run: x\n    strategy:\n      matrix: { os: [linux], exclude: [{ arch: arm }] }\n',
    'invalid_value',
    "'exclude' of 'matrix' of task 'a' uses 'arch', which is not a matrix key; keys are os",
    5,
    15,
  ],
  [
    'native: step reads a later step',
    'tasks:\n  a:\n    steps:\n      - run: echo ${{ steps.late.outputs.x }}\n      - { id: late, run: y }\n',
    'unknown_reference',
    "'run' of step 1 of task 'a' reads steps.late.outputs.x but no earlier step has the id 'late'; no step runs before it",
    4,
    14,
  ],
  [
    'native: duplicate step id',
    'tasks:\n  a:\n    steps:\n      - { id: s, run: x }\n      - { id: s, run: y }\n',
    'duplicate_key',
    "task 'a' has two steps named 's' (the first at line 4); step names and ids must be unique within a task",
    5,
    15,
  ],
  [
    'native: status function outside if',
    "tasks:\n  a: { run: 'echo ${{ failure() }}' }\n",
    'invalid_expression',
    "'run' of task 'a' calls failure(), which is only available in 'if' conditions",
    2,
    13,
  ],
  [
    'native: task if reads steps',
    "tasks:\n  a:\n    if: steps.x.outcome == 'success'\n    run: x\n",
    'unknown_reference',
    "'if' of task 'a' reads steps.x.outcome, but 'steps' is not available there: a task's 'if' is evaluated by the server before a runner is chosen; it can read inputs, tasks, needs, run and matrix",
    3,
    9,
  ],
  [
    'native: bad if syntax',
    'tasks:\n  a:\n    if: env.A ==\n    run: x\n',
    'invalid_expression',
    "invalid expression in 'if' of task 'a': unexpected end of expression at position 9 in 'env.A =='",
    3,
    9,
  ],
  [
    'native: unknown function',
    "tasks:\n  a: { run: 'echo ${{ tojsn(env) }}' }\n",
    'invalid_expression',
    "invalid expression in 'run' of task 'a': unknown function 'tojsn()'; functions are contains, startsWith, endsWith, format, join, toJSON, fromJSON, hashFiles, success, failure, always, cancelled at position 1 in 'tojsn(env)'",
    2,
    13,
  ],
  [
    'native: too many tasks after expansion',
    'tasks:\n  a:\n    run: x\n    strategy: { matrix: { n: [1,2,3] } }\n  b: { run: y }\n',
    'limit_exceeded',
    'workflow has 4 tasks after matrix expansion; the limit is 3 tasks per run',
    5,
    3,
  ],
  [
    'harness: unknown type',
    'taskGroup:\n  - name: a\n    type: shell.exec\n    spec: { command: x }\n',
    'invalid_value',
    "task 'a' has type 'shell.exec', which is not a valid driver name; use lower-case letters, digits, _ and -, starting with a letter; types: os_exec, or a custom driver's name",
    3,
    11,
  ],
  [
    'harness: template of a task not depended on',
    "taskGroup:\n  - { name: foo, type: os_exec, spec: { command: x }, exports: [{ name: password }] }\n  - name: bar\n    type: os_exec\n    spec: { command: 'echo {{ .foo.password }}' }\n",
    'unknown_reference',
    "task 'bar' uses {{ .foo.password }} but does not depend on 'foo'; add 'foo' to depends_on",
    5,
    22,
  ],
  [
    'harness: misspelt key',
    'taskGroup:\n  - name: a\n    type: os_exec\n    spec: { command: x }\n    dependson: [b]\n',
    'unknown_key',
    "unknown key 'dependson' in task 'a'; did you mean 'depends_on'?",
    5,
    5,
  ],
  [
    'harness: missing command',
    'taskGroup:\n  - name: a\n    type: os_exec\n    spec: { envs: { A: b } }\n',
    'missing_field',
    "'spec' of task 'a' needs 'command': a script, or a list of program and arguments",
    4,
    11,
  ],
  [
    'bountyhub: step without run',
    'steps:\n  - shell: bash\n',
    'missing_field',
    "step 'step-1' of job 'job' needs 'run'",
    2,
    5,
  ],
  [
    'bountyhub: misspelt key',
    'steps:\n  - run: x\n    shel: bash\n',
    'unknown_key',
    "unknown key 'shel' in step 1 of job 'job'; did you mean 'shell'?",
    3,
    5,
  ],
  [
    'bountyhub: absolute upload',
    'steps:\n  - run: x\nuploads: [/etc/passwd]\n',
    'invalid_path',
    "'uploads' of job 'job': '/etc/passwd' is absolute; uploads are relative to the task's work dir",
    3,
    11,
  ],
  [
    'github: uses step',
    'on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: make\n',
    'invalid_value',
    "step 1 of job 'build' uses an action 'actions/checkout@v4': actions (`uses:`) are not supported; replace with run steps",
    6,
    9,
  ],
  [
    'github: needs unknown job',
    'jobs:\n  a:\n    runs-on: x\n    needs: [bulid]\n    steps: [{ run: x }]\n  build:\n    runs-on: x\n    steps: [{ run: y }]\n',
    'unknown_dependency',
    "task 'a' depends on 'bulid', which is not a task in this workflow; did you mean 'build'?",
    4,
    13,
  ],
  [
    'github: github context',
    'jobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ github.sha }}\n',
    'unknown_reference',
    "'run' of step 1 of job 'a' uses unknown context 'github'; Baton has no 'github' context: use run.id, run.name, env or inputs; contexts are inputs, env, tasks, needs, matrix, run, runner, steps, secrets, imports",
    5,
    14,
  ],
  [
    'github: misspelt job key',
    'jobs:\n  a:\n    runs_on: x\n    steps: [{ run: x }]\n',
    'unknown_key',
    "unknown key 'runs_on' in job 'a'; did you mean 'runs-on'?",
    3,
    5,
  ],
  [
    'github: unknown shell',
    'jobs:\n  a:\n    runs-on: x\n    steps:\n      - run: dir\n        shell: cmd\n',
    'unknown_shell',
    "unknown shell 'cmd'; use one of bash, sh, python, node, pwsh, or a command template containing {0} such as 'cmd {0}' (in step 1 of job 'a')",
    6,
    16,
  ],
  [
    'github: cycle',
    'jobs:\n  a: { runs-on: x, needs: b, steps: [{ run: x }] }\n  b: { runs-on: x, needs: a, steps: [{ run: x }] }\n',
    'dependency_cycle',
    'dependency cycle: a -> b -> a; remove one of these dependencies',
    2,
    27,
  ],
  [
    'github: container',
    'jobs:\n  a:\n    runs-on: x\n    container: node:20\n    steps: [{ run: x }]\n',
    'unknown_key',
    "unknown key 'container' in job 'a'; jobs in containers are not supported: run the steps on a runner that has the tools",
    4,
    5,
  ],
  [
    'github: dynamic matrix',
    'jobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix: ${{ fromJSON(needs.x.outputs.m) }}\n    steps: [{ run: x }]\n',
    'invalid_value',
    "'matrix' of job 'a' is computed at run time (${{ fromJSON(needs.x.outputs.m) }}); Baton expands matrices when the workflow is compiled, so list the values",
    5,
    15,
  ],
  [
    'github: needs output not declared',
    "jobs:\n  a:\n    runs-on: x\n    outputs: { v: '${{ steps.s.outputs.v }}' }\n    steps: [{ id: s, run: x }]\n  b:\n    runs-on: x\n    needs: a\n    steps: [{ run: 'echo ${{ needs.a.outputs.version }}' }]\n",
    'unknown_reference',
    "task 'b' reads needs.a.outputs.version but task 'a' does not export 'version'; it exports v",
    9,
    20,
  ],
  [
    'github: timeout-minutes text',
    'jobs:\n  a:\n    runs-on: x\n    timeout-minutes: 10m\n    steps: [{ run: x }]\n',
    'invalid_type',
    "'timeout-minutes' of job 'a' must be a number of minutes more than 0 (at most about 35,000), not a string",
    4,
    22,
  ],
  [
    'unknown shape',
    'name: x\nstages: []\n',
    'missing_field',
    "workflow needs 'tasks' (a map of task names to tasks, or a list of tasks); Baton also reads a Harness task group ('taskGroup'), a GitHub Actions workflow ('jobs') and a BountyHub job ('steps')",
    1,
    1,
  ],
];

function issues(text: string): WorkflowIssue[] {
  // The task limit is lowered for the one case about it, so that it needs only four tasks.
  const result = compileWorkflow(text, text.includes('n: [1,2,3]') ? { limits: { maxTasks: 3 } } : {});
  if (result.ok) throw new Error('expected issues, got a plan');
  return result.issues;
}

describe('invalid workflows across dialects', () => {
  it.each(CASES)('%s', (_title, yaml, code, message, line, column) => {
    expect(issues(yaml)).toContainEqual(expect.objectContaining({ code, message, line, column }));
  });

  it('reports every problem of a GitHub workflow at once, in document order', () => {
    const found = issues(
      'jobs:\n  a:\n    runs-on: x\n    timeout-minutes: 0\n    steps:\n      - uses: actions/setup-node@v4\n      - run: echo ${{ github.ref }}\n        shel: bash\n',
    );
    expect(found.map((issue) => [issue.code, issue.line])).toEqual([
      ['invalid_value', 4],
      ['invalid_value', 6],
      ['unknown_reference', 7],
      ['unknown_key', 8],
    ]);
  });
});
