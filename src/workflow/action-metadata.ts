// An action's `action.yml` ("Metadata syntax for GitHub Actions"), read with positions: its inputs, outputs and
// `runs` (composite steps, or a node20/node24 script with pre/post). Problems are reported by the action file's
// own reader; action-steps.ts moves them onto the workflow's `uses:` with the file's line and column.

import { isMap } from 'yaml';
import { readSource } from './source.ts';
import { formatBytes, type WorkflowLimits } from './limits.ts';
import { conditionSource } from './condition.ts';
import { ExpressionError } from './expression-error.ts';
import { MAX_ACTION_FILE_BYTES, type ActionFiles } from './action-files.ts';
import { NodeReader, type Field, type Located } from './node-reader.ts';
import { makeIssue, type WorkflowIssue } from './issues.ts';
import { loadYaml } from './yaml-load.ts';

export interface ActionInput {
  name: string;
  required: boolean;
  default?: string;
}

interface ActionBase {
  dir: string;
  /** `dir/action.yml`, for messages. */
  file: string;
  reader: NodeReader;
  inputs: ActionInput[];
}

export type ActionMetadata =
  | (ActionBase & {
      using: 'composite';
      steps: Located[];
      outputs: Array<{ name: string; value: string; at: Field }>;
    })
  | (ActionBase & {
      using: 'node20' | 'node24';
      main: string;
      pre?: string;
      post?: string;
      preIf?: string;
      postIf?: string;
    });

const ROOT_KEYS = ['name', 'description', 'author', 'inputs', 'outputs', 'runs', 'branding'] as const;
const NODE_KEYS = ['using', 'main', 'pre', 'post', 'pre-if', 'post-if'] as const;
const WHY_NOT: Record<string, string> = {
  docker:
    "Docker container actions are not supported: the embedded runner starts no containers; run the action's tool in a 'run' step",
  node12: 'GitHub no longer runs node12 actions; change runs.using to node20 or node24',
  node16: 'GitHub no longer runs node16 actions; change runs.using to node20 or node24',
};

/**
 * The action in `dir`, or issues (the whole file's problems, positioned in the file) when it cannot be used.
 * `missing` when the client sent no action file for `dir`.
 */
export function readActionMetadata(
  actions: ActionFiles,
  dir: string,
  limits: WorkflowLimits,
): { action?: ActionMetadata; issues: WorkflowIssue[]; file: string } | 'missing' {
  const entry = Object.hasOwn(actions, dir) ? actions[dir] : undefined;
  if (entry === undefined) return 'missing';
  const file = dir === '' ? entry.file : `${dir}/${entry.file}`;
  const bytes = Buffer.byteLength(entry.text, 'utf8');
  if (bytes > MAX_ACTION_FILE_BYTES) {
    const message = `action file is ${bytes} bytes; the limit is ${formatBytes(MAX_ACTION_FILE_BYTES)} per action file`;
    return { file, issues: [makeIssue('limit_exceeded', message, { line: 0, column: 0 }, '')] };
  }
  const source = readSource(entry.text, MAX_ACTION_FILE_BYTES);
  if (!source.ok) return { file, issues: [source.issue] };
  const loaded = loadYaml(source.text, limits.maxDepth);
  if (!loaded.ok) return { file, issues: loaded.issues };
  const reader = new NodeReader(loaded.doc, loaded.lineCounter, limits.maxAliases, source.text);
  const root = reader.root(loaded.doc);
  const action = readRoot(reader, root, dir, file);
  return { file, issues: [...loaded.issues, ...reader.issues], ...(action === undefined ? {} : { action }) };
}

