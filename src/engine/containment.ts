// Process containment: how a step is started so that its whole process tree dies with its task, with the
// runner, and — under `namespace` — when the runner stops renewing its lease, and so that it cannot reach the
// runner's files or other tasks.
//
// namespace: the compiled init (init/baton-init.c, built on first use by step-init-binary.ts), or where it
//   cannot be built, setpriv --pdeathsig KILL -- unshare --pid --fork --kill-child=KILL --mount-proc -- bash
//   <init>. Either way the step runs in its own pid and mount namespaces under an init: when the init exits,
//   the kernel SIGKILLs every process left in the namespace, including `setsid`/`nohup`/double-forked ones.
//   The environment travels over an inherited pipe, the step confirms its start on another, and a dead-man's
//   switch inside the namespace enforces the lease (see step-init.ts; the C init keeps the same contract).
//   Needs root (mounts, namespaces).
// pdeathsig: setpriv --pdeathsig KILL -- <argv>: the step's main process dies with the runner; the
//   process group is killed after the step; processes that called setsid can escape. No hiding, no
//   in-tree dead-man's switch: the runner's own timers fence the attempt.
// none: process group only.
// sandbox: bubblewrap (sandbox.ts) around the same init: the step sees only /usr, a few /etc files and its own
//   task's dirs; never picked by `auto`.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath } from './shell.ts';
import { sandboxPlan, type SandboxPlan } from './sandbox.ts';
import { initCommand } from './step-init.ts';
import { stepInit, type StepInit } from './step-init-binary.ts';
import { SYSTEM_PATH } from './system-path.ts';
import type { Containment } from './types.ts';

export type ContainmentLevel = Exclude<Containment, 'auto'>;

export interface ContainmentPlan {
  level: ContainmentLevel;
  /** Prepended to the step's argv (pdeathsig), or the chain up to the init's arguments (namespace). */
  prefix: string[];
  /** Sandbox: the bwrap found and proven to work (its argv is built per task, sandbox.ts sandboxPrefix). */
  sandbox?: SandboxPlan;
  /** Namespace: which init starts the steps (the compiled one is then the whole prefix), or why the chain. */
  init?: StepInit;
}

let detected: Promise<ContainmentPlan> | undefined;

/**
 * The plan for `wanted`; `auto` is probed once per process and cached. Under namespace containment the
 * compiled init replaces the chain once it is built and proven (step-init-binary.ts, once per directory).
 */
export async function containmentPlan(wanted: Containment = 'auto'): Promise<ContainmentPlan> {
  if (wanted === 'auto') {
    detected ??= detect();
    return withInit(await detected);
  }
  if (wanted === 'sandbox') {
    const sandbox = await sandboxPlan();
    if ('error' in sandbox) throw new Error(`isolation 'sandbox' is not available: ${sandbox.error}`);
    return { level: 'sandbox', prefix: [sandbox.bwrap], sandbox };
  }
  const plan = buildPlan(wanted);
  if (plan === undefined) throw new Error(`process containment '${wanted}' is not available on this machine`);
  return withInit(plan);
}

/** The level `wanted` gives here, without building the compiled init (limitsSupport asks before the runner
 * has said where the init is kept). */
export async function containmentLevel(wanted: Containment = 'auto'): Promise<ContainmentLevel> {
  if (wanted === 'auto') {
    detected ??= detect();
    return (await detected).level;
  }
  if (wanted === 'sandbox') return (await containmentPlan(wanted)).level;
  const plan = buildPlan(wanted);
  if (plan === undefined) throw new Error(`process containment '${wanted}' is not available on this machine`);
  return plan.level;
}

async function withInit(plan: ContainmentPlan): Promise<ContainmentPlan> {
  if (plan.level !== 'namespace') return plan;
  const init = await stepInit();
  return init.kind === 'compiled' ? { ...plan, prefix: [init.path], init } : { ...plan, init };
}

async function detect(): Promise<ContainmentPlan> {
  const namespace = buildPlan('namespace');
  if (namespace !== undefined && (await probe(namespace))) return namespace;
  return buildPlan('pdeathsig') ?? { level: 'none', prefix: [] };
}

