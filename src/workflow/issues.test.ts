// Every problem of an invalid workflow is reported at once, with exact message, line and column.

import { describe, expect, it } from 'vitest';
import { compileWorkflow, type WorkflowIssue } from './index.ts';

function issues(text: string | Uint8Array): WorkflowIssue[] {
  const result = compileWorkflow(text);
  if (result.ok) throw new Error('expected issues, got a plan');
  return result.issues;
}

type Case = [title: string, yaml: string, code: string, message: string, line: number, column: number];

const CASES: Case[] = [
  [
    'a tab used as indentation',
    'tasks:\n\tbuild: { run: x }\n',
    'yaml_syntax',
    'YAML syntax error: Tabs are not allowed as indentation',
    2,
    1,
  ],
  [
    'bad indentation',
    'tasks:\n  a: { run: x }\n b: { run: y }\n',
    'yaml_syntax',
    'YAML syntax error: All mapping items must start at the same column',
    3,
    1,
  ],
  [
    'a duplicate key',
    'tasks:\n  a: { run: x }\n  a: { run: y }\n',
    'duplicate_key',
    "duplicate key 'a'; each key may appear only once in a map (the first is at line 2)",
    3,
    3,
  ],
  [
    'two YAML documents',
    'tasks: { a: { run: x } }\n---\ntasks: {}\n',
    'yaml_syntax',
    'workflow holds more than one YAML document; keep one (remove the second ---)',
    2,
    1,
  ],
  [
    'no tasks',
    'name: x\n',
    'missing_field',
    "workflow needs 'tasks' (a map of task names to tasks, or a list of tasks); Baton also reads a Harness task group ('taskGroup'), a GitHub Actions workflow ('jobs') and a BountyHub job ('steps')",
    1,
    1,
  ],
  ['an empty document', '# nothing\n', 'missing_field', "workflow is empty; it needs at least 'tasks'", 1, 1],
  [
    'tasks of the wrong type',
    'tasks: 3\n',
    'invalid_type',
    "'tasks' must be a map of task names to tasks, or a list of tasks, not a number (3)",
    1,
    8,
  ],
  [
    'a misspelt task key',
    'tasks:\n  build:\n    run: x\n    depend_on: [y]\n',
    'unknown_key',
    "unknown key 'depend_on' in task 'build'; did you mean 'depends_on'?",
    4,
    5,
  ],
  [
    'an unknown key with nothing close',
    'tasks:\n  build:\n    run: x\n    colour: red\n',
    'unknown_key',
    "unknown key 'colour' in task 'build'; allowed keys: type, spec, run, steps, shell, env, depends_on, needs, runs_on, timeout, working_directory, if, retries, continue_on_error, cancel_grace, exports, imports, uploads, artifacts, strategy, forward, cache, isolation, network, limits",
    4,
    5,
  ],
  [
    'GitHub jobs at the top',
    'jobs: {}\ntasks: { a: { run: x } }\n',
    'unknown_key',
    "unknown key 'jobs' in the workflow; a GitHub Actions workflow is a file of its own, with 'jobs' and no 'tasks'",
    1,
    1,
  ],
  [
    'a task with neither run nor steps',
    'tasks:\n  build:\n    env: { A: "1" }\n',
    'missing_field',
    "task 'build' needs 'run' (one script) or 'steps' (a list of scripts)",
    2,
    3,
  ],
  [
    'a task with both run and steps',
    'tasks:\n  build:\n    run: x\n    steps: [{ run: y }]\n',
    'invalid_value',
    "task 'build' has both 'run' and 'steps'; use 'run' for one script or 'steps' for several",
    4,
    5,
  ],
  [
    'empty steps',
    'tasks:\n  build:\n    steps: []\n',
    'invalid_value',
    "'steps' of task 'build' is empty; add at least one step",
    3,
    12,
  ],
  [
    'a step without run',
    'tasks:\n  build:\n    steps:\n      - name: s\n',
    'missing_field',
    "step 's' of task 'build' needs 'run'",
    4,
    9,
  ],
  [
    'run of the wrong type',
    'tasks:\n  build:\n    run: [a, b]\n',
    'invalid_type',
    "'run' of task 'build' must be a string, not a list",
    3,
    10,
  ],
  [
    'a two-task cycle',
    'tasks:\n  a: { run: x, depends_on: b }\n  b: { run: x, depends_on: a }\n',
    'dependency_cycle',
    'dependency cycle: a -> b -> a; remove one of these dependencies',
    2,
    28,
  ],
  [
    'a three-task cycle',
    'tasks:\n  a: { run: x, needs: [c] }\n  b: { run: x, needs: [a] }\n  c: { run: x, needs: [b] }\n',
    'dependency_cycle',
    'dependency cycle: a -> c -> b -> a; remove one of these dependencies',
    2,
    24,
  ],
  [
    'a self-dependency',
    'tasks:\n  a: { run: x, depends_on: [a] }\n',
    'self_dependency',
    "task 'a' depends on itself; remove it from depends_on",
    2,
    29,
  ],
  [
    'an unknown dependency',
    'tasks:\n  build: { run: x }\n  test: { run: x, depends_on: [biuld] }\n',
    'unknown_dependency',
    "task 'test' depends on 'biuld', which is not a task in this workflow; did you mean 'build'?",
    3,
    32,
  ],
  [
    'a duplicate task in the list form',
    'tasks:\n  - name: a\n    run: x\n  - name: a\n    run: y\n',
    'duplicate_task',
    "task name 'a' is used twice; the first is at line 2",
    4,
    11,
  ],
  [
    'a list task without a name',
    'tasks:\n  - run: x\n',
    'missing_field',
    "task tasks[0] needs a 'name' (in the list form each task names itself)",
    2,
    5,
  ],
  [
    'an invalid task name',
    'tasks:\n  "my task": { run: x }\n',
    'invalid_name',
    "task name 'my task' is not valid; use letters, digits, _, . and - (not starting with . or -), at most 100 characters",
    2,
    3,
  ],
  [
    'an invalid env name',
    'tasks:\n  a:\n    run: x\n    env: { MY-VAR: "1" }\n',
    'invalid_name',
    "env name 'MY-VAR' in task 'a' is not valid; use letters, digits and _, not starting with a digit",
    4,
    12,
  ],
  [
    'an env value that is a map',
    'env:\n  A: { b: c }\ntasks: { a: { run: x } }\n',
    'invalid_type',
    "env 'A' of the workflow must be a string, not a map",
    2,
    6,
  ],
  [
    'an unknown shell',
    'tasks:\n  a: { run: x, shell: zsh }\n',
    'unknown_shell',
    "unknown shell 'zsh'; use one of bash, sh, python, node, pwsh, or a command template containing {0} such as 'zsh {0}' (in task 'a')",
    2,
    23,
  ],
  [
    'an unknown task type',
    'tasks:\n  a: { run: x, type: Docker }\n',
    'invalid_value',
    "task 'a' has type 'Docker', which is not a valid driver name; use lower-case letters, digits, _ and -, starting with a letter; types: exec, or a custom driver's name",
    2,
    22,
  ],
  [
    'a bad duration',
    'tasks:\n  a: { run: x, timeout: soon }\n',
    'invalid_value',
    "'timeout' of task 'a' (soon) is not a duration; write seconds as a number, or text like 90s, 10m, 1h30m or 500ms",
    2,
    25,
  ],
  [
    'an absolute working directory',
    'tasks:\n  a: { run: x, working_directory: /etc }\n',
    'invalid_path',
    "'working_directory' of task 'a': '/etc' is absolute; working directories are relative to the task's work dir",
    2,
    35,
  ],
  [
    'a step working directory climbing out',
    'tasks:\n  a:\n    working_directory: sub\n    steps:\n      - run: x\n        working_directory: ../../x\n',
    'invalid_path',
    "'working_directory' of step 1 of task 'a': '../../x' climbs out of the task's work dir with '..'",
    6,
    28,
  ],
  [
    'a bad expression',
    "tasks:\n  a: { run: 'echo ${{ inputs. }}' }\n",
    'invalid_expression',
    "invalid expression in 'run' of task 'a': expected a property name after '.' at position 8 in 'inputs.'",
    2,
    13,
  ],
  [
    'an unterminated expression',
    "tasks:\n  a: { run: 'echo ${{ env.A' }\n",
    'invalid_expression',
    "invalid expression in 'run' of task 'a': unterminated expression: missing '}}' at position 1 in 'env.A'",
    2,
    13,
  ],
  [
    'an unknown context',
    "tasks:\n  a: { run: 'echo ${{ secret.X }}' }\n",
    'unknown_reference',
    "'run' of task 'a' uses unknown context 'secret'; did you mean 'secrets'?; contexts are inputs, env, tasks, needs, matrix, run, runner, steps, secrets, imports",
    2,
    13,
  ],
  [
    'an undeclared input',
    "inputs: { version: '1' }\ntasks:\n  a: { run: 'echo ${{ inputs.vesion }}' }\n",
    'unknown_reference',
    "'run' of task 'a' reads inputs.vesion but the workflow declares no input 'vesion'; did you mean 'version'?",
    3,
    13,
  ],
  [
    'reading a task it does not depend on',
    'tasks:\n  build: { run: x }\n  deploy:\n    run: echo ${{ tasks.build.outputs.version }}\n',
    'unknown_reference',
    "task 'deploy' reads tasks.build.outputs.version but does not depend on 'build'; add it to depends_on",
    4,
    10,
  ],
  [
    'reading a task that does not exist',
    "tasks:\n  deploy:\n    env: { V: '${{ needs.bild.result }}' }\n    run: x\n",
    'unknown_reference',
    "task 'deploy' reads needs.bild.result but there is no task 'bild'",
    3,
    15,
  ],
  [
    'needs and depends_on together',
    'tasks:\n  a: { run: x }\n  b: { run: x, needs: a, depends_on: a }\n',
    'duplicate_key',
    "task 'b' has both 'depends_on' and its alias 'needs'; keep one",
    3,
    16,
  ],
  [
    'an input that is not true/false for required',
    'inputs:\n  v: { required: yes }\ntasks: { a: { run: x } }\n',
    'invalid_type',
    "'required' of input 'v' must be true or false, not a string",
    2,
    18,
  ],
];

