// The GitHub Actions contexts a github-dialect task reads besides Baton's own (docs.github.com "Contexts"):
// `github`, `vars`, `job`, `strategy`, and `inputs` with their declared types. Built from the run's stored
// GitHubRunContext by the server (a job's `if`) and by the runner (everything a step reads).

import {
  GITHUB_API_URL,
  GITHUB_GRAPHQL_URL,
  GITHUB_SERVER_URL,
  type GitHubRunContext,
} from '../protocol/github-context.ts';
import type { InputSpec, TaskSpec } from '../protocol/plan.ts';
import type { StatusContext } from './expression-functions.ts';

/** Contexts only GitHub-dialect workflows have. */
export const GITHUB_CONTEXT_NAMES = ['github', 'vars', 'job', 'strategy'] as const;

/** What the task adds to the run's facts. `workspace` and `actionPath` exist only on the runner. */
export interface GitHubTaskFacts {
  runId: string;
  /** The task's attempt: GitHub's run_attempt (a re-run of a failed job is its next attempt there too). */
  attempt: number;
  /** The workflow's name (Baton's run name). */
  workflow: string;
  spec: Pick<TaskSpec, 'name' | 'strategy'>;
  workspace?: string;
  /** Inside a local action: its directory (github.action_path). Set by the code that runs actions. */
  actionPath?: string;
  /** The step's GITHUB_ACTION name (its id, or __run, __run_2, …). */
  action?: string;
  /** GITHUB_EVENT_PATH on the runner (github.event_path). */
  eventPath?: string;
}

/**
 * github.head_ref and base_ref: the pull request's head and base branches, from the payload of a
 * pull_request or pull_request_target event, else '' (docs "github context").
 */
export function pullRequestRefs(run: GitHubRunContext): { head_ref: string; base_ref: string } {
  const { event_name: name, event } = run.github;
  const pr = event.pull_request as { head?: { ref?: unknown }; base?: { ref?: unknown } } | undefined;
  if ((name !== 'pull_request' && name !== 'pull_request_target') || typeof pr !== 'object' || pr === null)
    return { head_ref: '', base_ref: '' };
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  return { head_ref: text(pr.head?.ref), base_ref: text(pr.base?.ref) };
}

/** GitHub's job id: a matrix expansion's is its job's id as written. */
export function githubJobId(spec: Pick<TaskSpec, 'name' | 'strategy'>): string {
  return spec.strategy?.group ?? spec.name;
}

/** The `github` context (docs "github context"); every value a string except `event`, as actions/runner has them. */
export function githubContext(run: GitHubRunContext, task: GitHubTaskFacts): Record<string, unknown> {
  return {
    ...run.github,
    ...pullRequestRefs(run),
    event_path: task.eventPath ?? '',
    run_id: task.runId,
    run_attempt: String(task.attempt),
    job: githubJobId(task.spec),
    workflow: run.github.workflow ?? task.workflow,
    workflow_ref: run.github.workflow_ref ?? '',
    workflow_sha: run.github.workflow_sha ?? '',
    workspace: task.workspace ?? '',
    action: task.action ?? '',
    action_path: task.actionPath ?? '',
    server_url: GITHUB_SERVER_URL,
    api_url: GITHUB_API_URL,
    graphql_url: GITHUB_GRAPHQL_URL,
    // Baton holds no GitHub token: an empty string, as a fork's pull request sees it (and nothing to mask).
    token: '',
    // Where an action's `retention_days` would be read; GitHub's default.
    retention_days: '90',
  };
}

/**
 * The `strategy` context (docs "strategy context"): a job without a matrix is one job of one, fail-fast true,
 * max-parallel 1, as actions/runner fills it.
 */
export function strategyContext(spec: Pick<TaskSpec, 'strategy'>): Record<string, number | boolean> {
  const s = spec.strategy;
  if (s === undefined) return { 'fail-fast': true, 'job-index': 0, 'job-total': 1, 'max-parallel': 1 };
  const total = s.total ?? 1;
  return {
    'fail-fast': s.failFast,
    'job-index': s.index ?? 0,
    'job-total': total,
    'max-parallel': s.maxParallel ?? total,
  };
}

/** The `job` context (docs "job context"): its status as the steps see it; no container or services here. */
export function jobContext(status: StatusContext | undefined): Record<string, unknown> {
  const word = status?.cancelled ? 'cancelled' : status?.failure ? 'failure' : 'success';
  return { status: word, container: {}, services: {} };
}

/**
 * Inputs as GitHub gives them to `inputs`: a boolean input is a boolean and a number input a number (docs
 * "inputs context": "preserves Boolean values as Booleans instead of converting them to strings").
 */
export function typedInputs(
  specs: Record<string, InputSpec>,
  values: Record<string, string>,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(values)) {
    const type = specs[name]?.type;
    if (type === 'boolean') out[name] = value.toLowerCase() === 'true';
    else if (type === 'number' && value.trim() !== '') out[name] = Number(value);
    else out[name] = value;
  }
  return out;
}
