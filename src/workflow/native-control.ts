// Control keys of tasks and steps, shared by the dialects: conditions, booleans, durations,
// retries, exports and imports between tasks, uploads and artifacts from dependencies.

import {
  RETRY_ON,
  type ExportSpec,
  type ImportSpec,
  type RetryOn,
  type RetryPolicy,
} from '../protocol/plan.ts';
import { conditionSource } from './condition.ts';
import type { Located as LocatedValue, TemplateRef, TemplateWhere } from './drafts.ts';
import { ExpressionError } from './expression-error.ts';
import type { Field, Located, NodeReader } from './node-reader.ts';
import { ENV_NAME, OUTPUT_NAME, parseDuration } from './static-values.ts';

/** Retries: at most this many further attempts (so 11 attempts in all). */
export const MAX_RETRIES = 10;
/** Delay before the first retry when `backoff` is not given; it doubles for each later one. */
export const DEFAULT_RETRY_BACKOFF_MS = 10_000;

/**
 * An `if`: bare expression text or one `${{ }}`; stored bare. `if: false` and `if: true` are
 * accepted as the literals. Recorded for the compile-time expression checks. `toSource` turns the text into
 * the expression (a dialect's own reading; it may throw ExpressionError).
 */
export function readCondition(
  reader: NodeReader,
  loc: Located,
  owner: string,
  templates: TemplateRef[],
  where: TemplateWhere,
  earlierSteps?: readonly string[],
  toSource: (text: string) => string | undefined = conditionSource,
): string | undefined {
  const value = reader.scalar(loc);
  const text = typeof value === 'boolean' ? String(value) : reader.string(loc, `'if' of ${owner}`);
  if (text === undefined) return undefined;
  let source: string | undefined;
  try {
    source = toSource(text);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    reader.report('invalid_expression', `invalid 'if' of ${owner}: ${error.message}`, loc.at, loc.path);
    return undefined;
  }
  if (source === undefined) return undefined;
  const ref: TemplateRef = {
    text: source,
    at: loc.at,
    path: loc.path,
    what: `'if' of ${owner}`,
    kind: 'condition',
    where,
  };
  if (earlierSteps !== undefined) ref.earlierSteps = earlierSteps;
  templates.push(ref);
  return source;
}

export function readBool(reader: NodeReader, loc: Field, owner: string): boolean | undefined {
  const value = reader.scalar(loc);
  if (typeof value === 'boolean') return value;
  reader.report(
    'invalid_type',
    `'${loc.key}' of ${owner} must be true or false, not ${reader.describe(loc.node)}`,
    loc.at,
    loc.path,
  );
  return undefined;
}

/** A duration in ms: seconds as a number, or text like 90s, 10m, 1h30m, 500ms. */
export function readDuration(
  reader: NodeReader,
  loc: Located,
  owner: string,
  key: string,
): number | undefined {
  const value = reader.scalar(loc);
  if (typeof value !== 'string' && typeof value !== 'number') {
    reader.report(
      'invalid_type',
      `'${key}' of ${owner} must be a duration like 90s or 10m, not ${reader.describe(loc.node)}`,
      loc.at,
      loc.path,
    );
    return undefined;
  }
  const parsed = parseDuration(value);
  if ('ms' in parsed) return parsed.ms;
  reader.report(
    'invalid_value',
    `'${key}' of ${owner} (${String(value)}) ${parsed.reason}`,
    loc.at,
    loc.path,
  );
  return undefined;
}

