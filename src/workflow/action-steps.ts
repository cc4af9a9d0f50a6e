// A GitHub step's `uses:` as Baton steps, at compile time. A composite action's steps join the job (named
// `<caller>/<id or n>`, their expressions rewritten into the job's scope, then one step named after the caller
// that writes the action's outputs); a node20/node24 action is one step running its `main` script with Baton's
// pinned Node, its `pre` at the job's start and its `post` at the job's end; `actions/checkout` of the
// workspace itself is a notice. Anything that would need the network is refused here, with the reason.

import { MAX_ACTION_DEPTH, parseUses } from './action-files.ts';
import { expandComposite } from './action-composite.ts';
import {
  BASH,
  echoStep,
  finish,
  type ActionCall,
  type ExpandedSteps,
  type Expansion,
} from './action-expansion.ts';
import { issueFromAction, readActionMetadata } from './action-metadata.ts';
import { expandNode } from './action-node.ts';
import { shellQuote } from './dialect-harness.ts';

export { readWith, type ActionCall, type ExpandedSteps, type Expansion } from './action-expansion.ts';

export function expandUses(x: Expansion, call: ActionCall): ExpandedSteps {
  const out: ExpandedSteps = { pre: [], main: [], post: [] };
  const fail = (why: string) =>
    x.reader.report('invalid_value', `${call.label} uses '${call.uses}': ${why}`, x.site.at, x.site.path);
  if (call.uses.includes('${{')) {
    fail("'uses' cannot hold expressions (GitHub reads it before any expression is evaluated)");
    return out;
  }
  const target = parseUses(call.uses);
  switch (target.kind) {
    case 'invalid':
      fail(target.reason);
      break;
    case 'docker':
      fail(
        "Docker actions are not supported: the embedded runner starts no containers and Baton does not pull images (no network); run the tool in a 'run' step",
      );
      break;
    case 'remote':
      fail(
        `actions from other repositories are not supported: Baton does not download '${target.name}' (no network when it compiles or runs a workflow); copy the action into this repository and use it as './path/to/action', or replace it with 'run' steps`,
      );
      break;
    case 'checkout':
      if (checkoutTargetsElsewhere(call, fail)) break;
      out.main.push(
        finish(x, call, {
          name: call.name,
          run: `echo ${shellQuote(`::notice::actions/checkout@${target.ref}: the workspace already is this repository's checkout; nothing to fetch`)}\n`,
          shell: BASH,
          env: {},
        }),
      );
      break;
    case 'local':
      if (call.depth > MAX_ACTION_DEPTH) {
        fail(
          `composite actions nest more than ${MAX_ACTION_DEPTH} levels deep (${call.chain.join(' → ')}); the limit is ${MAX_ACTION_DEPTH} levels`,
        );
        break;
      }
      expandLocal(x, call, target.dir, out);
      break;
  }
  return out;
}

/** `repository:` other than this one, or `path:`, would need a second checkout (the network). */
function checkoutTargetsElsewhere(call: ActionCall, fail: (why: string) => void): boolean {
  const repository = call.with.get('repository')?.value.replace(/\s+/g, '');
  if (repository !== undefined && repository !== '${{github.repository}}') {
    fail(
      "checking out another repository ('with: repository') is not supported: Baton does not fetch (no network); the workspace is this repository's checkout",
    );
    return true;
  }
  if (call.with.has('path')) {
    fail("'with: path' is not supported: the workspace itself is this repository's checkout");
    return true;
  }
  return false;
}

function expandLocal(x: Expansion, call: ActionCall, dir: string, out: ExpandedSteps): void {
  const read = readActionMetadata(x.actions, dir, x.limits);
  if (read === 'missing') {
    x.reader.report(
      'invalid_value',
      `${call.label} uses '${call.uses}': no action.yml or action.yaml in '${dir === '' ? '.' : dir}' came with the workflow; baton run, submit and validate send the action files of 'uses: ./…' steps, read relative to the repository root (the git top-level of the workflow file)`,
      x.site.at,
      x.site.path,
    );
    return;
  }
  const label = `the action '${call.uses}' used by ${call.label}`;
  for (const issue of read.issues) x.reader.issues.push(issueFromAction(issue, read.file, x.site, label));
  const action = read.action;
  if (action === undefined || read.issues.length > 0) return;
  const missing = action.inputs.filter(
    (input) => input.required && input.default === undefined && !call.with.has(input.name.toLowerCase()),
  );
  const warnings = missing.map((input) => `::warning::Input required and not supplied: ${input.name}`);
  if (action.using === 'composite') expandComposite(x, call, action, out, warnings, expandUses);
  else {
    if (warnings.length > 0) out.main.push(finish(x, call, echoStep(`${call.name}/inputs`, warnings)));
    expandNode(x, call, action, out);
  }
  for (const issue of action.reader.issues)
    x.reader.issues.push(issueFromAction(issue, read.file, x.site, label));
}
