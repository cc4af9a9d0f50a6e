// Records every child process a test starts, so each one is stopped by PID and leaks are caught.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface TrackedChild {
  label: string;
  /** Stopped by the global afterEach without counting as a leak (helpers that own the process set this). */
  managed: boolean;
  pid: number;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<TrackedChild>();

export function startTracked(
  label: string,
  cmd: string,
  args: string[],
  options: SpawnOptions = {},
  managed = false,
): TrackedChild {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (child.pid === undefined) throw new Error(`could not start ${label}: ${cmd}`);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const tracked: TrackedChild = { label, managed, pid: child.pid, child, exited };
  children.add(tracked);
  void exited.then(() => children.delete(tracked));
  return tracked;
}

export function liveChildren(): TrackedChild[] {
  return [...children];
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export async function stopTracked(t: TrackedChild, graceMs = 5_000): Promise<void> {
  if (t.child.exitCode !== null || t.child.signalCode !== null) return;
  t.child.kill('SIGTERM');
  const timer = setTimeout(() => t.child.kill('SIGKILL'), graceMs);
  await t.exited;
  clearTimeout(timer);
}

export async function killAllChildren(): Promise<void> {
  await Promise.all([...children].map((c) => stopTracked(c, 2_000)));
}

/** Is a process with this pid still alive (zombies count as gone)? */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie still answers kill(0); /proc says whether it has exited.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** The parent pid of a live process, from /proc. */
export function parentOf(pid: number): number {
  return Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

/** Processes whose command line contains `marker` (scans /proc; finds them in any PID namespace). */
export function processesWithArg(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(marker) && pidAlive(Number(entry))) found.push(Number(entry));
    } catch {
      // The process ended while we looked: it is not running.
    }
  }
  return found.filter((pid) => pid !== process.pid);
}
