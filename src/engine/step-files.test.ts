// StepFiles: fresh files per step, GITHUB_STATE kept per step for its post step (STATE_<name>), and the step
// summary with its limit (docs.github.com "Workflow commands": "Environment files", "Sending values to the pre
// and post actions", "Adding a job summary").
import { appendFileSync, linkSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { STEP_SUMMARY_MAX_BYTES } from '../protocol/annotation-limits.ts';
import { StepFiles } from './step-files.ts';
import { createWorkDir } from './work-dir.ts';

describe('StepFiles', () => {
  it('empties the per-step files before each step and keeps each step its state', async () => {
    const dir = await createWorkDir(tempDir(), 't');
    const files = new StepFiles(dir);
    await files.prepare();
    writeFileSync(dir.stateFile, 'pid=42\n');
    writeFileSync(dir.outputFile, 'a=1\n');
    writeFileSync(dir.maskFile, 'kept-mask\n');
    expect(await files.collect('first', 0)).toEqual({ outputs: { a: '1' } });
    await files.prepare();
    expect(readFileSync(dir.stateFile, 'utf8')).toBe('');
    expect(readFileSync(dir.outputFile, 'utf8')).toBe('');
    expect(readFileSync(dir.maskFile, 'utf8')).toBe('kept-mask\n');
    appendFileSync(dir.outputFile, 'b=2\n');
    expect(await files.collect('second', 1)).toEqual({ outputs: { b: '2' } });
    expect(files.outputs()).toEqual({ a: '1', b: '2' });
    expect(files.stateEnv(0)).toEqual({ STATE_pid: '42' });
    expect(files.stateEnv(1)).toEqual({});
  });

  it('keeps a summary up to 1 MiB and refuses a larger one naming the limit', async () => {
    const dir = await createWorkDir(tempDir(), 't');
    const files = new StepFiles(dir);
    writeFileSync(dir.summaryFile, '# ok\n');
    expect(await files.collectSummary('small')).toBeUndefined();
    await files.prepare();
    writeFileSync(dir.summaryFile, 'x'.repeat(STEP_SUMMARY_MAX_BYTES + 1));
    expect(await files.collectSummary('big')).toMatch(
      /^\$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k, got 1025k \(step 'big', limit STEP_SUMMARY_MAX_BYTES\)$/,
    );
    expect(files.summaries).toEqual([{ step: 'small', markdown: '# ok\n' }]);
  });

  // A step is hostile code: the paths are its to change, and the runner must not read or empty what they point at.
  it('neither reads nor empties a file a step put in place of its command file by a symlink or a hard link', async () => {
    const root = tempDir();
    const dir = await createWorkDir(root, 't');
    const precious = join(root, 'runner-token');
    writeFileSync(precious, 'token=do-not-leak\n');
    const files = new StepFiles(dir);
    rmSync(dir.outputFile);
    symlinkSync(precious, dir.outputFile);
    rmSync(dir.summaryFile);
    linkSync(precious, dir.summaryFile);
    const collected = await files.collect('evil', 0);
    expect(collected.outputs).toEqual({});
    expect(collected.problem).toMatch(/replaced by a symbolic link; it is not read/);
    expect(await files.collectSummary('evil')).toMatch(/something other than a plain file/);
    await files.prepare();
    expect(readFileSync(precious, 'utf8')).toBe('token=do-not-leak\n');
    expect(readFileSync(dir.outputFile, 'utf8')).toBe('');
    expect(await files.collect('next', 1)).toEqual({ outputs: {} });
  });
});
