// Shared by the GitHub Actions suite (issue 18): a git checkout holding a workflow and the files it needs, and
// `baton run` started on it as a real process, the way a user types it inside their checkout.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

export const BATON_BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

export interface BatonResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A git repository (one commit on `main`, remote `origin` at github.com/OWNER/REPO) holding `files`. */
export function gitCheckout(
  files: Record<string, string>,
  options: { remote?: string; branch?: string } = {},
): string {
  const dir = tempDir('baton-gh-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Octo Cat',
        GIT_AUTHOR_EMAIL: 'octo@example.com',
        GIT_COMMITTER_NAME: 'Octo Cat',
        GIT_COMMITTER_EMAIL: 'octo@example.com',
      },
    }).toString();
  git('init', '-q', '-b', options.branch ?? 'main');
  git('remote', 'add', 'origin', options.remote ?? 'https://github.com/octo-org/hello-world.git');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  return dir;
}

/** `baton run ARGS` in `cwd`, to its end; its output as text. */
export async function batonRun(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; stdin?: string } = {},
): Promise<BatonResult> {
  const proc = startTracked(`baton ${args.join(' ')}`, process.execPath, [BATON_BIN, 'run', ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.stdin !== undefined) proc.child.stdin?.end(options.stdin);
  let stdout = '';
  let stderr = '';
  proc.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const { code } = await proc.exited;
  return { code, stdout, stderr };
}

/** The run result `baton run --json` prints. */
export interface RunJson {
  id: string;
  status: string;
  results: Record<string, { status: string; outputs: Record<string, string>; exitCode?: number | null }>;
}

/** `baton run --json ARGS`: the run result, with the raw output kept for messages. */
export async function batonRunJson(
  args: string[],
  options: Parameters<typeof batonRun>[1] = {},
): Promise<BatonResult & { run?: RunJson }> {
  const result = await batonRun([...args, '--json'], options);
  try {
    return { ...result, run: JSON.parse(result.stdout) as RunJson };
  } catch {
    return result;
  }
}
