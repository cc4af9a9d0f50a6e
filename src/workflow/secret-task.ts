// The `secret` task type's spec, checked at submit: `{source: baton, name}` (a Baton secret) or
// `{source: vault, address, path, key?, engine?, mount?, namespace?, auth}` (HashiCorp Vault's HTTP API). Every
// string may hold `${{ }}` (credentials as `${{ secrets.X }}`, so they reach the runner sealed); the fetch itself
// happens on the runner (engine/secret-task.ts). Outputs: `value` when `key` is given, else one per key.

import { addTemplate, type TaskDraft } from './drafts.ts';
import type { Field, Located, NodeReader } from './node-reader.ts';
import { SECRET_NAME } from './static-values.ts';

/** The sources a `secret` task can read from; each has one module on the runner (runner/secret-sources/). */
export const SECRET_SOURCES = ['baton', 'vault'] as const;
const BATON_KEYS = ['source', 'name'] as const;
const VAULT_KEYS = ['source', 'address', 'path', 'key', 'engine', 'mount', 'namespace', 'auth'] as const;
const VAULT_ENGINES = ['kv1', 'kv2'] as const;
const AUTH_KEYS = ['token', 'approle'] as const;
const APPROLE_KEYS = ['role_id', 'secret_id', 'mount'] as const;
/** The one output of a `secret` task that names a `key` (or reads a Baton secret). */
export const SECRET_VALUE_OUTPUT = 'value';

/** Reads `spec` of a `secret` task into `draft.spec.driverSpec`, reporting every problem with its place. */
export function readSecretSpec(reader: NodeReader, loc: Located, owner: string, draft: TaskDraft): void {
  const what = `'spec' of ${owner}`;
  const fields = reader.map(loc, what);
  if (fields === undefined) return;
  const sourceField = fields.find((f) => f.key === 'source');
  if (sourceField === undefined || sourceField.node === null) {
    reader.report(
      'missing_field',
      `${what} needs 'source': one of ${SECRET_SOURCES.join(', ')}`,
      loc.at,
      loc.path,
    );
    return;
  }
  const source = reader.string(sourceField, `'source' of ${owner}`);
  if (source === undefined) return;
  if (source === 'baton') {
    const known = byKey(reader.checkKeys(fields, BATON_KEYS, what));
    const name = required(reader, known, 'name', what, loc);
    if (name === undefined) return;
    const text = reader.string(name, `'name' of ${what}`);
    if (text === undefined) return;
    if (!SECRET_NAME.test(text)) {
      reader.report(
        'invalid_value',
        `'name' of ${what} is '${text}'; a secret name is letters, digits and _ and does not start with a digit`,
        name.at,
        name.path,
      );
      return;
    }
    // Read through the ordinary `secrets` context, so the server seals exactly this secret to the runner
    // and offers the task only to a runner with a key (protocol/secret-names.ts).
    const value = `\${{ secrets.${text} }}`;
    addTemplate(draft.templates, value, name, `'name' of ${what}`, 'task');
    draft.spec.driverSpec = { source: 'baton', name: text, value };
    return;
  }
  if (source !== 'vault') {
    reader.report(
      'invalid_value',
      `'source' of ${owner} is '${source}'; supported sources: ${SECRET_SOURCES.join(', ')}`,
      sourceField.at,
      sourceField.path,
    );
    return;
  }
  const known = byKey(reader.checkKeys(fields, VAULT_KEYS, what));
  const spec: Record<string, unknown> = { source: 'vault', engine: 'kv2' };
  const pathField = required(reader, known, 'path', what, loc);
  const path = pathField && templated(reader, pathField, `'path' of ${what}`, draft);
  if (path !== undefined) spec.path = path;
  // Without an address, the runner's own VAULT_ADDR (as Vault's CLI does): a runner inside a private network
  // knows where its Vault is, the workflow need not (engine/secret-task.ts).
  for (const key of ['address', 'key', 'mount', 'namespace'] as const) {
    const field = known.get(key);
    const text =
      field && field.node !== null ? templated(reader, field, `'${key}' of ${what}`, draft) : undefined;
    if (text !== undefined) spec[key] = text;
  }
  const address = spec.address;
  if (typeof address === 'string' && !address.includes('${{') && !/^https?:\/\/[^\s/]+/.test(address))
    reader.report(
      'invalid_value',
      `'address' of ${what} is '${address}'; give Vault's URL, like https://vault.example.com:8200`,
      known.get('address')!.at,
      known.get('address')!.path,
    );
  const engine = known.get('engine');
  if (engine !== undefined && engine.node !== null) {
    const text = reader.string(engine, `'engine' of ${what}`);
    if (text !== undefined && !(VAULT_ENGINES as readonly string[]).includes(text))
      reader.report(
        'invalid_value',
        `'engine' of ${what} is '${text}'; supported engines: ${VAULT_ENGINES.join(', ')}`,
        engine.at,
        engine.path,
      );
    else if (text !== undefined) spec.engine = text;
  }
  const auth = required(reader, known, 'auth', what, loc);
  if (auth !== undefined) {
    const read = readAuth(reader, auth, `'auth' of ${what}`, draft);
    if (read !== undefined) spec.auth = read;
  }
  draft.spec.driverSpec = spec;
}

