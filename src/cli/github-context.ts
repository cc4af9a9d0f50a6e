// The GitHub facts `baton run` and `baton submit` send with a GitHub Actions workflow (docs/adr/0018): the git
// checkout they run in (sha, ref, repository from the `origin` remote), the event (--event, --event-file) and
// its payload, and `vars` (--var, --var-file). Outside a git checkout the git facts are empty strings.

import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { parseDotenv } from './dotenv.ts';
import { toError } from '../protocol/errors.ts';
import { eventProblem, varsProblems, type GitHubFacts } from '../protocol/github-context.ts';
import { CliError } from './common.ts';

export interface GitHubFlags {
  event?: string;
  eventFile?: string;
  var: Record<string, string>;
  varFile?: string;
}

/** What goes into the submit body besides the workflow. */
export interface GitHubSubmit {
  github?: GitHubFacts;
  vars?: Record<string, string>;
  inputs: Record<string, string>;
}

/** An event name as GitHub spells them: lower-case words joined by _. */
const EVENT_NAME = /^[a-z][a-z_]{0,63}$/;
/** --event-file and --var-file: read at most this much (the payload's own limit is checked after parsing). */
const FILE_MAX_BYTES = 4 * 1024 * 1024;

/** --event, --event-file, --var, --var-file on `baton run` and `baton submit`. */
export function addGitHubOptions(command: Command): void {
  command
    .option(
      '--event <name>',
      "GitHub Actions workflows: the event (github.event_name); default: the workflow's only event, else push",
    )
    .option('--event-file <payload.json>', 'GitHub Actions workflows: the event payload (github.event)')
    .option('--var <NAME=value>', 'GitHub Actions workflows: a `vars` value (repeatable)', collectVar, {})
    .option('--var-file <file>', 'GitHub Actions workflows: `vars` from a dotenv file (NAME=value lines)');
}

/** `--var NAME=value` (repeatable). */
export function collectVar(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new CliError(`--var must look like NAME=value, got '${value}'`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/**
 * The facts, vars and inputs for a workflow; `{inputs}` alone when it is not a GitHub Actions workflow (no
 * `jobs:`), where --event and --var mean nothing. Throws CliError (exit 2) for a bad flag or file.
 */
export async function githubSubmit(
  workflow: { text: string; path: string },
  flags: GitHubFlags,
  inputs: Record<string, string>,
  cwd = process.cwd(),
): Promise<GitHubSubmit> {
  const read = await readGitHubWorkflow(workflow.text);
  const triggers = read?.triggers;
  if (read === undefined || triggers === undefined) {
    if (flags.event !== undefined || flags.eventFile !== undefined || Object.keys(flags.var).length > 0)
      throw new CliError('--event, --event-file and --var are for GitHub Actions workflows (jobs:)');
    return { inputs };
  }
  const eventName = flags.event ?? defaultEvent(triggers, Object.keys(inputs).length > 0);
  if (!EVENT_NAME.test(eventName))
    throw new CliError(
      `--event '${eventName}' is not an event name (like push, pull_request, workflow_dispatch)`,
    );
  if (triggers.length > 0 && !triggers.includes(eventName))
    throw new CliError(
      `the workflow does not run on '${eventName}': its 'on' lists ${triggers.join(', ')}; pick one with --event`,
    );
  const vars = { ...(flags.varFile === undefined ? {} : readVarFile(flags.varFile)), ...flags.var };
  const problems = varsProblems(vars);
  if (problems.length > 0) throw new CliError(problems.join('; '));
  const git = gitFacts(cwd);
  const payload = flags.eventFile === undefined ? undefined : readEventFile(flags.eventFile);
  // A workflow_dispatch payload's inputs are the run's inputs unless --input names them (as act reads them).
  const fromPayload = eventName === 'workflow_dispatch' ? payloadInputs(payload) : {};
  const path = workflowPath(cwd, workflow.path);
  const event = payload ?? defaultPayload(eventName, git, path);
  const { message: _message, author: _author, time: _time, ...facts } = git;
  const named = {
    workflow: read.name ?? path,
    workflow_ref: git.repository === '' ? '' : `${git.repository}/${path}@${git.ref}`,
    workflow_sha: git.sha,
  };
  return {
    github: { ...facts, ...named, event_name: eventName, event },
    vars,
    inputs: { ...fromPayload, ...inputs },
  };
}

/** The workflow file's path from the top of the checkout (as GitHub names workflows), else as given. */
function workflowPath(cwd: string, file: string): string {
  const top = git(cwd, 'rev-parse', '--show-toplevel');
  const inside = top === '' ? '' : relative(realpathOr(top), realpathOr(resolve(cwd, file)));
  return (inside === '' || inside.startsWith('..') ? file : inside).split(sep).join('/');
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The events of `on:`; see readGitHubWorkflow. */
export async function workflowTriggers(text: string): Promise<string[] | undefined> {
  return (await readGitHubWorkflow(text))?.triggers;
}

/**
 * The events of `on:` (a name, a list, or a map; [] without `on`) and the `name` of a GitHub Actions workflow,
 * undefined for any other text. Tolerant: the server reports a broken file with its line:column.
 */
async function readGitHubWorkflow(text: string): Promise<{ triggers: string[]; name?: string } | undefined> {
  // Loaded on use: `baton runner start` loads this file's command too, and a runner's process stays free of YAML.
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || !('jobs' in doc)) return undefined;
  const { on, name } = doc as Record<string, unknown>;
  const named = typeof name === 'string' && name !== '' ? { name } : {};
  if (typeof on === 'string') return { triggers: [on], ...named };
  if (Array.isArray(on)) return { triggers: on.filter((e): e is string => typeof e === 'string'), ...named };
  if (typeof on === 'object' && on !== null) return { triggers: Object.keys(on), ...named };
  return { triggers: [], ...named };
}

/**
 * As act does: the only event the workflow lists, else push when listed, else its first; push without `on`.
 * Given --input values and a workflow_dispatch trigger, workflow_dispatch: only its runs have inputs.
 */
function defaultEvent(triggers: string[], inputsGiven: boolean): string {
  if (inputsGiven && triggers.includes('workflow_dispatch')) return 'workflow_dispatch';
  if (triggers.length === 1) return triggers[0]!;
  if (triggers.length === 0 || triggers.includes('push')) return 'push';
  return triggers[0]!;
}

type GitFacts = Omit<GitHubFacts, 'event_name' | 'event'> & {
  message: string;
  author: { name: string; email: string };
  time: string;
};

/** `git` in `cwd`: its output trimmed, or '' when git fails (not a checkout, no commit, no remote). */
function git(cwd: string, ...args: string[]): string {
  try {
    return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 })
      .toString()
      .trim();
  } catch {
    return '';
  }
}

