// A task of a custom type (run by a runner's CGI driver, docs/drivers.md): its `spec` read as plain JSON whose
// strings may hold templates (evaluated on the runner like a step's), and the workflow's `drivers:` list.

import { isMap, isScalar, isSeq } from 'yaml';
import { BUILT_IN_TASK_TYPES, customTypeProblem, DRIVERS_MAX } from '../protocol/task-types.ts';
import { addTemplate, type TaskDraft } from './drafts.ts';
import type { Located, NodeReader } from './node-reader.ts';

/** `translate` turns a dialect's own template syntax (Harness `{{ .task.var }}`) into `${{ }}`. */
export function readDriverSpec(
  reader: NodeReader,
  loc: Located,
  owner: string,
  draft: TaskDraft,
  translate: (text: string, at: Located) => string = (text) => text,
): Record<string, unknown> | undefined {
  if (!isMap(loc.node)) {
    reader.report(
      'invalid_type',
      `'spec' of ${owner} must be a map (the driver's input), not ${reader.describe(loc.node)}`,
      loc.at,
      loc.path,
    );
    return undefined;
  }
  const what = `'spec' of ${owner}`;
  const value = (at: Located): unknown => {
    if (isMap(at.node)) {
      const out: Record<string, unknown> = {};
      for (const field of reader.map(at, what) ?? []) out[field.key] = value(field);
      return out;
    }
    if (isSeq(at.node)) return (reader.list(at, what) ?? []).map(value);
    const scalar = isScalar(at.node) ? (at.node.value as unknown) : null;
    if (typeof scalar === 'string') {
      const text = translate(scalar, at);
      addTemplate(draft.templates, text, at, `${what} at '${at.path}'`, 'task');
      return text;
    }
    if (scalar === null || typeof scalar === 'number' || typeof scalar === 'boolean') return scalar;
    reader.report('invalid_type', `${what} holds ${reader.describe(at.node)}`, at.at, at.path);
    return null;
  };
  return value(loc) as Record<string, unknown>;
}

/**
 * A task's `type` when it is not one the dialect runs itself: a valid driver name, or undefined with an issue.
 * `builtIn` are the dialect's own types, named in the message.
 */
export function readCustomType(
  reader: NodeReader,
  name: string,
  at: Located,
  owner: string,
  builtIn: readonly string[],
): string | undefined {
  const problem = (BUILT_IN_TASK_TYPES as readonly string[]).includes(name)
    ? 'is not supported in this dialect'
    : customTypeProblem(name);
  if (problem === undefined) return name;
  reader.report(
    'invalid_value',
    `${owner} has type '${name}', which ${problem}; types: ${builtIn.join(', ')}, or a custom driver's name`,
    at.at,
    at.path,
  );
  return undefined;
}

/** Top-level `drivers: [name, …]`: the custom types the workflow needs, accepted before any runner has them. */
export function readDrivers(reader: NodeReader, loc: Located): string[] {
  const names: string[] = [];
  const items = reader.stringList(loc, "'drivers'") ?? [];
  if (items.length > DRIVERS_MAX) {
    reader.report(
      'limit_exceeded',
      `'drivers' lists ${items.length} types; the limit is ${DRIVERS_MAX}`,
      loc.at,
      loc.path,
    );
    return names;
  }
  for (const item of items) {
    const problem = customTypeProblem(item.value);
    if (problem !== undefined)
      reader.report('invalid_value', `driver '${item.value}' in 'drivers' ${problem}`, item.at, item.path);
    else if (!names.includes(item.value)) names.push(item.value);
  }
  return names;
}
