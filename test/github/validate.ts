// `baton validate FILE` as a real process, for the GitHub suite's lint and refusal tests (issue 18).
import { startTracked } from '../helpers/processes.ts';
import { BATON_BIN, type BatonResult } from './run.ts';

export async function batonValidate(args: string[], options: { cwd?: string } = {}): Promise<BatonResult> {
  const proc = startTracked(
    `baton validate ${args.join(' ')}`,
    process.execPath,
    [BATON_BIN, 'validate', ...args],
    {
      cwd: options.cwd,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  proc.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const { code } = await proc.exited;
  return { code, stdout, stderr };
}
