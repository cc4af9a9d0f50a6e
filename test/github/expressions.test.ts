// Issue 18, "Expressions", through `baton run` in a checkout: literals and number formatting as the runner writes
// them ("Expressions": Literals; actions/runner writes numbers in .NET's G15 format), arrays and objects as
// text, loose equality, and hashFiles over the checkout with `!` exclusions and a directory ("Expressions":
// hashFiles). The full table of cases is src/workflow/expression-github.test.ts; this is the end-to-end check.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batonRun, gitCheckout } from './run.ts';

/** hashFiles as documented: SHA-256 over the SHA-256 digests of the matched files, in name order here. */
function hashOf(dir: string, files: string[]): string {
  const outer = createHash('sha256');
  for (const file of files)
    outer.update(
      createHash('sha256')
        .update(readFileSync(join(dir, file)))
        .digest(),
    );
  return outer.digest('hex');
}

describe('expressions in a GitHub workflow', () => {
  it('literals, numbers, arrays and objects as text, comparisons and hashFiles as on GitHub', async () => {
    const dir = gitCheckout({
      '.github/workflows/expr.yml': `on: push
jobs:
  expr:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "nan=\${{ NaN }} inf=\${{ Infinity }} ninf=\${{ -Infinity }}"
          echo "big=\${{ 1234567890123456789 }} float=\${{ 0.30000000000000004 }}"
          echo "hex=\${{ 0xff }} exp=\${{ 1e3 }} small=\${{ 1.5e-5 }} neg=\${{ -9.2 }}"
          echo "arr=\${{ fromJSON('[1,2]') }} obj=\${{ fromJSON('{"a":1}') }} joined=\${{ join(fromJSON('[1,2]'), '+') }}"
          echo "cmp=\${{ NaN == NaN }} \${{ '0x10' == 16 }} \${{ 'abc' == 'ABC' }} \${{ null == 0 }}"
          echo "all=\${{ hashFiles('src/**') }}"
          echo "excl=\${{ hashFiles('src/**', '!src/gen/**') }}"
          echo "dir=\${{ hashFiles('src/lib') }}"
          echo "none=[\${{ hashFiles('nothing/**') }}]"
`,
      'src/main.c': 'int main(void) { return 0; }\n',
      'src/gen/out.c': '/* generated */\n',
      'src/lib/a.c': 'int a;\n',
      'src/lib/b.c': 'int b;\n',
    });
    const result = await batonRun(['.github/workflows/expr.yml'], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toContain('nan=NaN inf=Infinity ninf=-Infinity');
    expect(out).toContain('big=1.23456789012346E+18 float=0.3');
    expect(out).toContain('hex=255 exp=1000 small=1.5E-05 neg=-9.2');
    expect(out).toContain('arr=Array obj=Object joined=1+2');
    expect(out).toContain('cmp=false true true true');
    expect(out).toContain(
      `all=${hashOf(dir, ['src/gen/out.c', 'src/lib/a.c', 'src/lib/b.c', 'src/main.c'])}`,
    );
    expect(out).toContain(`excl=${hashOf(dir, ['src/lib/a.c', 'src/lib/b.c', 'src/main.c'])}`);
    expect(out).toContain(`dir=${hashOf(dir, ['src/lib/a.c', 'src/lib/b.c'])}`);
    expect(out).toContain('none=[]');
  });

  it('a literal that is not a number is refused before anything runs, with its line and column', async () => {
    const dir = gitCheckout({
      '.github/workflows/bad.yml': 'jobs:\n  a:\n    steps:\n      - run: echo ${{ 0XFF }}\n',
    });
    const result = await batonRun(['.github/workflows/bad.yml'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bad\.yml:4:\d+: .*invalid number '0XFF'/);
  });
});