function readRoot(reader: NodeReader, root: Located, dir: string, file: string): ActionMetadata | undefined {
  const fields = reader.map(root, 'the action') ?? [];
  const known = new Map(reader.checkKeys(fields, ROOT_KEYS, 'the action').map((f) => [f.key, f]));
  const inputs = readActionInputs(reader, known.get('inputs'));
  const runs = known.get('runs');
  if (runs === undefined || runs.node === null) {
    reader.report('missing_field', "the action needs 'runs'", root.at, '');
    return undefined;
  }
  const runFields = reader.map(runs, "'runs'");
  if (runFields === undefined) return undefined;
  const byKey = new Map(runFields.map((f) => [f.key, f]));
  const usingField = byKey.get('using');
  const using = usingField && reader.string(usingField, "'runs.using'");
  if (using === undefined) {
    if (usingField === undefined) reader.report('missing_field', "'runs' needs 'using'", runs.at, runs.path);
    return undefined;
  }
  const base = { dir, file, reader, inputs };
  if (using === 'composite') {
    reader.checkKeys(runFields, ['using', 'steps'] as const, "'runs'");
    const steps = byKey.get('steps');
    const items = steps && steps.node !== null ? reader.list(steps, "'runs.steps'") : undefined;
    if (items === undefined && (steps === undefined || steps.node === null))
      reader.report('missing_field', "a composite action needs 'runs.steps'", runs.at, runs.path);
    const outputs = readCompositeOutputs(reader, known.get('outputs'));
    return { ...base, using, steps: items ?? [], outputs };
  }
  if (using === 'node20' || using === 'node24') {
    reader.checkKeys(runFields, NODE_KEYS, "'runs'");
    const text = (key: string) => {
      const field = byKey.get(key);
      return field && field.node !== null ? reader.string(field, `'runs.${key}'`) : undefined;
    };
    const condition = (key: string) => {
      const value = text(key);
      try {
        return value === undefined ? undefined : conditionSource(value);
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        const field = byKey.get(key)!;
        reader.report('invalid_expression', `invalid 'runs.${key}': ${error.message}`, field.at, field.path);
        return undefined;
      }
    };
    const main = text('main');
    if (main === undefined) {
      reader.report(
        'missing_field',
        `a ${using} action needs 'runs.main', the script to run`,
        runs.at,
        runs.path,
      );
      return undefined;
    }
    const metadata: ActionMetadata = { ...base, using, main };
    for (const [key, field] of [
      ['pre', 'pre'],
      ['post', 'post'],
    ] as const) {
      const value = text(field);
      if (value !== undefined) metadata[key] = value;
    }
    const preIf = condition('pre-if');
    if (preIf !== undefined) metadata.preIf = preIf;
    const postIf = condition('post-if');
    if (postIf !== undefined) metadata.postIf = postIf;
    return metadata;
  }
  const why = WHY_NOT[using] ?? 'Baton runs composite, node20 and node24 actions';
  reader.report(
    'invalid_value',
    `'runs.using: ${using}' is not supported: ${why}`,
    usingField!.at,
    usingField!.path,
  );
  return undefined;
}

function readActionInputs(reader: NodeReader, loc: Field | undefined): ActionInput[] {
  if (loc === undefined || loc.node === null) return [];
  const inputs: ActionInput[] = [];
  for (const field of reader.map(loc, "'inputs'") ?? []) {
    const input: ActionInput = { name: field.key, required: false };
    inputs.push(input);
    if (field.node === null) continue;
    for (const key of reader.map(field, `input '${field.key}'`) ?? []) {
      if (key.key === 'default' && key.node !== null) {
        const value = reader.string(key, `'default' of input '${field.key}'`, { convert: true });
        if (value !== undefined) input.default = value;
      } else if (key.key === 'required') {
        const value = reader.scalar(key);
        input.required = value === true || (typeof value === 'string' && value.toLowerCase() === 'true');
      }
    }
  }
  return inputs;
}

function readCompositeOutputs(
  reader: NodeReader,
  loc: Field | undefined,
): Array<{ name: string; value: string; at: Field }> {
  if (loc === undefined || loc.node === null) return [];
  const outputs: Array<{ name: string; value: string; at: Field }> = [];
  for (const field of reader.map(loc, "'outputs'") ?? []) {
    const value = isMap(field.node)
      ? (reader.map(field, `output '${field.key}'`) ?? []).find((f) => f.key === 'value')
      : undefined;
    if (value === undefined || value.node === null) {
      reader.report(
        'missing_field',
        `output '${field.key}' of a composite action needs 'value' (for example \${{ steps.<id>.outputs.<name> }})`,
        field.keyAt,
        field.path,
      );
      continue;
    }
    const text = reader.string(value, `'value' of output '${field.key}'`, { convert: true });
    if (text !== undefined) outputs.push({ name: field.key, value: text, at: value });
  }
  return outputs;
}

/** An issue of an action file as one of the workflow's, at the `uses:` that brought the action in. */
export function issueFromAction(
  issue: WorkflowIssue,
  file: string,
  site: { at: { line: number; column: number }; path: string },
  label: string,
): WorkflowIssue {
  const where = issue.line > 0 ? `${file}:${issue.line}:${issue.column}` : file;
  return makeIssue(issue.code, `${where}: ${issue.message} (in ${label})`, site.at, site.path);
}
