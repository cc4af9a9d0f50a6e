// A GitHub step's `uses:` as Baton steps, at compile time. A composite action's steps join the job (named
// `<caller>/<id or n>`, their expressions rewritten into the job's scope, then one step named after the caller
// that writes the action's outputs); a node20/node24 action is one step running its `main` script with Baton's
// pinned Node, its `pre` at the job's start and its `post` at the job's end; `actions/checkout` of the
// workspace itself is a notice. Anything that would need the network is refused here, with the reason.

import type { StepSpec } from '../protocol/plan.ts';
import { MAX_ACTION_DEPTH, parseUses, type ActionFiles } from './action-files.ts';
import { issueFromAction, readActionMetadata, type ActionMetadata } from './action-metadata.ts';
import {
  rewriteExpression,
  rewriteTemplate,
  templateExpression,
  type ActionScope,
} from './action-rewrite.ts';
import { conditionSource, conditionUsesStatus } from './condition.ts';
import { shellQuote } from './dialect-harness.ts';
import type { TemplateRef } from './drafts.ts';
import { ExpressionError } from './expression-error.ts';
import { outputsStep } from './github-outputs.ts';
import type { Pos } from './issues.ts';
import type { WorkflowLimits } from './limits.ts';
import { readBool } from './native-control.ts';
import { readEnv } from './native-env.ts';
import { readShell, readStepId, readWorkDir } from './native-steps.ts';
import type { Field, Located, NodeReader } from './node-reader.ts';

/** What one job's `uses:` steps share while they are expanded. */
export interface Expansion {
  /** The workflow's reader: every issue ends up there, at `site`. */
  reader: NodeReader;
  limits: WorkflowLimits;
  actions: ActionFiles;
  /** The job's templates, for the compile-time expression checks. */
  templates: TemplateRef[];
  /** Names of the job's steps so far (what `steps.<name>` may read); expanded steps are added. */
  names: string[];
  /** The workflow's `uses:` being expanded: where every problem inside its actions is reported. */
  site: { at: Pos; path: string };
}

export interface ActionCall {
  /** As written. */
  uses: string;
  /** The caller's step name in the job: what `steps.<name>` reads after the action. */
  name: string;
  /** For messages, e.g. "step 2 of job 'build'". */
  label: string;
  /** `with:` by lower-case input name, each a template in the job's scope. */
  with: Map<string, { name: string; value: string }>;
  /** The caller's `if` in the job's scope (bare). */
  condition?: string;
  env: Record<string, string>;
  continueOnError: boolean;
  timeoutMs?: number;
  /** 1 for a workflow step; each composite level adds one. */
  depth: number;
  /** The `uses:` values from the workflow's step down to this one. */
  chain: string[];
}

export interface ExpandedSteps {
  /** Run at the job's start, in order (node actions' `pre`). */
  pre: StepSpec[];
  main: StepSpec[];
  /** Run at the job's end; the job runs the posts of later actions first. */
  post: StepSpec[];
}

const BASH = 'bash -e {0}';
const COMPOSITE_STEP_KEYS = [
  'name',
  'id',
  'run',
  'shell',
  'uses',
  'with',
  'env',
  'if',
  'working-directory',
  'continue-on-error',
] as const;

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
  if (action.using === 'composite') expandComposite(x, call, action, out, warnings);
  else {
    if (warnings.length > 0) out.main.push(finish(x, call, echoStep(`${call.name}/inputs`, warnings)));
    expandNode(x, call, action, out);
  }
  for (const issue of action.reader.issues)
    x.reader.issues.push(issueFromAction(issue, read.file, x.site, label));
}

/** A step printing `lines` (GitHub warns about a required input without a value and runs the action anyway). */
function echoStep(name: string, lines: string[]): StepSpec {
  return {
    name,
    run: lines.map((line) => `echo ${shellQuote(line)}\n`).join('') || ':\n',
    shell: BASH,
    env: {},
  };
}

