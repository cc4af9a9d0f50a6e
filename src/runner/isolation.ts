// The isolation a runner gives its tasks, decided once at start (`runner start`, `runner pool`, a pool slot): the
// level asked for, proven on this machine — a sandbox that cannot start would fail every task — and whether a
// runner-wide `network: none` can be honoured.
import { sandboxPlan } from '../engine/index.ts';
import type { AgentOptions } from './agent.ts';
import { networkProblem, type Isolation, type RunnerNetwork } from './config.ts';

export type RunnerIsolation = NonNullable<AgentOptions['isolation']>;

/** `missing`: the machine lacks what the level needs (bubblewrap), rather than the request being contradictory. */
export type IsolationRefusal = { error: string; missing: boolean };

export async function proveIsolation(
  level: Isolation,
  network: RunnerNetwork,
): Promise<{ isolation: RunnerIsolation } | IsolationRefusal> {
  let isolation: RunnerIsolation = { level: 'host' };
  if (level === 'sandbox') {
    const plan = await sandboxPlan();
    if ('error' in plan)
      return { error: `cannot start with isolation 'sandbox': ${plan.error}`, missing: true };
    isolation = { level, networkIsolation: plan.networkIsolation };
  }
  const noNetwork = networkProblem(
    network,
    isolation.level,
    isolation.level === 'sandbox' && isolation.networkIsolation,
  );
  if (noNetwork !== undefined) return { error: `cannot start: ${noNetwork}`, missing: false };
  return { isolation };
}