/** `retries: 3` or `retries: { max: 3, backoff: 30s, on: [failed, timed_out] }`. */
export function readRetries(reader: NodeReader, loc: Located, owner: string): RetryPolicy | undefined {
  const what = `'retries' of ${owner}`;
  const policy: RetryPolicy = { max: 0, backoffMs: DEFAULT_RETRY_BACKOFF_MS, on: [...RETRY_ON] };
  const readMax = (at: Located): boolean => {
    const value = reader.scalar(at);
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_RETRIES) {
      policy.max = value;
      return true;
    }
    const message = `${what} must be a whole number from 0 to ${MAX_RETRIES} (further attempts after the first), not ${typeof value === 'number' ? String(value) : reader.describe(at.node)}`;
    reader.report(typeof value === 'number' ? 'invalid_value' : 'invalid_type', message, at.at, at.path);
    return false;
  };
  if (reader.scalar(loc) !== undefined) return readMax(loc) ? policy : undefined;
  const fields = reader.map(loc, what);
  if (fields === undefined) return undefined;
  let ok = true;
  let sawMax = false;
  for (const field of reader.checkKeys(fields, ['max', 'backoff', 'on'], what)) {
    if (field.key === 'max') {
      sawMax = true;
      ok = readMax(field) && ok;
    } else if (field.key === 'backoff') {
      const ms = readDuration(reader, field, owner, 'retries.backoff');
      if (ms === undefined) ok = false;
      else policy.backoffMs = ms;
    } else {
      const on = readRetryOn(reader, field, what);
      if (on === undefined) ok = false;
      else policy.on = on;
    }
  }
  if (!sawMax) {
    reader.report('missing_field', `${what} needs 'max': how many further attempts`, loc.at, loc.path);
    return undefined;
  }
  return ok ? policy : undefined;
}

function readRetryOn(reader: NodeReader, loc: Located, what: string): RetryOn[] | undefined {
  const values = reader.stringList(loc, `'on' of ${what}`);
  if (values === undefined) return undefined;
  const on: RetryOn[] = [];
  for (const item of values) {
    if ((RETRY_ON as readonly string[]).includes(item.value)) {
      if (!on.includes(item.value as RetryOn)) on.push(item.value as RetryOn);
    } else {
      const message = `'on' of ${what} has '${item.value}'; use ${RETRY_ON.join(', ')}`;
      reader.report('invalid_value', message, item.at, item.path);
      return undefined;
    }
  }
  return on;
}

/** `exports: [name, { name, confidential: true, scope: global }]`. */
export function readExports(reader: NodeReader, loc: Located, owner: string): ExportSpec[] {
  const items = reader.list(loc, `'exports' of ${owner}`) ?? [];
  const exports: ExportSpec[] = [];
  for (const item of items) {
    const what = `export ${item.path} of ${owner}`;
    const spec: ExportSpec = { name: '', confidential: false, scope: 'local' };
    let nameAt = item;
    if (reader.scalar(item) !== undefined) {
      spec.name = reader.string(item, what) ?? '';
    } else {
      const fields = reader.map(item, what) ?? [];
      let sawName = false;
      for (const field of reader.checkKeys(fields, ['name', 'confidential', 'scope'], what)) {
        if (field.key === 'name') {
          sawName = true;
          nameAt = field;
          spec.name = reader.string(field, `'name' of ${what}`) ?? '';
        } else if (field.key === 'confidential') {
          spec.confidential = readBool(reader, field, what) ?? false;
        } else {
          const scope = reader.string(field, `'scope' of ${what}`);
          if (scope === 'local' || scope === 'global') spec.scope = scope;
          else if (scope !== undefined)
            reader.report(
              'invalid_value',
              `'scope' of ${what} is '${scope}'; use local (dependents only) or global (also in the run's result)`,
              field.at,
              field.path,
            );
        }
      }
      if (!sawName && fields.length > 0) {
        reader.report('missing_field', `${what} needs a 'name'`, item.at, item.path);
        continue;
      }
    }
    if (spec.name === '') continue;
    if (!OUTPUT_NAME.test(spec.name)) {
      const message = `export name '${spec.name}' of ${owner} is not valid; use letters, digits, _ and -, not starting with a digit or -`;
      reader.report('invalid_name', message, nameAt.at, nameAt.path);
    } else if (exports.some((other) => other.name === spec.name)) {
      reader.report('invalid_value', `${owner} exports '${spec.name}' twice`, nameAt.at, nameAt.path);
    } else exports.push(spec);
  }
  return exports;
}