function expandComposite(
  x: Expansion,
  call: ActionCall,
  action: Extract<ActionMetadata, { using: 'composite' }>,
  out: ExpandedSteps,
  warnings: string[],
): void {
  const { reader } = action;
  // The action starts once: its first step decides the caller's `if`, as GitHub decides it before the action.
  // The action's steps then look at that step and at the action's own failures, not at the caller's `if` again.
  const gate = echoStep(`${call.name}/(start)`, warnings);
  if (call.condition !== undefined) gate.if = call.condition;
  out.main.push(finish(x, call, gate));
  const started = `steps[${quote(gate.name)}].outcome == 'success'`;
  /** The action's steps so far whose failure fails the action (a step's own continue-on-error excuses it). */
  const counted: string[] = [];
  const noFailure = () => counted.map((name) => ` && steps[${quote(name)}].outcome != 'failure'`).join('');
  const inputs = new Map<string, string>();
  for (const [key, given] of call.with) inputs.set(key, templateExpression(given.value));
  for (const input of action.inputs) {
    const key = input.name.toLowerCase();
    if (!inputs.has(key)) inputs.set(key, templateExpression(input.default ?? ''));
  }
  const scope: ActionScope = { inputs, stepPrefix: `${call.name}/` };
  const rewrite = (text: string, at: Located, kind: 'template' | 'condition'): string | undefined => {
    try {
      return kind === 'template' ? rewriteTemplate(text, scope) : rewriteExpression(text, scope);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      reader.report('invalid_expression', `invalid expression: ${error.message}`, at.at, at.path);
      return undefined;
    }
  };
  const ids = new Set<string>();
  action.steps.forEach((item, index) => {
    const owner = `step ${index + 1} of the action`;
    const fields = reader.map(item, owner);
    if (fields === undefined) return;
    const known = new Map(
      reader.checkKeys(fields, COMPOSITE_STEP_KEYS, owner).map((field) => [field.key, field]),
    );
    const get = (key: string) => (known.get(key)?.node === null ? undefined : known.get(key));
    const idField = get('id');
    const id = idField && readStepId(reader, idField, owner);
    if (id !== undefined && ids.has(id.toLowerCase())) {
      reader.report('duplicate_key', `the action has two steps with id '${id}'`, idField!.at, idField!.path);
      return;
    }
    if (id !== undefined) ids.add(id.toLowerCase());
    const name = `${call.name}/${id ?? index + 1}`;
    const conditionField = get('if');
    const own = conditionField && readActionCondition(reader, conditionField, owner);
    const ownCondition = own === undefined ? undefined : rewrite(own, conditionField!, 'condition');
    const condition =
      ownCondition !== undefined && usesStatus(ownCondition)
        ? `${started} && (${ownCondition})`
        : `!cancelled() && ${started}${noFailure()}${ownCondition === undefined ? '' : ` && (${ownCondition})`}`;
    const envField = get('env');
    const env = { ...call.env };
    if (envField)
      for (const [key, value] of Object.entries(readEnv(reader, x.limits, envField, owner, [], 'step'))) {
        const text = rewrite(value, envField, 'template');
        if (text !== undefined) env[key] = text;
      }
    const flag = get('continue-on-error');
    const ownContinue = flag !== undefined && readBool(reader, flag, owner) === true;
    const continueOnError = call.continueOnError || ownContinue;
    const count = () => {
      if (!ownContinue && x.names.includes(name)) counted.push(name);
    };
    const usesField = get('uses');
    if (usesField !== undefined) {
      if (get('run') !== undefined)
        reader.report(
          'invalid_value',
          `${owner} has both 'run' and 'uses'; keep one`,
          usesField.at,
          usesField.path,
        );
      const uses = reader.string(usesField, `'uses' of ${owner}`);
      if (uses === undefined) return;
      const withValues = readWith(reader, get('with'), owner, (text, at) => rewrite(text, at, 'template'));
      const nested = expandUses(x, {
        uses,
        name,
        label: `${owner} '${call.uses}'`,
        with: withValues,
        condition,
        env,
        continueOnError,
        ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
        depth: call.depth + 1,
        chain: [...call.chain, uses],
      });
      out.pre.push(...nested.pre);
      out.main.push(...nested.main);
      out.post.unshift(...nested.post);
      count();
      return;
    }
    const runField = known.get('run');
    if (runField === undefined) {
      reader.report('missing_field', `${owner} needs 'run' or 'uses'`, item.at, item.path);
      return;
    }
    const shellField = get('shell');
    if (shellField === undefined)
      reader.report(
        'missing_field',
        `${owner} needs 'shell': every 'run' step of a composite action names its shell (bash, sh, python, node, pwsh or a template with {0})`,
        runField.keyAt,
        runField.path,
      );
    const shell = shellField === undefined ? 'bash' : readShell(reader, shellField, owner, 'bash');
    const script = reader.string(runField, `'run' of ${owner}`);
    const run = script === undefined ? undefined : rewrite(script, runField, 'template');
    if (run === undefined) return;
    const step: StepSpec = { name, run, shell, env, actionPath: action.dir };
    const wdField = get('working-directory');
    const wd = wdField && readWorkDir(reader, wdField, owner, undefined, 'working-directory');
    const workingDirectory = wd === undefined ? undefined : rewrite(wd, wdField!, 'template');
    if (workingDirectory !== undefined) step.workingDirectory = workingDirectory;
    step.if = condition;
    if (continueOnError) step.continueOnError = true;
    if (call.timeoutMs !== undefined) step.timeoutMs = call.timeoutMs;
    out.main.push(finish(x, call, step, `step ${index + 1} of ${action.file}`));
    count();
  });
  // The caller's own record: the action's outputs, each rewritten into the job's scope.
  const outputs: Array<[string, string]> = [];
  for (const output of action.outputs) {
    const value = rewrite(output.value, output.at, 'template');
    if (value !== undefined) outputs.push([output.name, value]);
  }
  const record = outputsStep(outputs);
  record.name = call.name;
  record.run = record.run.replace(
    "the job's outputs (GitHub Actions `outputs:`)",
    "a composite action's outputs",
  );
  // It stands for the action in `steps.<caller>`: skipped when the action did not start, failed when one of
  // its steps failed (after writing the outputs, as GitHub still sets them).
  record.if = `!cancelled() && ${started}`;
  if (counted.length > 0) {
    record.env.BATON_ACTION_FAILED = `\${{ ${counted.map((name) => `steps[${quote(name)}].outcome == 'failure'`).join(' || ')} }}`;
    record.run += 'if [ "$BATON_ACTION_FAILED" = true ]; then echo "the action failed" >&2; exit 1; fi\n';
  }
  if (call.continueOnError) record.continueOnError = true;
  out.main.push(finish(x, call, record, `the outputs of ${action.file}`));
}

