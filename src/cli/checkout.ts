// `baton run` inside a git checkout: the checkout becomes each task's workspace, as `actions/checkout` makes it
// on GitHub. A snapshot is taken once, when the run starts, and the runner copies it into every task's fresh
// workspace (RunTaskOptions.seedWorkspace): a task never writes into the user's checkout, and two tasks never
// see each other's changes.
//
// The snapshot holds the files as they are on disk now — tracked ones and untracked ones git does not ignore,
// uncommitted edits included — and a `.git` of its own: a clone of depth 1 of the commit checked out (as
// actions/checkout fetches by default), on the same branch, with `origin` pointing where the checkout's does, and
// an index at HEAD so `git status` and `git diff` show the uncommitted edits.

import { execFileSync } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CliError, EXIT } from './common.ts';

/** The most file content a snapshot copies (what is not ignored by git); past it `baton run` stops, saying so. */
export const CHECKOUT_MAX_BYTES = 1024 * 1024 * 1024;

export interface Checkout {
  /** The checkout's top-level directory. */
  top: string;
  /** The snapshot directory given to the runner. */
  snapshot: string;
  files: number;
  bytes: number;
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
  }).toString();
}

/** The top level of the git work tree holding `dir`, or undefined outside one (or without git). */
export function gitTopLevel(dir: string): string | undefined {
  try {
    return git(dir, ['rev-parse', '--show-toplevel']).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Copies the work tree at `top` into `snapshot` (which must not exist yet); see the header. */
export function snapshotCheckout(top: string, snapshot: string, maxBytes = CHECKOUT_MAX_BYTES): Checkout {
  const fail = (what: string, error: unknown) =>
    new CliError(
      `cannot copy the checkout ${top} into the workspace: ${what}${error instanceof Error ? `: ${error.message.split('\n')[0]}` : ''}`,
      EXIT.failed,
    );
  const hasCommit = (() => {
    try {
      git(top, ['rev-parse', '--verify', '-q', 'HEAD']);
      return true;
    } catch {
      return false;
    }
  })();
  // As actions/checkout does by default: the one commit checked out (a shallow clone of depth 1), on the same
  // branch, or detached at the same commit. Its objects are copied, never shared: a task that rewrites its
  // .git (or runs in a sandbox that cannot see the checkout) touches nothing of the user's.
  mkdirSync(dirname(snapshot), { recursive: true });
  try {
    if (!hasCommit) git(dirname(snapshot), ['init', '-q', snapshot]);
    else {
      let branch: string | undefined;
      try {
        branch = git(top, ['symbolic-ref', '-q', '--short', 'HEAD']).trim();
      } catch {
        branch = undefined;
      }
      const url = `file://${top}`;
      if (branch !== undefined)
        git(dirname(snapshot), [
          'clone',
          '-q',
          '--depth',
          '1',
          '--no-checkout',
          '--branch',
          branch,
          url,
          snapshot,
        ]);
      else {
        const sha = git(top, ['rev-parse', 'HEAD']).trim();
        git(dirname(snapshot), ['init', '-q', snapshot]);
        git(snapshot, ['remote', 'add', 'origin', url]);
        git(snapshot, ['fetch', '-q', '--depth', '1', 'origin', sha]);
        git(snapshot, ['update-ref', '--no-deref', 'HEAD', sha]);
      }
    }
  } catch (error) {
    throw fail('git clone failed', error);
  }
  try {
    let origin: string | undefined;
    try {
      origin = git(top, ['remote', 'get-url', 'origin']).trim();
    } catch {
      origin = undefined;
    }
    const remotes = git(snapshot, ['remote']).split('\n');
    if (origin === undefined) {
      if (remotes.includes('origin')) git(snapshot, ['remote', 'remove', 'origin']);
    } else if (remotes.includes('origin')) git(snapshot, ['remote', 'set-url', 'origin', origin]);
    else git(snapshot, ['remote', 'add', 'origin', origin]);
    // The index at HEAD: the copied files then show as the edits they are.
    if (hasCommit) git(snapshot, ['reset', '-q']);
  } catch (error) {
    throw fail('could not set up its .git', error);
  }
  let listed: string;
  try {
    listed = git(top, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  } catch (error) {
    throw fail('git ls-files failed', error);
  }
  let files = 0;
  let bytes = 0;
  const seen = new Set<string>();
  for (const path of listed.split('\0')) {
    if (path === '' || seen.has(path)) continue;
    seen.add(path);
    const from = join(top, path);
    let stat;
    try {
      stat = lstatSync(from);
    } catch {
      continue; // deleted in the work tree, not yet in the index: as on disk
    }
    // A submodule (a directory in the index) is not copied: documented in docs/github-actions.md.
    if (!stat.isFile() && !stat.isSymbolicLink()) continue;
    const to = join(snapshot, path);
    mkdirSync(dirname(to), { recursive: true });
    if (stat.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else {
      bytes += stat.size;
      if (bytes > maxBytes)
        throw new CliError(
          `the checkout ${top} holds more than ${maxBytes} bytes of files git does not ignore (at ${path}); the limit for copying it into the workspace is ${maxBytes} bytes: ignore the large files in .gitignore, or run with --workspace empty`,
          EXIT.failed,
        );
      try {
        copyFileSync(from, to);
      } catch (error) {
        throw fail(`could not copy ${path}`, error);
      }
    }
    files++;
  }
  return { top, snapshot, files, bytes };
}
