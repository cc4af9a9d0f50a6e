// The GitHub Actions dialect's run facts (issue 18, docs/adr/0018-github-context.md): what the CLI gathers from the
// git checkout and the event it was asked for, the `vars` it was given, and their limits. Sent with a submitted run,
// stored with it, and handed to every task of a github-dialect run. No imports: runners and the CLI load it.

/** The event payload as JSON: 1 MiB, GitHub's own ceiling for a webhook payload is 25 MB but its pushes are KBs. */
export const GITHUB_EVENT_MAX_BYTES = 1024 * 1024;
/** `vars`: GitHub's documented limits (48 KB per variable, 256 KB per workflow run, 1,000 per repository). */
export const GITHUB_VAR_MAX_BYTES = 48 * 1024;
export const GITHUB_VARS_MAX_TOTAL_BYTES = 256 * 1024;
export const GITHUB_VARS_MAX_COUNT = 1000;
/** A `vars` name as GitHub accepts it: letters, digits and _, not starting with a digit, not GITHUB_. */
export const GITHUB_VAR_NAME = /^(?!GITHUB_)[A-Za-z_][A-Za-z0-9_]*$/i;
/** Each of the short facts (sha, ref, repository, actor, event name): far past any real one. */
export const GITHUB_FACT_MAX_CHARS = 1024;

/**
 * What the submitter knows: the checkout and the event. Empty strings outside a git checkout. The request
 * schema is `GitHubFactsSchema` in api.ts (kept there: runners load this file and must not load TypeBox).
 */
export interface GitHubFacts {
  event_name: string;
  /** The event payload (`github.event`); its size is checked against GITHUB_EVENT_MAX_BYTES by the server. */
  event: Record<string, unknown>;
  sha: string;
  ref: string;
  ref_name: string;
  ref_type: string;
  repository: string;
  repository_owner: string;
  actor: string;
  /**
   * github.workflow: the workflow's `name`, or its file's path in the repository when it has none; absent, the
   * run's name. workflow_ref is `owner/repo/path@ref` and workflow_sha the commit, as GitHub has them.
   */
  workflow?: string;
  workflow_ref?: string;
  workflow_sha?: string;
}

/**
 * What a github-dialect run stores and its tasks receive: the facts, the run's number among the runs of its
 * workflow (`github.run_number`), `vars`, and the inputs with their declared types (a boolean input is a boolean
 * in expressions, as on GitHub).
 */
export interface GitHubRunContext {
  github: GitHubFacts & { run_number: string };
  vars: Record<string, string>;
  inputs: Record<string, string | number | boolean>;
}

/** GitHub.com's addresses: github.server_url, api_url, graphql_url (and GITHUB_SERVER_URL, …). */
export const GITHUB_SERVER_URL = 'https://github.com';
export const GITHUB_API_URL = 'https://api.github.com';
export const GITHUB_GRAPHQL_URL = 'https://api.github.com/graphql';

/** Problems with `vars` as sentences naming the value and the limit; empty when they are fine. */
export function varsProblems(vars: Record<string, string>): string[] {
  const problems: string[] = [];
  const names = Object.keys(vars);
  if (names.length > GITHUB_VARS_MAX_COUNT)
    problems.push(
      `${names.length} vars were given; the limit is ${GITHUB_VARS_MAX_COUNT} (GITHUB_VARS_MAX_COUNT)`,
    );
  let total = 0;
  for (const [name, value] of Object.entries(vars)) {
    if (!GITHUB_VAR_NAME.test(name))
      problems.push(
        `var name '${name.slice(0, 100)}' is not valid: use letters, digits and _, not starting with a digit or GITHUB_`,
      );
    const bytes = utf8Bytes(value);
    total += bytes;
    if (bytes > GITHUB_VAR_MAX_BYTES)
      problems.push(
        `var '${name}' is ${bytes} bytes; the limit is ${GITHUB_VAR_MAX_BYTES} bytes per var (GITHUB_VAR_MAX_BYTES)`,
      );
  }
  if (total > GITHUB_VARS_MAX_TOTAL_BYTES)
    problems.push(
      `the vars are ${total} bytes together; the limit is ${GITHUB_VARS_MAX_TOTAL_BYTES} bytes per run (GITHUB_VARS_MAX_TOTAL_BYTES)`,
    );
  return problems;
}

/** The payload's problem (too large), or undefined. */
export function eventProblem(event: Record<string, unknown>): string | undefined {
  const bytes = utf8Bytes(JSON.stringify(event));
  return bytes > GITHUB_EVENT_MAX_BYTES
    ? `the event payload is ${bytes} bytes as JSON; the limit is ${GITHUB_EVENT_MAX_BYTES} bytes (GITHUB_EVENT_MAX_BYTES)`
    : undefined;
}

function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}