function buildPlan(level: Exclude<ContainmentLevel, 'sandbox'>): ContainmentPlan | undefined {
  if (level === 'none') return { level, prefix: [] };
  const setpriv = findOnPath('setpriv', SYSTEM_PATH);
  if (setpriv === undefined) return undefined;
  const pdeathsig = [setpriv, '--pdeathsig', 'KILL', '--'];
  if (level === 'pdeathsig') return { level, prefix: pdeathsig };
  const unshare = findOnPath('unshare', SYSTEM_PATH);
  const bash = findOnPath('bash', SYSTEM_PATH);
  const mount = findOnPath('mount', SYSTEM_PATH);
  if (unshare === undefined || bash === undefined || mount === undefined) return undefined;
  return {
    level,
    prefix: [
      ...pdeathsig,
      unshare,
      '--pid',
      '--fork',
      '--kill-child=KILL',
      '--mount-proc',
      '--',
      ...initCommand(bash),
    ],
  };
}

/** Creating namespaces and mounting needs root; try the whole chain rather than guess. */
function probe(plan: ContainmentPlan): Promise<boolean> {
  const trueCommand = findOnPath('true', SYSTEM_PATH) ?? '/bin/true';
  const [command = '', ...args] = [...plan.prefix, '-', '-', '/', '/', '/', trueCommand];
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'ignore', 'ignore', 'ignore', 'ignore'],
      env: { PATH: SYSTEM_PATH },
      cwd: '/',
    });
    child.stdin?.end('\0');
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/** What a task must not see from its steps, and what it keeps. */
export interface TaskView {
  /** The work root: every other task's dirs live there and are covered. */
  workRoot: string;
  workspace: string;
  internal: string;
  /** Directories and files of the runner to cover (state dir, config, token file); missing ones are skipped. */
  hide: Array<{ path: string; kind: 'dir' | 'file' }>;
  /** Mount points made read-only in the step's view (the cgroup filesystems: a step cannot raise its limits). */
  readOnly?: string[];
}

/**
 * The task's mount table for the step's init (the compiled init/baton-init.c, or step-init.ts's `mount --all`),
 * as fstab text. Order matters: the runner's paths first, then the private /tmp, then the work root is
 * covered and the task's own dirs bound back. Every source of the task's own is a descriptor the init
 * opened before the first mount (step-init.ts: 7 workspace, 8 Baton's dir, 9 its tmp/), so a hidden path
 * above them (the embedded server's data dir holds the work root) cannot take them away.
 */
export function mountTable(view: TaskView): string {
  const lines = [
    // Source `none`, not the path: `mount --all` skips an entry whose source and target are already mounted.
    ...(view.readOnly ?? []).map((path) => entry('none', path, 'none', 'remount,bind,ro')),
    ...view.hide.map((h) =>
      h.kind === 'dir'
        ? entry('baton-hidden', h.path, 'tmpfs', 'size=16k,mode=0500,nosuid,nodev,noexec')
        : entry('/dev/null', h.path, 'none', 'bind'),
    ),
    // /tmp before the work root: when the work root lives under /tmp, its path is made again (X-mount.mkdir)
    // inside the task's own /tmp, so the task still finds its dirs where the runner said they are.
    entry('/proc/self/fd/9', '/tmp', 'none', 'bind'),
    entry('baton-work', view.workRoot, 'tmpfs', 'size=64k,mode=0755,nosuid,nodev,X-mount.mkdir'),
    entry('/proc/self/fd/7', view.workspace, 'none', 'bind,X-mount.mkdir'),
    entry('/proc/self/fd/8', view.internal, 'none', 'bind,X-mount.mkdir'),
  ];
  return lines.join('\n') + '\n';
}

/**
 * Writes the task's mount table into `controlDir` (a directory no task can open) for the bash chain, and
 * returns its path.
 */
export function writeMountTable(controlDir: string, name: string, view: TaskView): string {
  const path = join(controlDir, `${name}.fstab`);
  writeFileSync(path, mountTable(view), { mode: 0o600 });
  return path;
}

/**
 * The compiled init takes the table in its argument instead (`table:` + the text): no file per task. Only
 * paths, which the step reads in its own /proc/self/mountinfo anyway, and no other task sees the init's argv
 * (each has its own /proc).
 */
export const INLINE_MOUNT_TABLE = 'table:';

/** Whether the step view's `fstab` names a file the runner wrote (and removes after the task). */
export function isMountTableFile(fstab: string): boolean {
  return fstab !== '-' && !fstab.startsWith(INLINE_MOUNT_TABLE);
}

function entry(source: string, target: string, type: string, options: string): string {
  return `${fstabField(source)} ${fstabField(target)} ${type} ${options} 0 0`;
}

/** fstab fields are separated by blanks: libmount reads \ooo octal escapes. */
export function fstabField(value: string): string {
  return value.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}
