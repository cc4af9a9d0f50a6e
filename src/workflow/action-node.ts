// A JavaScript action as the job's steps ("Metadata syntax for GitHub Actions", runs.using: node20 | node24):
// `main` run with the runner's own Node and INPUT_* variables, `pre` at the job's start, `post` at its end.

import type { StepSpec } from '../protocol/plan.ts';
import type { ActionMetadata } from './action-metadata.ts';
import {
  BASH,
  finish,
  quote,
  withStatus,
  type ActionCall,
  type ExpandedSteps,
  type Expansion,
} from './action-expansion.ts';
import { shellQuote } from './dialect-harness.ts';

export function expandNode(
  x: Expansion,
  call: ActionCall,
  action: Extract<ActionMetadata, { using: 'node20' | 'node24' }>,
  out: ExpandedSteps,
): void {
  // GitHub: INPUT_<NAME> with the name upper-cased and spaces as '_', for declared inputs (value or default)
  // and for every `with:` key.
  const env: Record<string, string> = { ...call.env };
  const variable = (name: string) => `INPUT_${name.replaceAll(' ', '_').toUpperCase()}`;
  for (const input of action.inputs)
    if (input.default !== undefined) env[variable(input.name)] = input.default;
  for (const given of call.with.values()) env[variable(given.name)] = given.value;
  const script = (path: string) => `exec "$BATON_NODE" "$GITHUB_ACTION_PATH"/${shellQuote(path)}\n`;
  const base = { shell: BASH, env, actionPath: action.dir };
  if (action.pre !== undefined)
    out.pre.push(
      finish(x, call, {
        ...base,
        name: `${call.name}/pre`,
        run: script(action.pre),
        if: action.preIf ?? 'always()',
      }),
    );
  const main: StepSpec = { ...base, name: call.name, run: script(action.main) };
  const preName = action.pre === undefined ? undefined : `${call.name}/pre`;
  if (preName !== undefined) main.stateFrom = [preName];
  if (call.condition !== undefined) main.if = call.condition;
  if (call.continueOnError) main.continueOnError = true;
  if (call.timeoutMs !== undefined) main.timeoutMs = call.timeoutMs;
  out.main.push(finish(x, call, main));
  if (action.post !== undefined) {
    // GitHub runs a post step only for an action whose main step ran; `post-if` defaults to always().
    const ran = `steps[${quote(call.name)}].outcome != 'skipped'`;
    const postIf = withStatus(action.postIf ?? 'always()');
    out.post.push(
      finish(x, call, {
        ...base,
        name: `${call.name}/post`,
        run: script(action.post),
        stateFrom: preName === undefined ? [call.name] : [preName, call.name],
        if: `(${postIf}) && ${ran}`,
      }),
    );
  }
}
