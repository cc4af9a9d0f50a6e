import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { StepSpec, TaskSpec } from '../../protocol/plan.ts';
import { pushScript } from './script.ts';
import { compareVersions } from './view.ts';

function task(steps: Array<Partial<StepSpec>>, o: Partial<TaskSpec> = {}): TaskSpec {
  return {
    name: 't',
    type: 'exec',
    steps: steps.map((s, i) => ({ name: `s${i}`, run: 'true', shell: 'bash', env: {}, ...s })),
    env: {},
    dependsOn: [],
    runsOn: ['p'],
    exports: [],
    imports: [],
    uploads: [],
    artifactsFrom: [],
    matrix: {},
    ...o,
  };
}

function runShell(spec: TaskSpec) {
  const built = pushScript(spec, {});
  if (!('script' in built)) throw new Error(built.unsupported);
  const env = Object.fromEntries(built.script.variables.map((v) => [v.envName, v.value]));
  return spawnSync('bash', ['-c', built.script.code], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
  });
}

describe('pushScript', () => {
  it('joins bash steps so the first failing command ends the script with its code, as on a pull runner', () => {
    const r = runShell(
      task([{ run: 'echo one' }, { run: 'echo two; (exit 7); echo not-after' }, { run: 'echo three' }]),
    );
    expect(r.status).toBe(7);
    expect(r.stdout).toBe('one\ntwo\n');
  });

  it('fails a pipeline whose first command fails (pipefail) and passes step env quoted', () => {
    expect(runShell(task([{ run: 'false | cat' }])).status).toBe(1);
    const r = runShell(task([{ run: 'echo "$A|$B"', env: { A: "it's", B: '$(no)' } }], { env: { B: 'x' } }));
    expect(r.stdout).toBe("it's|$(no)\n");
  });

  it('names the feature that needs a pull runner', () => {
    const why = (spec: TaskSpec) => {
      const b = pushScript(spec, {});
      return 'unsupported' in b ? b.unsupported : 'supported';
    };
    expect(why(task([{ run: 'echo ${{ inputs.x }}', name: 'build' }]))).toBe(
      "the expression in step 'build' needs a pull runner",
    );
    expect(why(task([{}], { uploads: ['out'] }))).toBe('uploads needs a pull runner');
    expect(why(task([{ shell: 'python' }, { shell: 'python' }]))).toBe(
      'several steps in a language other than bash or sh needs a pull runner',
    );
    expect(why(task([{ shell: 'python', run: 'print(1)' }]))).toBe('supported');
    expect(pushScript(task([{ shell: 'python', run: 'print(1)' }], { timeoutMs: 1500 }), {})).toMatchObject({
      script: { language: 'python', code: 'print(1)', timeoutSeconds: 2 },
    });
  });

  it('compares dotted versions numerically', () => {
    expect(compareVersions('0.2.15', '0.2.16')).toBe(-1);
    expect(compareVersions('0.10.0', '0.9.9')).toBe(1);
    expect(compareVersions('1.0', '1.0.0')).toBe(0);
    expect(compareVersions('x', '1')).toBeNull();
  });
});
