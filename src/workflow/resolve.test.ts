// resolveInputs: a run's inputs checked against the plan's declared inputs, defaults filled in.

import { describe, expect, it } from 'vitest';
import { compileWorkflow, resolveInputs } from './index.ts';
import type { Plan } from '../protocol/plan.ts';

function plan(text: string): Plan {
  const result = compileWorkflow(text);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.plan;
}

const withInputs = plan(`
inputs:
  version: { required: true }
  channel: stable
  note: { description: optional }
tasks: { a: { run: x } }
`);

describe('resolveInputs', () => {
  it('fills defaults and gives optional inputs without a default an empty value', () => {
    expect(resolveInputs(withInputs, { version: '2.0' })).toEqual({
      ok: true,
      inputs: { version: '2.0', channel: 'stable', note: '' },
    });
  });

  it('reports unknown and missing required inputs together', () => {
    expect(resolveInputs(withInputs, { versoin: '2.0' })).toEqual({
      ok: false,
      issues: [
        {
          code: 'unknown_input',
          message:
            "unknown input 'versoin'; did you mean 'version'?; declared inputs: version, channel, note",
          line: 0,
          column: 0,
          path: 'inputs.versoin',
        },
        {
          code: 'missing_input',
          message: "input 'version' is required and has no default; give it a value",
          line: 0,
          column: 0,
          path: 'inputs.version',
        },
      ],
    });
  });

  it('does not treat prototype names as declared inputs', () => {
    expect(resolveInputs(withInputs, { version: '1', constructor: 'x' }).ok).toBe(false);
  });
});
