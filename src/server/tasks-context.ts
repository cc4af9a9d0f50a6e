// The `tasks` (and `needs`) expression context a task sees: its direct dependencies' outputs and results,
// plus one entry per matrix group it depends on (outputs merged, result combined). GitHub-dialect runs see
// GitHub's result words (success, failure, cancelled, skipped), as their workflows compare against them.

export interface DependencyResult {
  name: string;
  group?: string;
  status: string;
  outputs: Record<string, string>;
}

const GITHUB_RESULT: Record<string, string> = {
  succeeded: 'success',
  failed: 'failure',
  timed_out: 'failure',
  runner_lost: 'failure',
  cancelled: 'cancelled',
  skipped: 'skipped',
};

/** The combined status of a matrix group: failed over cancelled over skipped over succeeded. */
function combine(statuses: string[]): string {
  for (const s of ['failed', 'timed_out', 'runner_lost', 'cancelled', 'skipped'])
    if (statuses.includes(s)) return s;
  return statuses.length > 0 && statuses.every((s) => s === 'succeeded')
    ? 'succeeded'
    : (statuses[0] ?? 'skipped');
}

export function tasksContext(
  deps: DependencyResult[],
  dialect: string,
): Record<string, { outputs: Record<string, string>; result: string }> {
  const word = (status: string) => (dialect === 'github' ? (GITHUB_RESULT[status] ?? status) : status);
  const out: Record<string, { outputs: Record<string, string>; result: string }> = {};
  const groups = new Map<string, DependencyResult[]>();
  for (const d of deps) {
    out[d.name] = { outputs: d.outputs, result: word(d.status) };
    if (d.group !== undefined && d.group !== d.name) groups.set(d.group, [...(groups.get(d.group) ?? []), d]);
  }
  for (const [group, members] of groups) {
    if (out[group]) continue;
    out[group] = {
      outputs: Object.assign({}, ...members.map((m) => m.outputs)) as Record<string, string>,
      result: word(combine(members.map((m) => m.status))),
    };
  }
  return out;
}
