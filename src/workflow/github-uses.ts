// A workflow step with `uses:` (GitHub Actions dialect): its own keys read here, in the job's scope, and the
// action it names expanded into steps by action-steps.ts.

import type { ActionFiles } from './action-files.ts';
import { expandUses, readWith, type ExpandedSteps } from './action-steps.ts';
import { addTemplate, type TaskDraft } from './drafts.ts';
import type { WorkflowLimits } from './limits.ts';
import { readBool, readCondition } from './native-control.ts';
import { readEnv } from './native-env.ts';
import { readStepId, type StepNames } from './native-steps.ts';
import type { Field, NodeReader } from './node-reader.ts';

const USES_KEYS = [
  'name',
  'id',
  'uses',
  'with',
  'env',
  'if',
  'continue-on-error',
  'timeout-minutes',
] as const;
const HINTS: Record<string, string> = {
  run: "; a step has either 'run' or 'uses', not both",
  shell: "; 'shell' belongs to 'run' steps (an action's own steps name theirs)",
  'working-directory': "; 'working-directory' belongs to 'run' steps",
};

export interface UsesContext {
  reader: NodeReader;
  limits: WorkflowLimits;
  actions: ActionFiles;
  /** `timeout-minutes` in ms, as the dialect reads it for run steps. */
  minutes: (field: Field, owner: string) => number | undefined;
}

export function readUsesStep(
  ctx: UsesContext,
  fields: Field[],
  index: number,
  job: string,
  draft: TaskDraft,
  ids: StepNames,
  actionNames: string[],
): ExpandedSteps {
  const { reader } = ctx;
  const none: ExpandedSteps = { pre: [], main: [], post: [] };
  const owner = `step ${index + 1} of ${job}`;
  const known = new Map(reader.checkKeys(fields, USES_KEYS, owner, HINTS).map((field) => [field.key, field]));
  const get = (key: string) => (known.get(key)?.node === null ? undefined : known.get(key));
  const usesField = known.get('uses')!;
  const uses = reader.string(usesField, `'uses' of ${owner}`);
  const earlier = [...ids.earlier(), ...actionNames];
  const idField = get('id');
  const id = idField && readStepId(reader, idField, owner);
  if (id !== undefined && !ids.accept(id, idField!)) return none;
  if (uses === undefined) return none;
  const nameField = get('name');
  const display = nameField && reader.string(nameField, `'name' of ${owner}`, { convert: true });
  const conditionField = get('if');
  const condition =
    conditionField && readCondition(reader, conditionField, owner, draft.templates, 'step', earlier);
  const envField = get('env');
  const env = envField ? readEnv(reader, ctx.limits, envField, owner, draft.templates, 'step', earlier) : {};
  const withValues = readWith(reader, get('with'), owner, (text, at) => {
    addTemplate(draft.templates, text, at, `'with' of ${owner}`, 'step', earlier);
    return text;
  });
  const flag = get('continue-on-error');
  const timeout = get('timeout-minutes');
  const timeoutMs = timeout && ctx.minutes(timeout, owner);
  const expansion = {
    reader,
    limits: ctx.limits,
    actions: ctx.actions,
    templates: draft.templates,
    names: [...earlier],
    site: { at: usesField.at, path: usesField.path },
  };
  // The action's steps are named after the caller: two callers without an id and with one display name must
  // not share them (the later one gets a number, as repeated display names do).
  const base = id ?? display ?? `step-${index + 1}`;
  const taken = (name: string) =>
    earlier.includes(name) || actionNames.some((used) => used === name || used.startsWith(`${name}/`));
  let name = base;
  for (let n = 2; id === undefined && taken(name); n++) name = `${base} (${n})`;
  const expanded = expandUses(expansion, {
    uses,
    name,
    label: owner,
    with: withValues,
    ...(condition === undefined ? {} : { condition }),
    env,
    continueOnError: flag !== undefined && readBool(reader, flag, owner) === true,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    depth: 1,
    chain: [uses],
  });
  actionNames.push(...expansion.names.slice(earlier.length));
  return expanded;
}
