// Tasks of a custom type (run by a runner's CGI driver): `type` + `spec` in the Harness and native dialects,
// the workflow's `drivers:` list, and the errors for bad names.

import { describe, expect, it } from 'vitest';
import { compileWorkflow } from './index.ts';

function issues(text: string): string[] {
  const result = compileWorkflow(text);
  if (result.ok) throw new Error('expected issues');
  return result.issues.map((issue) => `${issue.line}:${issue.column} ${issue.message}`);
}

describe('custom task types', () => {
  it('a Harness task of a custom type carries its spec, templates translated, and no steps', () => {
    const result = compileWorkflow(
      [
        'drivers: [git-refs]',
        'taskGroup:',
        '- name: foo',
        '  type: os_exec',
        '  spec: {command: "echo password=hunter2hunter2 >> $BATON_OUTPUT"}',
        '  exports: [{name: password, confidential: true, scope: local}]',
        '- name: refs',
        '  type: git-refs',
        '  depends_on: [foo]',
        '  spec:',
        '    repo: "https://example.test/{{ .foo.password }}.git"',
        '    depth: 1',
        '    tags: [a, b]',
        '    shallow: true',
        '    nothing: null',
      ].join('\n'),
    );
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const refs = result.plan.tasks.find((t) => t.name === 'refs')!;
    expect(refs.type).toBe('git-refs');
    expect(refs.steps).toEqual([]);
    expect(refs.driverSpec).toEqual({
      repo: 'https://example.test/${{ tasks.foo.outputs.password }}.git',
      depth: 1,
      tags: ['a', 'b'],
      shallow: true,
      nothing: null,
    });
    expect(result.plan.drivers).toEqual(['git-refs']);
  });

  it('a native task of a custom type takes spec, not run', () => {
    const result = compileWorkflow(
      'inputs: {host: x}\ntasks:\n  lookup:\n    type: dns\n    spec: {name: "${{ inputs.host }}"}\n',
    );
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.plan.tasks[0]).toMatchObject({ type: 'dns', driverSpec: { name: '${{ inputs.host }}' } });
    expect(result.plan.drivers).toBeUndefined();
    expect(issues('tasks:\n  a:\n    type: dns\n    run: echo\n')).toEqual([
      "4:5 task 'a' has type 'dns', run by its driver: it takes 'spec', not 'run'",
    ]);
  });

  it('a bad type name, a bad spec and a bad drivers entry are reported with their place', () => {
    expect(issues('tasks:\n  a:\n    type: Bad/Name\n    spec: {}\n')[0]).toMatch(
      /^3:11 task 'a' has type 'Bad\/Name', which is not a valid driver name/,
    );
    expect(issues(`tasks:\n  a:\n    type: ${'x'.repeat(65)}\n`)[0]).toMatch(
      /is 65 characters; the limit is 64/,
    );
    expect(issues('tasks:\n  a:\n    type: dns\n    spec: [1]\n')[0]).toMatch(
      /^4:11 'spec' of task 'a' must be a map/,
    );
    expect(issues('drivers: [ok, ../x]\ntasks:\n  a: {run: echo}\n')[0]).toMatch(
      /^1:15 driver '\.\.\/x' in 'drivers' is not a valid driver name/,
    );
    expect(issues('tasks:\n  a:\n    spec: {x: 1}\n    run: echo\n')[0]).toMatch(/has 'spec' but no 'type'/);
  });

  it('a template in a spec is checked like any task field', () => {
    expect(issues('tasks:\n  a:\n    type: dns\n    spec: {name: "${{ nope.x }}"}\n')[0]).toMatch(/^4:/);
  });
});
