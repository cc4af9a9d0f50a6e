// A `${{` where a GitHub workflow's field is not evaluated would be used as literal text (issue 18): validation
// names each place; evaluated fields ("Contexts", context availability) pass.
import { describe, expect, it } from 'vitest';
import { compileWorkflow } from './compile.ts';

const compile = (text: string) => compileWorkflow(text, { fileName: 'ci.yml' });

describe('GitHub fields where ${{ }} would be taken literally', () => {
  it('accepts ${{ }} in the fields Baton evaluates', () => {
    const res = compile(`on: push
env:
  A: \${{ inputs.x == '' }}
jobs:
  build:
    strategy:
      matrix:
        os: [linux]
    runs-on: \${{ matrix.os }}
    if: \${{ !cancelled() }}
    env:
      B: \${{ env.A }}
    defaults:
      run:
        working-directory: \${{ env.B }}
    outputs:
      v: \${{ steps.s.outputs.v }}
    continue-on-error: \${{ matrix.os == 'x' }}
    steps:
      - id: s
        if: \${{ env.B != '' }}
        env:
          C: \${{ matrix.os }}
        working-directory: \${{ matrix.os }}
        run: echo \${{ env.C }}
`);
    // github is another area's context; only what this check finds matters here.
    const literal = (res.ok ? [] : res.issues).filter((issue) => issue.code === 'literal_expression');
    expect(literal).toEqual([]);
  });

  it('refuses ${{ }} in a key or in a field that is not evaluated, with line:column', () => {
    const res = compile(`on: push
defaults:
  run:
    shell: bash \${{ env.X }} {0}
jobs:
  build:
    env:
      \${{ env.K }}: v
    steps:
      - run: echo hi
        shell: bash \${{ env.X }} {0}
`);
    expect(res.ok).toBe(false);
    const issues = res.ok ? [] : res.issues;
    // The env key is already refused as a name; it is reported once.
    expect(issues.map((issue) => [issue.line, issue.column, issue.code])).toEqual([
      [4, 12, 'literal_expression'],
      [8, 7, 'invalid_name'],
      [11, 16, 'literal_expression'],
    ]);
    const found = issues.filter((issue) => issue.code === 'literal_expression');
    expect(found[0]?.message).toBe(
      "'defaults.run.shell' holds ${{ }}, but Baton does not evaluate this field, so 'bash ${{ env.X }} {0}' would be used as written; give the value itself",
    );
    expect(found[1]?.path).toBe('jobs.build.steps[0].shell');
  });

  it('reports a key holding ${{ }} once, where it stands', () => {
    const res = compile(`on: push
jobs:
  build:
    steps:
      - run: echo hi
        \${{ env.K }}: v
`);
    const issues = res.ok ? [] : res.issues;
    expect(issues.map((issue) => [issue.line, issue.column])).toEqual([[6, 9]]);
  });

  it("warns (without failing) about ${{ }} in a step's name, shown as written", () => {
    const res = compile(`on: push
jobs:
  build:
    name: Build \${{ github.ref }}
    steps:
      - name: Test \${{ env.X }}
        run: echo hi
`);
    expect(res.ok).toBe(true);
    expect(res.warnings?.map((w) => [w.line, w.column, w.code])).toEqual([[6, 15, 'literal_expression']]);
  });
});
