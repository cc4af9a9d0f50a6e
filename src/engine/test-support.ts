// Helpers for the engine's own tests: task builders, a log collector, and finding live processes by a
// unique token in their command line (pids inside a step's pid namespace mean nothing out here).

import { readdirSync, readFileSync } from 'node:fs';
import type { AssignedTask, StepSpec, TaskContext, TaskSpec } from '../protocol/plan.ts';
import { isLive } from './process-group.ts';
import { runTask } from './run-task.ts';
import type { EngineOptions, LogEvent, TaskOutcome } from './types.ts';

export type TestStep = Partial<StepSpec> & { run: string };

/** What a test may set: the assignment's own fields, the spec's fields and the context's, flat. */
export type TaskOverrides = Partial<Omit<AssignedTask, 'spec' | 'context'>> &
  Partial<Omit<TaskSpec, 'steps' | 'name'>> & { context?: Partial<TaskContext> };

export function makeTask(steps: TestStep[], overrides: TaskOverrides = {}): AssignedTask {
  const { runId, taskId, name, attempt, workflowEnv, artifacts, context, ...spec } = overrides;
  const taskName = name ?? 'build';
  return {
    runId: runId ?? 'run-1',
    taskId: taskId ?? 'task-1',
    name: taskName,
    attempt: attempt ?? 1,
    workflowEnv: workflowEnv ?? {},
    artifacts: artifacts ?? [],
    spec: {
      name: taskName,
      type: 'exec',
      env: {},
      dependsOn: [],
      runsOn: [],
      exports: [],
      imports: [],
      uploads: [],
      artifactsFrom: [],
      matrix: {},
      ...spec,
      steps: steps.map((s, i) => ({ name: `step${i + 1}`, shell: 'bash', env: {}, ...s })),
    },
    context: {
      inputs: {},
      tasks: {},
      matrix: {},
      run: { id: runId ?? 'run-1', name: 'test-run' },
      imports: {},
      mask: [],
      ...context,
    },
  };
}

export interface Collected {
  outcome: TaskOutcome;
  logs: LogEvent[];
  /** All stdout and stderr text, in arrival order. */
  output: string;
  system: string;
}

export async function runCollected(
  task: AssignedTask,
  options: Omit<EngineOptions, 'onLog' | 'baseEnv'> & Partial<Pick<EngineOptions, 'onLog' | 'baseEnv'>>,
): Promise<Collected> {
  const logs: LogEvent[] = [];
  const outcome = await runTask(task, {
    baseEnv: stringEnv(process.env),
    ...options,
    onLog: (e) => {
      logs.push(e);
      options.onLog?.(e);
    },
  });
  const text = (pick: (e: LogEvent) => boolean): string =>
    logs
      .filter(pick)
      .map((e) => e.text)
      .join('');
  return {
    outcome,
    logs,
    output: text((e) => e.stream !== 'system'),
    system: text((e) => e.stream === 'system'),
  };
}

export function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Pids of live (non-zombie) processes whose command line contains `token`. */
export function processesWith(token: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(token) && isLive(Number(entry))) found.push(Number(entry));
    } catch {
      continue; // the process exited while we looked
    }
  }
  return found;
}

/** Polls a cheap local condition no event announces (a process dying after its parent). */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Script lines that start two processes escaping the process group (setsid, nohup), each carrying
 * `token` in its command line, wait until both run, make a FIFO `go` and print "ready <workspace>".
 * Each escapee says it is up from its own bash, after setsid/nohup exec'd it: the command line alone would
 * show the token while setsid itself still ran in the step's group (or mid-exec, when it reads empty).
 */
export function escapees(token: string): string {
  return [
    `setsid bash -c 'echo up > setsid-up; sleep 600; : ${token}-setsid' &`,
    `nohup bash -c 'echo up > nohup-up; sleep 600; : ${token}-nohup' > /dev/null 2>&1 &`,
    'until [ -s setsid-up ] && [ -s nohup-up ]; do sleep 0.02; done',
    'mkfifo go',
    'echo "ready $PWD"',
  ].join('\n');
}

/** Both escapees are alive. (Counting pids would race: a forked child shows its parent's command line until it execs.) */
export function escapeesAlive(token: string): boolean {
  return processesWith(`${token}-setsid`).length > 0 && processesWith(`${token}-nohup`).length > 0;
}
