// Issue 19, "A CLI without rough edges": every user mistake is a sentence and exit 2, never a stack trace; a
// reader that goes away (`| head`) ends the command quietly; help shows real defaults and the exit codes; shell
// completion is generated from the command tree. All through the real `baton` binary.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startRunnerProcess, startServerProcess, waitForRun } from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;
const STACK = /\n\s+at .+:\d+:\d+/;

async function baton(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = startTracked(`baton ${args[0]}`, process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  proc.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const { code } = await proc.exited;
  return { code, stdout, stderr };
}

/** `bash -c SCRIPT` with `baton` on PATH as this checkout's binary. */
async function shell(
  script: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string }> {
  const child = spawn('bash', ['-c', script], {
    env: { ...process.env, ...env, BATON: `${process.execPath} ${BIN}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out };
}

describe('the CLI on user mistakes', () => {
  it('`--input version` (no =) is a usage error: one sentence, exit 2, no stack trace', async () => {
    const result = await baton(['run', 'examples/hello.yml', '--input', 'version']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("baton: --input must look like name=value, got 'version'");
    expect(result.stderr).not.toMatch(STACK);
  });

  it('an unknown --log-level is a usage error listing the levels', async () => {
    const result = await baton(['server', '--log-level', 'loud', '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '--log-level must be one of trace, debug, info, warn, error, fatal, silent',
    );
    expect(result.stderr).not.toMatch(STACK);
  });

  it('help lists the exit codes and never shows an empty default', async () => {
    const top = await baton(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(
      /Exit codes[\s\S]*0 {2}it worked[\s\S]*1 {2}the thing failed[\s\S]*2 {2}a usage mistake/,
    );
    const run = await baton(['run', '--help']);
    expect(run.stdout).toContain('--parallel <n>');
    expect(run.stdout).toContain('(default: 2)');
    expect(run.stdout).not.toMatch(/\(default: (\{\}|\[\]|"")\)/);
  });

  it('completion: bash completes commands, subcommands and flags from the real command tree', async () => {
    const complete = (words: string[]) =>
      shell(
        `source <($BATON completion bash) && COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}) && COMP_CWORD=${
          words.length - 1
        } && _baton && echo "\${COMPREPLY[*]}"`,
      );
    expect((await complete(['baton', 'runs', 'l'])).out.trim()).toBe('list logs');
    expect((await complete(['baton', 'ru'])).out.trim().split(' ').sort()).toEqual([
      'run',
      'runner',
      'runners',
      'runs',
    ]);
    expect((await complete(['baton', 'runner', 'start', '--one'])).out.trim()).toBe('--one-off');
    const fish = await baton(['completion', 'fish']);
    expect(fish.stdout).toContain("complete -c baton -n '__fish_use_subcommand' -a 'runs'");
    const bad = await baton(['completion', 'tcsh']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("the shell must be one of bash, zsh, fish; got 'tcsh'");
  });
});

describe('the CLI when its reader goes away', () => {
  it('`baton runs logs … | head -1` prints one line and ends quietly', { timeout: 120_000 }, async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'pipe');
    const run = await server.client.submitRun('tasks:\n  loud:\n    run: seq 1 200000\n');
    expect((await waitForRun(server.client, run.id)).status).toBe('succeeded');
    const result = await shell(`$BATON runs logs ${run.id} loud | head -n 1`, {
      BATON_SERVER: server.url,
      BATON_TOKEN: server.adminToken,
    });
    expect(result.out).not.toMatch(/EPIPE|Error|\n\s+at /);
    expect(result.out.trim()).toBe('1');
  });
});