/** `imports: [{ from: build, variable: version, as: BUILD_VERSION }]`; `as` defaults to `variable`. */
export function readImports(
  reader: NodeReader,
  loc: Located,
  owner: string,
): Array<LocatedValue<ImportSpec>> {
  const imports: Array<LocatedValue<ImportSpec>> = [];
  for (const item of reader.list(loc, `'imports' of ${owner}`) ?? []) {
    const what = `import ${item.path} of ${owner}`;
    const fields = reader.map(item, what);
    if (fields === undefined) continue;
    const values: Partial<Record<'from' | 'variable' | 'as', { value: string; at: Field }>> = {};
    for (const field of reader.checkKeys(fields, ['from', 'variable', 'as'], what)) {
      const value = reader.string(field, `'${field.key}' of ${what}`);
      if (value !== undefined) values[field.key as 'from' | 'variable' | 'as'] = { value, at: field };
    }
    const { from, variable } = values;
    if (from === undefined || variable === undefined) {
      const missing = [from === undefined ? "'from'" : '', variable === undefined ? "'variable'" : '']
        .filter((part) => part !== '')
        .join(' and ');
      reader.report('missing_field', `${what} needs ${missing}`, item.at, item.path);
      continue;
    }
    const as = values.as ?? variable;
    if (!ENV_NAME.test(as.value)) {
      const message =
        values.as === undefined
          ? `${what} imports '${variable.value}', which is not a valid env name; add 'as' with letters, digits and _`
          : `'as' of ${what} ('${as.value}') is not a valid env name; use letters, digits and _, not starting with a digit`;
      reader.report('invalid_name', message, as.at.at, as.at.path);
      continue;
    }
    const twice = imports.find((other) => other.value.as === as.value);
    if (twice !== undefined) {
      reader.report(
        'invalid_value',
        `${owner} imports two values as '${as.value}' (the first at line ${twice.at.line}); give one a different 'as'`,
        as.at.at,
        as.at.path,
      );
      continue;
    }
    imports.push({
      value: { from: from.value, variable: variable.value, as: as.value },
      at: from.at.at,
      path: from.at.path,
    });
  }
  return imports;
}

/** `uploads: [report.html, out/**]`: relative paths or globs inside the work dir. */
export function readUploads(reader: NodeReader, loc: Located, owner: string): string[] {
  const uploads: string[] = [];
  for (const item of reader.stringList(loc, `'uploads' of ${owner}`) ?? []) {
    const problem = uploadProblem(item.value);
    if (problem === undefined) {
      if (!uploads.includes(item.value)) uploads.push(item.value);
    } else reader.report('invalid_path', `'uploads' of ${owner}: ${problem}`, item.at, item.path);
  }
  return uploads;
}

function uploadProblem(path: string): string | undefined {
  if (path.trim() === '') return 'an upload path is empty';
  if (/^([\\/]|[A-Za-z]:)/.test(path) || path.startsWith('~'))
    return `'${path}' is absolute; uploads are relative to the task's work dir`;
  if (path.split(/[\\/]/).includes('..')) return `'${path}' climbs out of the task's work dir with '..'`;
  return undefined;
}

/** `artifacts: { from: build }` or `{ from: [build, lint] }`. */
export function readArtifacts(reader: NodeReader, loc: Located, owner: string): Array<LocatedValue<string>> {
  const what = `'artifacts' of ${owner}`;
  const fields = reader.map(loc, what) ?? [];
  const from = reader.checkKeys(fields, ['from'], what).find((field) => field.key === 'from');
  if (from === undefined) {
    const message = `${what} needs 'from': the dependencies whose uploads to unpack`;
    reader.report('missing_field', message, loc.at, loc.path);
    return [];
  }
  return (reader.stringList(from, `'from' of ${what}`) ?? []).map((item) => ({
    value: item.value,
    at: item.at,
    path: item.path,
  }));
}
