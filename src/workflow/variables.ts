// Values and files passed between tasks: every import comes from a dependency that exports it,
// and artifacts come only from dependencies.

import type { TaskDraft } from './drafts.ts';
import { didYouMean, makeIssue, type WorkflowIssue } from './issues.ts';

export function checkVariables(tasks: TaskDraft[]): WorkflowIssue[] {
  const byName = new Map(tasks.map((task) => [task.spec.name, task]));
  const issues: WorkflowIssue[] = [];
  for (const task of tasks) {
    const owner = `task '${task.spec.name}'`;
    for (const entry of task.imports) {
      const { from, variable } = entry.value;
      const source = byName.get(from);
      let problem: string | undefined;
      if (from === task.spec.name)
        problem = `${owner} imports '${variable}' from itself; a task imports from the tasks it depends on`;
      else if (source === undefined)
        problem = `${owner} imports from '${from}', which is not a task in this workflow${didYouMean(from, byName.keys())}`;
      else if (!task.spec.dependsOn.includes(from))
        problem = `${owner} imports '${variable}' from '${from}' but does not depend on it; add '${from}' to depends_on`;
      else if (source.matrix !== undefined)
        problem = `${owner} imports '${variable}' from '${from}', a matrix task that runs ${source.matrix.combinations.length} times; import from a task without a matrix`;
      else if (source.declaresExports && !source.spec.exports.some((spec) => spec.name === variable)) {
        const exported = source.spec.exports.map((spec) => spec.name);
        const list = exported.length === 0 ? 'it exports nothing' : `it exports ${exported.join(', ')}`;
        problem = `${owner} imports '${variable}' from '${from}', which does not export it${didYouMean(variable, exported)}; ${list}`;
      }
      if (problem !== undefined) issues.push(makeIssue('unknown_reference', problem, entry.at, entry.path));
    }
    for (const artifact of task.artifacts) {
      let problem: string | undefined;
      if (!byName.has(artifact.value))
        problem = `${owner} takes artifacts from '${artifact.value}', which is not a task in this workflow${didYouMean(artifact.value, byName.keys())}`;
      else if (!task.spec.dependsOn.includes(artifact.value))
        problem = `${owner} takes artifacts from '${artifact.value}' but does not depend on it; add '${artifact.value}' to depends_on`;
      if (problem !== undefined)
        issues.push(makeIssue('unknown_reference', problem, artifact.at, artifact.path));
    }
  }
  return issues;
}
