// A composite action's expressions moved into the calling job ("Metadata syntax for GitHub Actions": inputs,
// runs.steps; "Contexts": inputs, steps, github.action_path).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpressionError } from './expression-error.ts';
import { parseExpression } from './expression-parser.ts';
import { rewriteExpression, rewriteTemplate, templateExpression } from './action-rewrite.ts';
import { evaluateTemplate } from './template.ts';
import type { ExpressionContext } from './expression-eval.ts';

const scope = {
  inputs: new Map([
    ['who', "'Mona'"],
    ['count', "format('{0}', (1 + 0))"],
  ]),
  stepPrefix: 'greet/',
};

describe('rewriting a composite action into the job', () => {
  it.each([
    ['inputs.who', "('Mona')"],
    ["inputs['WHO'] == 'Mona'", "('Mona') == 'Mona'"],
    ['inputs.missing', "('')"],
    ['steps.say.outputs.text', "steps['greet/say'].outputs.text"],
    ["steps['say'].outcome", "steps['greet/say'].outcome"],
    ['github.action_path', 'env.GITHUB_ACTION_PATH'],
    ['github.sha', 'github.sha'],
    ["format('{0}', inputs.count)", "format('{0}', (format('{0}', (1 + 0))))"],
    ["'inputs.who'", "'inputs.who'"],
    ['env.inputs', 'env.inputs'],
  ])('%s becomes %s', (source, expected) => {
    expect(rewriteExpression(source, scope)).toBe(expected);
  });

  it('refuses reading inputs or steps as a whole', () => {
    expect(() => rewriteExpression('toJSON(inputs)', scope)).toThrow(/one name at a time/);
    expect(() => rewriteExpression('steps.*.outcome', scope)).toThrow(/one name at a time/);
  });

  it('rewrites only the expressions of a template', () => {
    expect(rewriteTemplate('hi ${{ inputs.who }} (inputs.who)', scope)).toBe(
      "hi ${{ ('Mona') }} (inputs.who)",
    );
  });

  it('turns a with: value into an expression whose value is its text, as GitHub passes inputs as strings', () => {
    const ctx = { matrix: { n: 3 }, env: {} } as unknown as ExpressionContext;
    const value = (text: string) => evaluateTemplate(`\${{ ${templateExpression(text)} }}`, ctx);
    expect(value("it's {plain}")).toBe("it's {plain}");
    expect(value('n=${{ matrix.n }} {x}')).toBe('n=3 {x}');
    expect(value('${{ matrix.n == 3 }}')).toBe('true');
    expect(value('')).toBe('');
  });
});

describe('rewriting any expression', () => {
  const piece = fc.constantFrom(
    'inputs',
    'steps',
    'github',
    'env',
    '.',
    'who',
    'say',
    'outputs',
    'action_path',
    "['who']",
    '[0]',
    '*',
    '(',
    ')',
    ',',
    ' == ',
    ' && ',
    '!',
    "'x'",
    '1',
    'format(',
    'toJSON(',
  );

  it('keeps a valid expression valid, and refuses only with an ExpressionError', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const source = pieces.join('');
        let valid = true;
        try {
          parseExpression(source);
        } catch {
          valid = false;
        }
        let rewritten: string;
        try {
          rewritten = rewriteExpression(source, scope);
        } catch (error) {
          expect(error).toBeInstanceOf(ExpressionError);
          return;
        }
        if (valid) expect(() => parseExpression(rewritten)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});