describe('compileWorkflow on invalid workflows', () => {
  it.each(CASES)('reports %s', (_title, yaml, code, message, line, column) => {
    expect(issues(yaml)).toContainEqual(expect.objectContaining({ code, message, line, column }));
  });

  it('reports every problem at once, in document order', () => {
    const found = issues(
      'tasks:\n  a: { run: x, depend_on: b }\n  b: { steps: [] }\n  c: { run: x, shell: fish }\n',
    );
    expect(found.map((issue) => [issue.code, issue.line])).toEqual([
      ['unknown_key', 2],
      ['invalid_value', 3],
      ['unknown_shell', 4],
    ]);
  });

  it('gives each issue the path of the offending node', () => {
    const found = issues('tasks:\n  build:\n    steps:\n      - run: 1\n');
    expect(found[0]?.path).toBe('tasks.build.steps[0].run');
  });

  it('points at the first invalid byte of a non-UTF-8 file', () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('tasks:\n  a: { run: "ab'),
      0xc3,
      0x28,
      ...new TextEncoder().encode('" }\n'),
    ]);
    expect(issues(bytes)).toEqual([
      {
        code: 'yaml_syntax',
        message:
          'workflow is not valid UTF-8: byte 0xc3 at line 2, column 16 (byte offset 22); save the file as UTF-8',
        line: 2,
        column: 16,
        path: '',
      },
    ]);
  });
});
