// The environment of one step: runner env, task env (workflow env, task env and imports, evaluated),
// values exported by earlier steps, step env, then Baton's own variables, which nothing overrides.

import { delimiter } from 'node:path';
import type { WorkDir } from './work-dir.ts';

export interface StepEnvInput {
  baseEnv: Record<string, string>;
  taskEnv: Record<string, string>;
  /** From BATON_ENV files of earlier steps. The step's own `env` wins over them, as in GitHub Actions. */
  exported: ReadonlyMap<string, string>;
  stepEnv: Record<string, string>;
  /** From BATON_PATH files of earlier steps, most recently added first; prepended to PATH. */
  paths: readonly string[];
  dir: WorkDir;
  /** GitHub-dialect tasks: GITHUB_* and RUNNER_* (github-env.ts), over the env above, under Baton's own. */
  github?: Record<string, string>;
  ids: { runId: string; taskId: string; taskName: string; attempt: number; stepName: string };
}

export function buildStepEnv(input: StepEnvInput): Record<string, string> {
  const env: Record<string, string> = {
    ...input.baseEnv,
    ...input.taskEnv,
    ...Object.fromEntries(input.exported),
    ...input.stepEnv,
  };
  if (input.paths.length > 0) {
    env.PATH = [...input.paths, ...(env.PATH === undefined || env.PATH === '' ? [] : [env.PATH])].join(
      delimiter,
    );
  }
  const { dir, ids } = input;
  return {
    ...env,
    ...input.github,
    CI: 'true',
    BATON_WORKSPACE: dir.workspace,
    BATON_RUN_ID: ids.runId,
    BATON_TASK_ID: ids.taskId,
    BATON_TASK_NAME: ids.taskName,
    BATON_ATTEMPT: String(ids.attempt),
    BATON_STEP_NAME: ids.stepName,
    BATON_OUTPUT: dir.outputFile,
    BATON_ENV: dir.envFile,
    BATON_PATH: dir.pathFile,
    BATON_MASK: dir.maskFile,
    BATON_TEMP: dir.temp,
    RUNNER_TEMP: dir.temp,
    GITHUB_OUTPUT: dir.outputFile,
    GITHUB_ENV: dir.envFile,
    GITHUB_PATH: dir.pathFile,
    GITHUB_STATE: dir.stateFile,
    GITHUB_STEP_SUMMARY: dir.summaryFile,
    ...(dir.harnessOutputFile === undefined ? {} : { OUTPUT_FILE: dir.harnessOutputFile }),
  };
}
