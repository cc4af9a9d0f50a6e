// Shells: turn a step's `shell` (a known name or a `{0}` template) into an argv array that runs a
// script file. No shell string is ever built; the script path is always one argv element.

import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

export const SUPPORTED_SHELLS = ['bash', 'sh', 'python', 'node', 'pwsh'] as const;

export interface ShellCommand {
  command: string;
  args: string[];
}

/**
 * Resolves `shell` to an absolute command found on `pathEnv` (default: this process's PATH).
 * Throws an Error naming the shell when it is unknown or not installed.
 */
export function resolveShell(
  shell: string,
  scriptPath: string,
  pathEnv = process.env.PATH ?? '',
): ShellCommand {
  switch (shell) {
    case 'bash':
      return {
        command: need('bash', pathEnv),
        args: ['--noprofile', '--norc', '-eo', 'pipefail', scriptPath],
      };
    case 'sh':
      return { command: need('sh', pathEnv), args: ['-e', scriptPath] };
    case 'python': {
      const python = findOnPath('python3', pathEnv) ?? findOnPath('python', pathEnv);
      if (python === undefined) throw notInstalled('python', 'python3 or python');
      return { command: python, args: [scriptPath] };
    }
    case 'node':
      // The `node` on the step's PATH, not process.execPath: user scripts get the machine's node.
      return { command: need('node', pathEnv), args: [scriptPath] };
    case 'pwsh':
      return { command: need('pwsh', pathEnv), args: ['-NoProfile', '-NonInteractive', '-File', scriptPath] };
    default:
      return resolveTemplate(shell, scriptPath, pathEnv);
  }
}

/** `perl {0}` → ['perl', '<file>']: split on whitespace, `{0}` replaced inside each word. */
function resolveTemplate(template: string, scriptPath: string, pathEnv: string): ShellCommand {
  const words = template.trim().split(/\s+/);
  if (!template.includes('{0}') || words[0] === undefined || words[0] === '') {
    throw new Error(
      `unknown shell '${template}': use one of ${SUPPORTED_SHELLS.join(', ')}, or a command template holding {0} for the script file (e.g. "perl {0}")`,
    );
  }
  const argv = words.map((w) => w.replaceAll('{0}', scriptPath));
  const [program = '', ...args] = argv;
  return { command: need(program, pathEnv), args };
}

/** File extension for a step's script, so interpreters that care (pwsh, node) accept it. */
export function scriptExtension(shell: string): string {
  const program = shell.trim().split(/\s+/)[0] ?? '';
  const name = program.slice(program.lastIndexOf('/') + 1);
  if (['bash', 'sh', 'dash', 'zsh'].includes(name)) return '.sh';
  if (name === 'python' || name === 'python3') return '.py';
  if (name === 'node') return '.js';
  if (name === 'pwsh') return '.ps1';
  return '';
}

/** Like `which`: the first executable regular file called `name` on `pathEnv`. */
export function findOnPath(name: string, pathEnv: string): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue; // relative PATH entries would depend on the step's cwd
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    // Most PATH entries have no such file: answered without an exception, whose making cost more than the call
    // (a lookup runs for every step).
    if (statSync(file, { throwIfNoEntry: false })?.isFile() !== true) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false; // not executable, or a PATH entry that is no directory: the lookup goes on to the next entry
  }
}

function need(program: string, pathEnv: string): string {
  const found = findOnPath(program, pathEnv);
  if (found === undefined) throw notInstalled(program, program);
  return found;
}

/**
 * The message names the shell and what was looked for, never the PATH searched: a runner's PATH describes its
 * machine (home directories, tool versions) to whoever reads the task's result, and is long enough to bury the
 * point. The caller adds the step and the runner.
 */
function notInstalled(shell: string, looked: string): Error {
  const what = looked.includes('/')
    ? `${looked} does not exist or is not an executable file`
    : `no executable ${looked} on the step's PATH`;
  return new Error(`shell '${shell}' is not installed: ${what}`);
}