function expandNode(
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
        if: `(${postIf}) && ${ran}`,
      }),
    );
  }
}

/** Records a step's name and its templates for the expression checks, at the workflow's `uses:`. */
function finish(x: Expansion, call: ActionCall, step: StepSpec, where = call.uses): StepSpec {
  const earlier = [...x.names];
  const ref = (text: string, what: string, kind: 'template' | 'condition') => {
    if (kind === 'template' && !text.includes('${{')) return;
    x.templates.push({
      text,
      at: x.site.at,
      path: x.site.path,
      what,
      kind,
      where: 'step',
      earlierSteps: earlier,
    });
  };
  const what = (field: string) => `'${field}' of ${where} (used by ${call.label})`;
  ref(step.run, what('run'), 'template');
  for (const [name, value] of Object.entries(step.env)) ref(value, what(`env ${name}`), 'template');
  if (step.if !== undefined) ref(step.if, what('if'), 'condition');
  if (step.workingDirectory !== undefined) ref(step.workingDirectory, what('working-directory'), 'template');
  x.names.push(step.name);
  return step;
}

/** `with:` as templates by lower-case name; `convert` rewrites each value (a nested action's caller scope). */
export function readWith(
  reader: NodeReader,
  loc: Field | undefined,
  owner: string,
  convert: (text: string, at: Located) => string | undefined = (text) => text,
): Map<string, { name: string; value: string }> {
  const values = new Map<string, { name: string; value: string }>();
  if (loc === undefined || loc.node === null) return values;
  for (const field of reader.map(loc, `'with' of ${owner}`) ?? []) {
    // A node action gets INPUT_<NAME>: a name must make a valid environment variable name.
    if (!/^[A-Za-z_][A-Za-z0-9_ .-]*$/.test(field.key)) {
      const message = `input name '${field.key}' in 'with' of ${owner} is not valid; use letters, digits, _, -, . and spaces, starting with a letter or _`;
      reader.report('invalid_name', message, field.keyAt, field.path);
      continue;
    }
    const text =
      field.node === null ? '' : reader.string(field, `'with.${field.key}' of ${owner}`, { convert: true });
    const value = text === undefined ? undefined : convert(text, field);
    if (value !== undefined) values.set(field.key.toLowerCase(), { name: field.key, value });
  }
  return values;
}

function readActionCondition(reader: NodeReader, loc: Located, owner: string): string | undefined {
  const value = reader.scalar(loc);
  const text = typeof value === 'boolean' ? String(value) : reader.string(loc, `'if' of ${owner}`);
  if (text === undefined) return undefined;
  try {
    return conditionSource(text);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    reader.report('invalid_expression', `invalid 'if' of ${owner}: ${error.message}`, loc.at, loc.path);
    return undefined;
  }
}

/** The condition calls a status function (then GitHub does not add `success() &&`). */
function usesStatus(condition: string): boolean {
  try {
    return conditionUsesStatus(condition);
  } catch (error) {
    if (error instanceof ExpressionError) return false; // reported by the expression checks
    throw error;
  }
}

function withStatus(condition: string): string {
  try {
    return conditionUsesStatus(condition) ? condition : `success() && (${condition})`;
  } catch (error) {
    if (error instanceof ExpressionError) return condition; // reported by the expression checks
    throw error;
  }
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
