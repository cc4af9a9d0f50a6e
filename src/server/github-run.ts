// What a submitted GitHub-dialect run stores of the GitHub contexts (docs/adr/0018-github-context.md): the facts the
// submitter gathered (or those of a manual run when it sent none), `vars`, and the inputs with their types; a
// workflow_dispatch payload's `inputs` are the run's resolved inputs as strings, as on GitHub.
import { BatonError } from '../protocol/errors.ts';
import {
  eventProblem,
  varsProblems,
  type GitHubFacts,
  type GitHubRunContext,
} from '../protocol/github-context.ts';
import type { Plan } from '../protocol/plan.ts';
import { typedInputs } from '../workflow/github-context.ts';

/** Without facts (a run submitted from the UI or the API alone): a manual run, as GitHub's "Run workflow" button. */
const MANUAL: GitHubFacts = {
  event_name: 'workflow_dispatch',
  event: {},
  sha: '',
  ref: '',
  ref_name: '',
  ref_type: '',
  repository: '',
  repository_owner: '',
  actor: '',
};

/** The context to store with the run; undefined for the other dialects (they ignore github and vars). Throws 422. */
export function githubRunContext(
  plan: Plan,
  given: { github?: GitHubFacts; vars?: Record<string, string> },
  inputs: Record<string, string>,
): GitHubRunContext | undefined {
  if (plan.dialect !== 'github') return undefined;
  const vars = given.vars ?? {};
  const facts = given.github ?? MANUAL;
  const problems = varsProblems(vars);
  const tooLarge = eventProblem(facts.event);
  if (tooLarge !== undefined) problems.push(tooLarge);
  if (problems.length > 0)
    throw new BatonError('invalid_inputs', `${problems.join('; ')}; nothing was stored`);
  const event =
    facts.event_name === 'workflow_dispatch' ? { ...facts.event, inputs: { ...inputs } } : facts.event;
  // run_number is the store's to count, in the transaction that creates the run.
  return { github: { ...facts, event, run_number: '' }, vars, inputs: typedInputs(plan.inputs, inputs) };
}

/** The events whose runs have inputs on GitHub ("Contexts" > "inputs context"). */
const INPUT_EVENTS = ['workflow_dispatch', 'workflow_call'];

/**
 * Whether the run's declared inputs apply: always outside the GitHub dialect; for a GitHub workflow only when
 * its event is workflow_dispatch or workflow_call — on a push, GitHub's `inputs` context is empty, defaults and
 * `required` included. Inputs given with another event are refused (422): they would be silently dropped.
 */
export function takesInputs(
  plan: Plan,
  given: { github?: GitHubFacts; inputs?: Record<string, string> },
): boolean {
  const event = given.github?.event_name;
  if (plan.dialect !== 'github' || event === undefined || INPUT_EVENTS.includes(event)) return true;
  const names = Object.keys(given.inputs ?? {});
  if (names.length > 0)
    throw new BatonError(
      'invalid_inputs',
      `inputs were given (${names.join(', ')}) but the event is '${event}': GitHub gives inputs only to workflow_dispatch and workflow_call runs; run with --event workflow_dispatch; nothing was stored`,
    );
  return false;
}
