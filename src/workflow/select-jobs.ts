// `baton run --job NAME` / a submit's `jobs`: run only the named jobs (tasks) and what they need, as
// `act -j NAME` does. A job with a matrix is named by its id (every combination) or one combination by its task
// name (the UI's "Re-run failed tasks").

import type { Plan, TaskSpec } from '../protocol/plan.ts';

/** The most job names one submit may select. */
export const MAX_SELECTED_JOBS = 100;

/** The name a task is selected by: its matrix group's (the id as written), else its own. */
function jobName(task: TaskSpec): string {
  return task.strategy?.group ?? task.name;
}

/** The plan with only the tasks of `jobs` and, transitively, those they depend on; or why not. */
export function selectJobs(
  plan: Plan,
  jobs: readonly string[],
): { ok: true; plan: Plan } | { ok: false; message: string } {
  if (jobs.length > MAX_SELECTED_JOBS)
    return { ok: false, message: `${jobs.length} jobs were selected; the limit is ${MAX_SELECTED_JOBS}` };
  const names = [...new Set(plan.tasks.map(jobName))];
  // A job id selects all its tasks; a task's own name (one matrix combination, `test (a)`) selects that one.
  const selects = (task: TaskSpec, job: string) => jobName(task) === job || task.name === job;
  const unknown = jobs.filter((job) => !plan.tasks.some((task) => selects(task, job)));
  if (unknown.length > 0) {
    const shown = names.slice(0, 20).join(', ') + (names.length > 20 ? ', …' : '');
    return {
      ok: false,
      message: `the workflow has no job ${unknown.map((j) => `'${j.slice(0, 100)}'`).join(', ')}; its jobs are ${shown}`,
    };
  }
  const byName = new Map(plan.tasks.map((task) => [task.name, task]));
  const keep = new Set<string>();
  const stack = plan.tasks.filter((task) => jobs.some((job) => selects(task, job))).map((task) => task.name);
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (keep.has(name)) continue;
    keep.add(name);
    for (const dep of byName.get(name)?.dependsOn ?? []) stack.push(dep);
  }
  return { ok: true, plan: { ...plan, tasks: plan.tasks.filter((task) => keep.has(task.name)) } };
}
