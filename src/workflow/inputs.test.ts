// Run inputs: their sizes are limited where they are born, at submit, with the input's name in the issue.

import { describe, expect, it } from 'vitest';
import { compileWorkflow } from './compile.ts';
import { resolveInputs } from './inputs.ts';

function plan(text: string) {
  const compiled = compileWorkflow(text);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.issues));
  return compiled.plan;
}

describe('resolveInputs limits', () => {
  const declared = plan('inputs: { a: {}, b: {} }\ntasks: { t: { run: x } }\n');

  it('refuses an input value over maxInputValueBytes, naming the input, its size and the limit', () => {
    expect(resolveInputs(declared, { a: 'x'.repeat(65_537), b: 'ok' })).toEqual({
      ok: false,
      issues: [
        {
          code: 'limit_exceeded',
          message: "input 'a' is 65537 bytes; the limit is 65536 bytes (64 KiB) per input value",
          line: 0,
          column: 0,
          path: 'inputs.a',
        },
      ],
    });
    expect(resolveInputs(declared, { a: 'x'.repeat(65_536) }).ok).toBe(true);
  });

  it('refuses inputs whose names and values together pass maxInputsTotalBytes', () => {
    const result = resolveInputs(declared, { a: 'xxxx', b: 'yyyy' }, { maxInputsTotalBytes: 9 });
    expect(result).toEqual({
      ok: false,
      issues: [
        {
          code: 'limit_exceeded',
          message: 'the inputs are 10 bytes together (names and values); the limit is 9 bytes per run',
          line: 0,
          column: 0,
          path: 'inputs',
        },
      ],
    });
  });

  it('counts a default like a given value', () => {
    const big = plan(`inputs: { a: { default: ${'d'.repeat(70_000)} } }\ntasks: { t: { run: x } }\n`);
    expect(resolveInputs(big, {}).ok).toBe(false);
  });
});