/** `{token}` or `{approle: {role_id, secret_id, mount?}}`: exactly one. */
function readAuth(
  reader: NodeReader,
  loc: Field,
  what: string,
  draft: TaskDraft,
): Record<string, unknown> | undefined {
  const fields = reader.map(loc, what);
  if (fields === undefined) return undefined;
  const known = byKey(reader.checkKeys(fields, AUTH_KEYS, what));
  const token = known.get('token');
  const approle = known.get('approle');
  if ((token === undefined) === (approle === undefined)) {
    reader.report(
      'invalid_value',
      `${what} needs exactly one of 'token' or 'approle: {role_id, secret_id}'`,
      loc.at,
      loc.path,
    );
    return undefined;
  }
  if (token !== undefined) {
    const text = templated(reader, token, `'token' of ${what}`, draft);
    return text === undefined ? undefined : { token: text };
  }
  const inner = reader.map(approle!, `'approle' of ${what}`);
  if (inner === undefined) return undefined;
  const roleKnown = byKey(reader.checkKeys(inner, APPROLE_KEYS, `'approle' of ${what}`));
  const out: Record<string, string> = {};
  for (const key of APPROLE_KEYS) {
    const field = roleKnown.get(key);
    if (field === undefined || field.node === null) {
      if (key !== 'mount')
        reader.report('missing_field', `'approle' of ${what} needs '${key}'`, approle!.at, approle!.path);
      continue;
    }
    const text = templated(reader, field, `'${key}' of 'approle' of ${what}`, draft);
    if (text !== undefined) out[key] = text;
  }
  return { approle: out };
}

/** An outputs list that a `secret` task with a `key` (or a Baton secret) can fill: only `value`. */
export function checkSecretExports(
  reader: NodeReader,
  draft: TaskDraft,
  owner: string,
  exports?: Field,
): void {
  const spec = draft.spec.driverSpec;
  if (spec === undefined || (spec.source === 'vault' && spec.key === undefined)) return;
  for (const e of draft.spec.exports)
    if (e.name !== SECRET_VALUE_OUTPUT)
      reader.report(
        'invalid_value',
        `${owner} exports '${e.name}', but a secret task that reads one value has only the output '${SECRET_VALUE_OUTPUT}'`,
        exports?.at ?? draft.at,
        exports?.path ?? draft.path,
      );
}

function byKey(fields: Field[]): Map<string, Field> {
  return new Map(fields.map((f) => [f.key, f]));
}

function required(
  reader: NodeReader,
  known: Map<string, Field>,
  key: string,
  what: string,
  loc: Located,
): Field | undefined {
  const field = known.get(key);
  if (field !== undefined && field.node !== null) return field;
  reader.report('missing_field', `${what} needs '${key}'`, loc.at, loc.path);
  return undefined;
}

/** A string field whose `${{ }}` is checked at submit like any task field's and evaluated on the runner. */
function templated(reader: NodeReader, field: Field, what: string, draft: TaskDraft): string | undefined {
  const text = reader.string(field, what, { convert: true });
  if (text === undefined) return undefined;
  if (text === '') {
    reader.report('invalid_value', `${what} is empty`, field.at, field.path);
    return undefined;
  }
  addTemplate(draft.templates, text, field, what, 'task');
  return text;
}
