// The GitHub runner's side of a github-dialect task (docs.github.com "Variables", "Default environment
// variables"; "Contexts"): the event payload file, the per-task tool cache, the GITHUB_* and RUNNER_* variables of
// each step, and the github/vars/job/strategy contexts its expressions read.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GITHUB_API_URL, GITHUB_GRAPHQL_URL, GITHUB_SERVER_URL } from '../protocol/github-context.ts';
import type { AssignedTask, StepSpec } from '../protocol/plan.ts';
import {
  githubContext,
  githubJobId,
  jobContext,
  pullRequestRefs,
  strategyContext,
} from '../workflow/github-context.ts';
import type { ExpressionContext, StatusContext } from '../workflow/runtime.ts';
import type { WorkDir } from './work-dir.ts';

/** Where the task's GitHub files live: Baton's side of the work dir, never the workspace (docs/adr/0003). */
export function githubPaths(dir: Pick<WorkDir, 'internal'>): { eventPath: string; toolCache: string } {
  return { eventPath: join(dir.internal, 'github', 'event.json'), toolCache: join(dir.internal, 'tool') };
}

/**
 * Writes GITHUB_EVENT_PATH's payload and makes the tool cache: both per task, so a step that rewrites them
 * changes only its own task (a shared tool cache would let one task plant tools for the next).
 */
export function writeGitHubFiles(task: AssignedTask, dir: WorkDir): void {
  const run = task.context.github;
  if (run === undefined) return;
  const paths = githubPaths(dir);
  mkdirSync(join(dir.internal, 'github'), { mode: 0o700 });
  writeFileSync(paths.eventPath, JSON.stringify(run.github.event, null, 2), { mode: 0o600 });
  mkdirSync(paths.toolCache, { mode: 0o700 });
}

/**
 * GITHUB_ACTION of a run step: its id, else `__run`, `__run_2`, … counting the steps without an id, as
 * actions/runner names them (docs "Default environment variables").
 */
export function githubActionName(steps: readonly StepSpec[], index: number): string {
  const step = steps[index];
  if (step?.id !== undefined) return step.id;
  const unnamed = steps.slice(0, index + 1).filter((s) => s.id === undefined).length;
  return unnamed <= 1 ? '__run' : `__run_${unnamed}`;
}

/** The runner's part of `runner` for a github task: tool_cache and environment. */
export function githubRunnerFields(task: AssignedTask, dir: WorkDir | undefined): Record<string, string> {
  if (task.context.github === undefined) return {};
  return { tool_cache: dir === undefined ? '' : githubPaths(dir).toolCache, environment: 'self-hosted' };
}

/** The github, vars, job and strategy contexts, and typed inputs; nothing for the other dialects. */
export function githubExpressionContexts(
  task: AssignedTask,
  o: {
    dir?: Pick<WorkDir, 'workspace' | 'internal'>;
    status?: StatusContext;
    stepIndex?: number;
    /** Inside a local action: its directory, github.action_path (set by the code that runs actions). */
    actionPath?: string;
  },
): Partial<ExpressionContext> {
  const run = task.context.github;
  if (run === undefined) return {};
  const github = githubContext(run, {
    runId: task.runId,
    attempt: task.attempt,
    workflow: task.context.run.name,
    spec: task.spec,
    ...(o.dir === undefined ? {} : { workspace: o.dir.workspace, eventPath: githubPaths(o.dir).eventPath }),
    ...(o.actionPath === undefined ? {} : { actionPath: o.actionPath }),
    ...(o.stepIndex === undefined || o.stepIndex < 0
      ? {}
      : { action: githubActionName(task.spec.steps, o.stepIndex) }),
  });
  return {
    inputs: run.inputs,
    github,
    vars: run.vars,
    job: jobContext(o.status),
    strategy: strategyContext(task.spec),
  };
}

/**
 * GITHUB_* and RUNNER_* of one step, set after the step's own env as the runner does (a workflow cannot
 * override them); CI and GITHUB_ACTIONS are true. Nothing for the other dialects.
 */
export function githubStepEnv(
  task: AssignedTask,
  dir: WorkDir,
  index: number,
  runner: Record<string, string>,
): Record<string, string> {
  const run = task.context.github;
  if (run === undefined) return {};
  const g = run.github;
  const paths = githubPaths(dir);
  const refs = pullRequestRefs(run);
  return {
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: dir.workspace,
    GITHUB_HEAD_REF: refs.head_ref,
    GITHUB_BASE_REF: refs.base_ref,
    GITHUB_SHA: g.sha,
    GITHUB_REF: g.ref,
    GITHUB_REF_NAME: g.ref_name,
    GITHUB_REF_TYPE: g.ref_type,
    GITHUB_REPOSITORY: g.repository,
    GITHUB_REPOSITORY_OWNER: g.repository_owner,
    GITHUB_EVENT_NAME: g.event_name,
    GITHUB_EVENT_PATH: paths.eventPath,
    GITHUB_ACTOR: g.actor,
    GITHUB_TRIGGERING_ACTOR: g.actor,
    GITHUB_RUN_ID: task.runId,
    GITHUB_RUN_NUMBER: g.run_number,
    GITHUB_RUN_ATTEMPT: String(task.attempt),
    GITHUB_JOB: githubJobId(task.spec),
    GITHUB_WORKFLOW: g.workflow ?? task.context.run.name,
    GITHUB_WORKFLOW_REF: g.workflow_ref ?? '',
    GITHUB_WORKFLOW_SHA: g.workflow_sha ?? '',
    GITHUB_SERVER_URL,
    GITHUB_API_URL,
    GITHUB_GRAPHQL_URL,
    GITHUB_ACTION: githubActionName(task.spec.steps, index),
    GITHUB_RETENTION_DAYS: '90',
    RUNNER_OS: runner.os ?? '',
    RUNNER_ARCH: runner.arch ?? '',
    RUNNER_NAME: runner.name ?? '',
    RUNNER_TEMP: dir.temp,
    RUNNER_TOOL_CACHE: paths.toolCache,
    RUNNER_ENVIRONMENT: 'self-hosted',
  };
}
