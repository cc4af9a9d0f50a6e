// A command in a real pseudo-terminal: a tmux session on a socket of its own (in a temp dir), killed when the
// test ends, so no other tmux session is touched or left behind.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { waitFor } from './cluster.ts';
import { tempDir } from './temp.ts';

export interface Terminal {
  keys(...keys: string[]): void;
  type(text: string): void;
  /** The visible screen and up to 100 lines of scrollback. */
  screen(): string;
  waitFor(re: RegExp, what: string, timeoutMs?: number): Promise<string>;
}

/** Runs the shell `command` in a 120×40 terminal (TERM=xterm-256color) with `env`. */
export function inTerminal(command: string, env: NodeJS.ProcessEnv = process.env, cwd?: string): Terminal {
  const socket = join(tempDir('baton-tmux-'), 'socket');
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync(
    'tmux',
    ['-S', socket, '-f', '/dev/null', 'new-session', '-d', '-x', '120', '-y', '40', '-s', 'term', command],
    { env: { ...env, TERM: 'xterm-256color' }, ...(cwd === undefined ? {} : { cwd }) },
  );
  onTestFinished(() => {
    try {
      tmux('kill-server');
    } catch {
      // Already gone.
    }
  });
  const screen = () => tmux('capture-pane', '-p', '-t', 'term', '-S', '-100');
  return {
    keys: (...keys) => void tmux('send-keys', '-t', 'term', ...keys),
    type: (text) => void tmux('send-keys', '-t', 'term', '-l', text),
    screen,
    waitFor: async (re, what, timeoutMs = 30_000) => {
      try {
        return await waitFor(() => (re.test(screen()) ? screen() : undefined), what, timeoutMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}; screen:\n${screen()}`);
      }
    },
  };
}
