import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { makeTask, runCollected } from './test-support.ts';

describe('runTask: outputs, env and path files', () => {
  it('collects outputs from BATON_OUTPUT, including a multi-line heredoc', async () => {
    const task = makeTask([
      { run: 'echo "version=1.2.3" >> "$BATON_OUTPUT"' },
      { run: 'printf "notes<<EOF\\nfirst line\\nsecond line\\nEOF\\n" >> "$GITHUB_OUTPUT"' },
    ]);
    const { outcome } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.outputs).toEqual({ version: '1.2.3', notes: 'first line\nsecond line' });
  });

  it('ignores ::set-output markers printed on stdout', async () => {
    const task = makeTask([{ run: 'echo "::set-output name=x::y"\necho "x=real" >> "$BATON_OUTPUT"' }]);
    const { outcome, output } = await runCollected(task, { workRoot: tempDir() });
    expect(output).toContain('::set-output name=x::y');
    expect(outcome.outputs).toEqual({ x: 'real' });
  });

  it('fails the task naming the file line of an unterminated heredoc, and skips later steps', async () => {
    const task = makeTask([
      {
        name: 'write',
        run: 'echo "a=1" >> "$BATON_OUTPUT"\necho "body<<END" >> "$BATON_OUTPUT"\necho "x" >> "$BATON_OUTPUT"',
      },
      { name: 'later', run: 'true' },
    ]);
    const { outcome, system } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'invalid_output_file' });
    expect(outcome.message).toMatch(
      /step 'write' wrote an invalid BATON_OUTPUT file .*line 2: Matching delimiter not found 'END': the value of 'body' is never closed/,
    );
    expect(system).toContain(outcome.message);
    expect(outcome.steps.map((s) => s.status)).toEqual(['failed', 'skipped']);
  });

  it('exports BATON_ENV values, single and multi-line, to later steps only', async () => {
    const task = makeTask([
      {
        run: 'echo "GREETING=hello" >> "$BATON_ENV"\nprintf "CERT<<X\\nl1\\nl2\\nX\\n" >> "$GITHUB_ENV"\necho "same=[${GREETING:-}]"',
      },
      { run: 'echo "later=[$GREETING]"\necho "cert=[$CERT]"' },
    ]);
    const { outcome, output } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.status).toBe('succeeded');
    expect(output).toContain('same=[]');
    expect(output).toContain('later=[hello]');
    expect(output).toContain('cert=[l1\nl2]');
  });

  it("lets a step's own env win over a BATON_ENV value", async () => {
    const task = makeTask([
      { run: 'echo "MODE=exported" >> "$BATON_ENV"' },
      { run: 'echo "mode=$MODE"', env: { MODE: 'step' } },
    ]);
    const { output } = await runCollected(task, { workRoot: tempDir() });
    expect(output).toContain('mode=step');
  });

  it('prepends BATON_PATH directories to PATH for later steps', async () => {
    const task = makeTask([
      {
        run: 'mkdir -p tools\nprintf "#!/bin/sh\\necho from-tool\\n" > tools/mytool\nchmod +x tools/mytool\necho "$PWD/tools" >> "$BATON_PATH"',
      },
      { run: 'mytool\necho "first=${PATH%%:*}"' },
    ]);
    const { outcome, output } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.status).toBe('succeeded');
    expect(output).toContain('from-tool');
    expect(output).toMatch(/first=\/.*\/tools\n/);
  });

  it('sets BATON_* variables, CI and the GITHUB_* mirrors', async () => {
    const task = makeTask([{ name: 'show', run: 'env | grep -E "^(BATON_|GITHUB_|CI=)" | sort' }], {
      runId: 'r-9',
      taskId: 't-7',
      attempt: 2,
    });
    const { output } = await runCollected(task, { workRoot: tempDir() });
    for (const line of [
      'BATON_RUN_ID=r-9',
      'BATON_TASK_ID=t-7',
      'BATON_TASK_NAME=build',
      'BATON_ATTEMPT=2',
      'BATON_STEP_NAME=show',
      'CI=true',
    ]) {
      expect(output).toContain(`${line}\n`);
    }
    const value = (name: string): string | undefined => output.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1];
    expect(value('GITHUB_OUTPUT')).toBe(value('BATON_OUTPUT'));
    expect(value('GITHUB_ENV')).toBe(value('BATON_ENV'));
    expect(value('GITHUB_PATH')).toBe(value('BATON_PATH'));
  });

  it('merges env with task env over the runner env and step env over both', async () => {
    const task = makeTask([{ run: 'echo "$A $B $C"', env: { C: 'step' } }], {
      env: { B: 'task', C: 'task' },
    });
    const { output } = await runCollected(task, {
      workRoot: tempDir(),
      baseEnv: { PATH: process.env.PATH ?? '', A: 'base', B: 'base' },
    });
    expect(output).toBe('base task step\n');
  });

  it('starts in an empty workspace that is removed afterwards', async () => {
    const root = tempDir();
    const task = makeTask([{ run: 'ls -A | wc -l\necho "$BATON_WORKSPACE" > /dev/null\ntouch made-here' }]);
    const { outcome, output } = await runCollected(task, { workRoot: join(root, '_work') });
    expect(outcome.status).toBe('succeeded');
    expect(output.trim()).toBe('0');
    expect(existsSync(join(root, '_work'))).toBe(true);
    expect(readdirSync(join(root, '_work'))).toEqual([]);
  });
});
