// Process containment: the argv prefix that makes a step's whole process tree die with its task and
// with the runner. Node cannot set a parent-death signal itself, so util-linux tools do it.
//
// namespace: setpriv --pdeathsig KILL -- unshare --pid --fork --kill-child=KILL --mount-proc -- sh -c <shim>
//   The step runs in its own pid namespace; when its init (the shim) exits, the kernel SIGKILLs every
//   process left in the namespace, including `setsid`/`nohup`/double-forked ones that left the process
//   group. The shim exists because a pid namespace's init ignores signals it has no handler for: the
//   user's script must not be init, or a plain SIGTERM would not stop it.
// pdeathsig: setpriv --pdeathsig KILL -- <argv>: the step's main process dies with the runner; the
//   process group is killed after the step; processes that called setsid can escape.
// none: process group only.

import { spawn } from 'node:child_process';
import { findOnPath } from './shell.ts';
import type { Containment } from './types.ts';

export type ContainmentLevel = Exclude<Containment, 'auto'>;

export interface ContainmentPlan {
  level: ContainmentLevel;
  /** Prepended to the step's argv. */
  prefix: string[];
  /**
   * namespace only: the same chain for a shell started before its step (warm-shells.ts), whose inner sh
   * sources the FIFO given as the last argument instead of exec'ing an argv.
   */
  warmPrefix?: string[];
}

/** Where the containment tools are looked for, whatever PATH a step gets. */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Runs as pid 1 of the step's namespace. Its own stderr goes to /dev/null (so "Terminated" notes of
 * the shell do not reach the log); a second sh, which becomes the step (pid 2), gets the original
 * stderr back from fd 3 and execs it. The stderr is not restored by a redirection on the step's
 * command in the shim: dash applies such redirections in the parent, and prints "Terminated" through
 * them when the step is killed. `$0` is a label.
 */
function shim(sh: string): string {
  return `exec 3>&2 2>/dev/null; '${sh}' -c 'exec 2>&3 3>&-; exec "$@"' baton-step "$@"; exit $?`;
}

/** The same, for a warm shell: the step's sh sources the launch script the runner writes to the FIFO `$1`. */
function warmShim(sh: string): string {
  return `exec 3>&2 2>/dev/null; '${sh}' -c 'exec 2>&3 3>&-; . "$1"' baton-step "$1"; exit $?`;
}

let detected: Promise<ContainmentPlan> | undefined;

/** The plan for `wanted`; `auto` is probed once per process and cached. */
export async function containmentPlan(wanted: Containment = 'auto'): Promise<ContainmentPlan> {
  if (wanted === 'auto') {
    detected ??= detect();
    return detected;
  }
  const plan = buildPlan(wanted);
  if (plan === undefined) throw new Error(`process containment '${wanted}' is not available on this machine`);
  return plan;
}

async function detect(): Promise<ContainmentPlan> {
  const namespace = buildPlan('namespace');
  if (namespace !== undefined && (await probe(namespace))) return namespace;
  return buildPlan('pdeathsig') ?? { level: 'none', prefix: [] };
}

function buildPlan(level: ContainmentLevel): ContainmentPlan | undefined {
  if (level === 'none') return { level, prefix: [] };
  const setpriv = findOnPath('setpriv', SYSTEM_PATH);
  if (setpriv === undefined) return undefined;
  const pdeathsig = [setpriv, '--pdeathsig', 'KILL', '--'];
  if (level === 'pdeathsig') return { level, prefix: pdeathsig };
  const unshare = findOnPath('unshare', SYSTEM_PATH);
  const sh = findOnPath('sh', SYSTEM_PATH);
  if (unshare === undefined || sh === undefined) return undefined;
  const namespace = [...pdeathsig, unshare, '--pid', '--fork', '--kill-child=KILL', '--mount-proc', '--'];
  return {
    level,
    prefix: [...namespace, sh, '-c', shim(sh), 'baton-step-init'],
    warmPrefix: [...namespace, sh, '-c', warmShim(sh), 'baton-step-init'],
  };
}

/** Creating namespaces needs root or unprivileged user namespaces; try it rather than guess. */
function probe(plan: ContainmentPlan): Promise<boolean> {
  const [command = '', ...args] = [...plan.prefix, 'true'];
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}
