// Strings built by expressions are bounded: a short workflow cannot ask the runner for gigabytes.

import { describe, expect, it } from 'vitest';
import { MAX_EXPRESSION_STRING } from './expression-functions.ts';
import { evaluateTemplate, ExpressionError, type ExpressionContext } from './index.ts';

const seed = 'x'.repeat(64 * 1024);
const ctx: ExpressionContext = {
  inputs: {},
  env: { SEED: seed },
  tasks: {},
  matrix: {},
  run: { id: 'r1', name: 'n' },
  runner: { name: 'r', os: 'Linux', arch: 'X64', temp: '/tmp' },
  steps: {},
  secrets: {},
  imports: { list: JSON.stringify(Array.from({ length: 300 }, () => seed)) },
};

function failure(template: string): string {
  try {
    evaluateTemplate(template, ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(ExpressionError);
    return (error as Error).message;
  }
  throw new Error('expected an ExpressionError');
}

describe('expression string limit', () => {
  const limit = `the limit is ${MAX_EXPRESSION_STRING} (16 Mi) characters`;

  it('stops format(), join() and toJSON() at 16 Mi characters, naming the function and the limit', () => {
    expect(failure(`\${{ format('${'{0}'.repeat(300)}', env.SEED) }}`)).toContain(
      `format() would make a string of more than ${MAX_EXPRESSION_STRING} characters; ${limit}`,
    );
    expect(failure('${{ join(fromJSON(imports.list), env.SEED) }}')).toContain(
      `join() would make a string of more than ${MAX_EXPRESSION_STRING} characters; ${limit}`,
    );
    expect(failure('${{ toJSON(fromJSON(imports.list)) }}')).toContain(
      `toJSON() would make a string of more than ${MAX_EXPRESSION_STRING} characters; ${limit}`,
    );
  });

  it('stops a template that repeats a value past the limit', () => {
    expect(failure('${{ env.SEED }}'.repeat(300))).toContain(
      `the template would make a string of more than ${MAX_EXPRESSION_STRING} characters; ${limit}`,
    );
  });

  it('leaves strings under the limit alone', () => {
    expect(evaluateTemplate(`\${{ format('${'{0}'.repeat(200)}', env.SEED) }}`, ctx).length).toBe(
      200 * seed.length,
    );
  });
});
