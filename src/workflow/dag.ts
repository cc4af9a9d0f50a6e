// The task graph: every dependency names another existing task, and the graph has no cycle.

import { didYouMean, makeIssue, type WorkflowIssue } from './issues.ts';
import type { TaskDraft } from './drafts.ts';

export function checkDependencies(tasks: TaskDraft[]): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const byName = new Map(tasks.map((task) => [task.spec.name, task]));
  for (const task of tasks) {
    for (const dep of task.dependencies) {
      if (dep.value === task.spec.name) {
        issues.push(
          makeIssue(
            'self_dependency',
            `task '${dep.value}' depends on itself; remove it from depends_on`,
            dep.at,
            dep.path,
          ),
        );
      } else if (!byName.has(dep.value)) {
        const message = `task '${task.spec.name}' depends on '${dep.value}', which is not a task in this workflow${didYouMean(dep.value, byName.keys())}`;
        issues.push(makeIssue('unknown_dependency', message, dep.at, dep.path));
      }
    }
  }
  return [...issues, ...findCycles(tasks, byName)];
}

/**
 * One issue per cycle, found by an iterative depth-first search in file order (no recursion:
 * a chain of thousands of tasks must not overflow the stack). Self-dependencies are reported above.
 */
function findCycles(tasks: TaskDraft[], byName: Map<string, TaskDraft>): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const state = new Map<string, 'active' | 'done'>();
  const reported = new Set<string>();
  for (const start of tasks) {
    if (state.has(start.spec.name)) continue;
    const path: TaskDraft[] = [start];
    const next: number[] = [0];
    state.set(start.spec.name, 'active');
    while (path.length > 0) {
      const task = path[path.length - 1]!;
      const index = next[next.length - 1]!;
      const dep = task.dependencies[index];
      if (dep === undefined) {
        state.set(task.spec.name, 'done');
        path.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = index + 1;
      const target = byName.get(dep.value);
      if (target === undefined || target === task) continue;
      const seen = state.get(target.spec.name);
      if (seen === 'active') {
        const cycle = path.slice(path.indexOf(target)).map((member) => member.spec.name);
        const key = [...cycle].sort().join('\0');
        if (!reported.has(key)) {
          reported.add(key);
          // Reported at the first task of the cycle in file order, on its edge into the cycle.
          const first = path[path.indexOf(target)]!;
          const second = cycle[1] ?? target.spec.name;
          const edge = first.dependencies.find((candidate) => candidate.value === second) ?? dep;
          const message = `dependency cycle: ${[...cycle, target.spec.name].join(' -> ')}; remove one of these dependencies`;
          issues.push(makeIssue('dependency_cycle', message, edge.at, edge.path));
        }
      } else if (seen === undefined) {
        state.set(target.spec.name, 'active');
        path.push(target);
        next.push(0);
      }
    }
  }
  return issues;
}