export function gitFacts(cwd: string): GitFacts {
  const sha = git(cwd, 'rev-parse', '--verify', '-q', 'HEAD');
  let ref = git(cwd, 'symbolic-ref', '-q', 'HEAD');
  let refType = ref.startsWith('refs/heads/') ? 'branch' : '';
  if (ref === '' && sha !== '') {
    // A detached HEAD: the tag that points at it, as a tag push would have it.
    const tag = git(cwd, 'describe', '--tags', '--exact-match', 'HEAD');
    if (tag !== '') [ref, refType] = [`refs/tags/${tag}`, 'tag'];
  }
  const refName = ref.replace(/^refs\/(heads|tags)\//, '');
  const { owner, repository } = repositoryOf(git(cwd, 'remote', 'get-url', 'origin'));
  const [name = '', email = '', time = '', ...message] =
    sha === '' ? [] : git(cwd, 'log', '-1', '--format=%an%n%ae%n%aI%n%B', 'HEAD').split('\n');
  return {
    sha,
    ref,
    ref_name: refName,
    ref_type: refType,
    repository,
    repository_owner: owner,
    actor: localUser(),
    message: message.join('\n').trim(),
    author: { name, email },
    time,
  };
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}

/**
 * owner/name from a remote URL: https://host/owner/name(.git), ssh://git@host/owner/name.git, or
 * git@host:owner/name.git. Anything else (a local path) gives empty strings.
 */
export function repositoryOf(url: string): { owner: string; repository: string } {
  const match =
    /^(?:https?|ssh|git):\/\/(?:[^@/]+@)?[^/]+\/(.+?)(?:\.git)?\/?$/.exec(url) ??
    /^[^@/:\s]+@[^:/\s]+:(.+?)(?:\.git)?\/?$/.exec(url);
  const path = match?.[1]?.split('/') ?? [];
  if (path.length < 2) return { owner: '', repository: '' };
  const [owner, name] = path.slice(-2) as [string, string];
  return { owner, repository: `${owner}/${name}` };
}

/** A payload shaped like GitHub's for the event, from the checkout (docs "Events that trigger workflows"). */
function defaultPayload(eventName: string, g: GitFacts, workflowFile: string): Record<string, unknown> {
  const [owner, name] = g.repository === '' ? ['', ''] : g.repository.split('/');
  const repository = {
    name,
    full_name: g.repository,
    owner: { login: owner, name: owner },
    html_url: g.repository === '' ? '' : `https://github.com/${g.repository}`,
  };
  const sender = { login: g.actor };
  if (eventName === 'push') {
    const commit = {
      id: g.sha,
      message: g.message,
      timestamp: g.time,
      author: g.author,
      committer: g.author,
    };
    return {
      ref: g.ref,
      before: '0000000000000000000000000000000000000000',
      after: g.sha,
      created: false,
      deleted: false,
      forced: false,
      base_ref: null,
      commits: g.sha === '' ? [] : [commit],
      head_commit: g.sha === '' ? null : commit,
      pusher: g.author,
      repository,
      sender,
    };
  }
  if (eventName === 'workflow_dispatch')
    return { ref: g.ref, inputs: {}, workflow: workflowFile, repository, sender };
  return { repository, sender };
}

function readBounded(path: string, what: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new CliError(`cannot read ${what} ${path}: ${toError(error).message}`);
  }
  if (bytes.length > FILE_MAX_BYTES)
    throw new CliError(`${what} ${path} is ${bytes.length} bytes; the limit is ${FILE_MAX_BYTES} bytes`);
  return bytes.toString('utf8');
}

function readEventFile(path: string): Record<string, unknown> {
  const text = readBounded(path, '--event-file');
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw new CliError(`--event-file ${path} is not JSON: ${toError(error).message}`);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    throw new CliError(`--event-file ${path} must hold a JSON object (the event payload)`);
  const problem = eventProblem(payload as Record<string, unknown>);
  if (problem !== undefined) throw new CliError(`--event-file ${path}: ${problem}`);
  return payload as Record<string, unknown>;
}

/** `inputs` of a workflow_dispatch payload, each value as the string the API would take. */
function payloadInputs(payload: Record<string, unknown> | undefined): Record<string, string> {
  const inputs = payload?.inputs;
  if (typeof inputs !== 'object' || inputs === null) return {};
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(inputs))
    out[name] = typeof value === 'string' ? value : JSON.stringify(value);
  return out;
}

/** `--var-file FILE`: dotenv lines NAME=value, as act's --var-file reads them. */
function readVarFile(path: string): Record<string, string> {
  try {
    return parseDotenv(readBounded(path, '--var-file'));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`--var-file ${path}: ${toError(error).message}`);
  }
}
