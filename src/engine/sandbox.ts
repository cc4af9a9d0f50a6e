// The `sandbox` isolation level: each step starts inside bubblewrap (`bwrap`, Debian package `bubblewrap`).
//
// Contract: sandboxPlan() finds bwrap and proves it works by running a trivial sandbox (the same options a step
// gets, network cut included); it resolves undefined with the reason when it cannot. sandboxPrefix() builds,
// once per task, the argv that starts the step's init (step-init.ts) inside the task's sandbox; the runner then
// appends the init's arguments and the step's argv, exactly as under namespace containment.
//
// What a step sees, and nothing else:
//   /usr read-only, and /bin /sbin /lib* as the host has them (links on a merged-/usr system, read-only binds
//   of real directories otherwise); the few /etc files a shell, name resolution and TLS need (never all of
//   /etc); a fresh /proc of its own pid namespace and a minimal /dev; /tmp = the task's own tmp dir; the
//   task's workspace (read-write) and Baton's dir of the task read-only, except its tmp/, home/ and the four
//   command files (BATON_OUTPUT, BATON_ENV, BATON_PATH, BATON_MASK), which stay writable but cannot be
//   replaced (their directory is read-only), so the runner never follows a link a step planted there.
// Namespaces: pid, ipc, uts, cgroup (where the kernel has them), net when the task says `network: false`
// (then only a loopback of its own). A new session (no TIOCSTI into the runner's terminal), every capability
// dropped, killed with the runner (--die-with-parent), an empty environment (--clearenv): the step's own
// travels over fd 0 to the init, never in argv, which any process can read in /proc.
// The runner's config, token, key, spool, other tasks' dirs and its processes are simply not there.

import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { findOnPath } from './shell.ts';
import { initCommand } from './step-init.ts';
import { SYSTEM_PATH } from './system-path.ts';

/** Where the runner looks for bwrap; `BATON_BWRAP` names another binary (or a missing one, to test refusal). */
export function findBwrap(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env.BATON_BWRAP;
  if (given !== undefined && given !== '') return existsSync(given) ? given : undefined;
  return findOnPath('bwrap', SYSTEM_PATH);
}

/** The top-level system paths a merged-/usr Debian has as links into /usr; real directories elsewhere. */
const SYSTEM_DIRS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** What a shell, name resolution and TLS read from /etc. Missing ones are skipped. */
const ETC_FILES = [
  '/etc/passwd',
  '/etc/group',
  '/etc/hosts',
  '/etc/host.conf',
  '/etc/resolv.conf',
  '/etc/nsswitch.conf',
  '/etc/gai.conf',
  '/etc/services',
  '/etc/protocols',
  '/etc/localtime',
  '/etc/timezone',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/ssl/certs',
  '/etc/ssl/openssl.cnf',
  '/etc/ca-certificates',
  '/etc/ca-certificates.conf',
  '/etc/os-release',
  '/etc/debian_version',
  '/etc/mime.types',
];

/** The read-only system every sandbox gets, computed once per runner process. */
let systemArgs: string[] | undefined;

