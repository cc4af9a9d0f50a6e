// `on.workflow_dispatch.inputs` and `on.workflow_call.inputs` with GitHub's types (docs "Workflow syntax",
// on.workflow_dispatch.inputs.<input_id>.type): boolean, number, choice (with options), environment, string.
// A declaration's problems are reported at their line:column; a given value is checked by resolveInputs.

import { INPUT_TYPES, type InputSpec, type InputType } from '../protocol/plan.ts';
import { didYouMean } from './issues.ts';
import type { Located, NodeReader } from './node-reader.ts';
import { readInputs } from './native.ts';

/** `workflow_call` inputs also take these (docs "on.workflow_call.inputs.<input_id>.type"). */
const CALL_TYPES: readonly string[] = ['boolean', 'number', 'string'];

export function readTypedInputs(
  reader: NodeReader,
  declared: Located,
  what: string,
  trigger: 'workflow_dispatch' | 'workflow_call',
): Record<string, InputSpec> {
  const inputs = readInputs(reader, declared, what, ['type', 'options']);
  const allowed = trigger === 'workflow_call' ? CALL_TYPES : INPUT_TYPES;
  for (const field of reader.map(declared, what) ?? []) {
    const spec = inputs[field.key];
    if (spec === undefined || reader.scalar(field) !== undefined) continue;
    const owner = `input '${field.key}'`;
    const parts = new Map((reader.map(field, owner) ?? []).map((part) => [part.key, part]));
    const typeField = parts.get('type');
    const type = typeField === undefined || typeField.node === null ? undefined : reader.scalar(typeField);
    if (typeof type === 'string' && allowed.includes(type)) {
      if (type !== 'string') spec.type = type as InputType;
    } else if (typeField !== undefined && type !== undefined && type !== null) {
      const message = `'type' of ${owner} is '${String(type)}'; ${trigger} inputs are ${allowed.join(', ')}${didYouMean(String(type), allowed)}`;
      reader.report('invalid_value', message, typeField.at, typeField.path);
    }
    const optionsField = parts.get('options');
    if (optionsField !== undefined && optionsField.node !== null) {
      const options = reader.stringList(optionsField, `'options' of ${owner}`);
      if (options !== undefined) spec.options = options.map((option) => option.value);
      if (spec.type !== 'choice') {
        const message = `${owner} has 'options' but its type is ${spec.type ?? 'string'}; options belong to type: choice`;
        reader.report('invalid_value', message, optionsField.keyAt, optionsField.path);
      }
    }
    if (spec.type === 'choice' && (spec.options === undefined || spec.options.length === 0))
      reader.report('missing_field', `${owner} is a choice and needs 'options'`, field.keyAt, field.path);
    const defaultField = parts.get('default');
    const problem = spec.default === undefined ? undefined : valueProblem(spec, spec.default);
    if (problem !== undefined && defaultField !== undefined)
      reader.report('invalid_value', `'default' of ${owner} ${problem}`, defaultField.at, defaultField.path);
  }
  return inputs;
}

/**
 * Why `value` does not fit the input's type, as the end of a sentence, or undefined. GitHub takes a boolean
 * as true or false, a number as any number JavaScript reads, a choice as one of its options.
 */
export function valueProblem(spec: InputSpec, value: string): string | undefined {
  switch (spec.type) {
    case 'boolean':
      return value === 'true' || value === 'false' ? undefined : `is '${value}'; a boolean is true or false`;
    case 'number':
      return value.trim() !== '' && Number.isFinite(Number(value))
        ? undefined
        : `is '${value}'; it must be a number`;
    case 'choice': {
      const options = spec.options ?? [];
      return options.includes(value)
        ? undefined
        : `is '${value}'; it must be one of ${options.map((o) => `'${o}'`).join(', ')}${didYouMean(value, options)}`;
    }
    default:
      return undefined;
  }
}
