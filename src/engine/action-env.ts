// Variables of a step that comes from a GitHub action (`uses: ./path`, compiled into steps): where the action's
// files are, and the Node that runs a node20/node24 action's scripts (the runner's own, pinned by Baton).

import { dirname, join } from 'node:path';
import type { StepSpec, TaskSpec } from '../protocol/plan.ts';

export function actionEnv(step: StepSpec, workspace: string): Record<string, string> {
  if (step.actionPath === undefined) return {};
  return { GITHUB_ACTION_PATH: join(workspace, step.actionPath), BATON_NODE: process.execPath };
}

/** A sandbox shows only what it binds: a task with action steps also sees the directory of the runner's Node. */
export function actionReadOnlyDirs(spec: TaskSpec): string[] {
  return spec.steps.some((step) => step.actionPath !== undefined) ? [dirname(process.execPath)] : [];
}