function systemView(): string[] {
  if (systemArgs !== undefined) return systemArgs;
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const dir of SYSTEM_DIRS) {
    const stat = lstatSync(dir, { throwIfNoEntry: false });
    if (stat === undefined) continue;
    if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else if (stat.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  for (const file of ETC_FILES) if (existsSync(file)) args.push('--ro-bind', file, file);
  systemArgs = args;
  return args;
}

const NAMESPACES = [
  '--die-with-parent',
  '--new-session',
  '--unshare-pid',
  '--unshare-ipc',
  '--unshare-uts',
  '--unshare-cgroup-try',
  '--cap-drop',
  'ALL',
  '--clearenv',
  // Not a secret: where the init finds its tools. The step's own PATH arrives with its environment.
  '--setenv',
  'PATH',
  SYSTEM_PATH,
  '--hostname',
  'baton-sandbox',
];

export interface SandboxPlan {
  bwrap: string;
  /** Whether `--unshare-net` works here, so a task with `network: false` can be run. */
  networkIsolation: boolean;
}

let probed: Promise<SandboxPlan | { error: string }> | undefined;

/** Finds and tries bwrap once per process; the error names the Debian package. */
export function sandboxPlan(): Promise<SandboxPlan | { error: string }> {
  probed ??= detect();
  return probed;
}

async function detect(): Promise<SandboxPlan | { error: string }> {
  const bwrap = findBwrap();
  if (bwrap === undefined)
    return {
      error: `bubblewrap (bwrap) is not installed${process.env.BATON_BWRAP ? ` at BATON_BWRAP=${process.env.BATON_BWRAP}` : ''}; install the Debian package 'bubblewrap' (apt-get install bubblewrap)`,
    };
  const plain = await tryRun(bwrap, false);
  if (plain !== undefined)
    return {
      error: `bubblewrap (${bwrap}) cannot start a sandbox on this machine: ${plain}; install or fix the Debian package 'bubblewrap' (it needs root or unprivileged user namespaces)`,
    };
  return { bwrap, networkIsolation: (await tryRun(bwrap, true)) === undefined };
}

/** Runs `true` in a sandbox built as a step's is; resolves undefined when it worked, else what bwrap said. */
function tryRun(bwrap: string, unshareNet: boolean): Promise<string | undefined> {
  const trueCommand = findOnPath('true', SYSTEM_PATH) ?? '/usr/bin/true';
  const args = [
    ...NAMESPACES,
    ...(unshareNet ? ['--unshare-net'] : []),
    ...systemView(),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    '--',
    trueCommand,
  ];
  return new Promise((resolve) => {
    let said = '';
    const child = spawn(bwrap, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: SYSTEM_PATH } });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (t: string) => (said += t.slice(0, 1000)));
    child.once('error', (error) => resolve(error.message));
    child.once('exit', (code, signal) =>
      resolve(code === 0 ? undefined : said.trim() || `exit ${code ?? signal ?? 'unknown'}`),
    );
  });
}

/** The dirs of one task that its sandbox binds (work-dir.ts WorkDir). */
export interface SandboxedTask {
  workspace: string;
  internal: string;
  /** Writable, bound at /tmp too. */
  temp: string;
  /** Writable: the step's HOME. */
  home: string;
  /** Writable files in the read-only `internal`. */
  commandFiles: string[];
  /** Writable directories in the read-only `internal` (a Harness task's OUTPUT_FILE directory). */
  writableDirs?: string[];
  /** `false`: no network but a loopback of the sandbox's own. */
  network: boolean;
  /** Shown read-only at the same path (a custom type's drivers directory, run-driver.ts). */
  readOnly?: string[];
}

/** Baton's variables that describe the runner, not a credential: kept for a sandboxed step. */
const RUNNER_FACTS = new Set(['BATON_RUNNER_NAME', 'BATON_RUNNER_HOST']);

/**
 * The runner's environment as a sandboxed step gets it: every other BATON_* name dropped, whatever put it
 * there (the runner already scrubs its own settings; this holds for any caller of the engine).
 */
export function sandboxBaseEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(([name]) => !name.startsWith('BATON_') || RUNNER_FACTS.has(name)),
  );
}

/** bwrap's argv for every step of one task, up to the init's own arguments (step-init.ts). */
export function sandboxPrefix(plan: SandboxPlan, task: SandboxedTask): string[] {
  const bash = findOnPath('bash', SYSTEM_PATH) ?? '/usr/bin/bash';
  const writable = (path: string) => ['--bind', path, path];
  return [
    plan.bwrap,
    ...NAMESPACES,
    ...(task.network ? [] : ['--unshare-net']),
    ...systemView(),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    // The task's tmp at /tmp first: a work root under /tmp is then made inside it, never in the host's /tmp.
    '--bind',
    task.temp,
    '/tmp',
    ...writable(task.workspace),
    '--ro-bind',
    task.internal,
    task.internal,
    ...writable(task.temp),
    ...writable(task.home),
    ...task.commandFiles.flatMap(writable),
    ...(task.writableDirs ?? []).flatMap(writable),
    ...(task.readOnly ?? []).flatMap((path) => ['--ro-bind', path, path]),
    // The sandbox's own root (where bwrap made the mount points) read-only too: no path outside the work
    // dir takes a write, not even one that would vanish with the sandbox.
    '--remount-ro',
    '/',
    '--',
    ...initCommand(bash),
  ];
}
