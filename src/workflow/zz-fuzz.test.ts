// Property tests: the compiler and the template evaluator never throw anything unexpected.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compileWorkflow, ExpressionError, evaluateTemplate, type ExpressionContext } from './index.ts';

function expectResult(text: string | Uint8Array): void {
  const result = compileWorkflow(text);
  if (result.ok) expect(result.plan.tasks.length).toBeGreaterThan(0);
  else {
    expect(result.issues.length).toBeGreaterThan(0);
    for (const issue of result.issues) expect(issue.line).toBeGreaterThanOrEqual(1);
  }
}

const key = fc.constantFrom(
  'name',
  'env',
  'inputs',
  'defaults',
  'tasks',
  'run',
  'steps',
  'shell',
  'depends_on',
  'needs',
  'runs_on',
  'timeout',
  'working_directory',
  'type',
  'required',
  'default',
  'a',
  'b',
  '__proto__',
);
const leaf = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(
    '${{ inputs.x }}',
    '${{ tasks.a.result }}',
    '${{ (',
    '../x',
    '/abs',
    '10m',
    'bash',
    'perl {0}',
  ),
);
const yamlish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
})).value;

const ctx: ExpressionContext = {
  inputs: { x: '1' },
  env: { A: 'a' },
  tasks: { t: { outputs: { o: 'v' }, result: 'success' } },
};

describe('compileWorkflow properties', () => {
  it('returns a plan or issues, never throws, for arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => expectResult(text)),
      { numRuns: 500000 },
    );
  });

  it('returns a plan or issues for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => expectResult(bytes)),
      { numRuns: 20000 },
    );
  });

  it('returns a plan or issues for arbitrary YAML-ish documents, as YAML and as JSON', () => {
    fc.assert(
      fc.property(yamlish, (doc) => {
        expectResult(stringify(doc));
        expectResult(JSON.stringify(doc) ?? 'null');
      }),
      { numRuns: 500000 },
    );
  });

  it('returns a plan or issues for workflow-shaped documents', () => {
    const task = fc.record(
      {
        run: leaf,
        depends_on: fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }),
        shell: leaf,
        env: fc.dictionary(key, leaf),
      },
      { requiredKeys: [] },
    );
    const workflow = fc.record(
      {
        tasks: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'bad name'), task),
        inputs: fc.dictionary(key, leaf),
      },
      { requiredKeys: ['tasks'] },
    );
    fc.assert(
      fc.property(workflow, (doc) => expectResult(stringify(doc))),
      { numRuns: 500000 },
    );
  });
});

describe('evaluateTemplate properties', () => {
  it('returns a string or throws ExpressionError, for arbitrary templates', () => {
    const piece = fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.constantFrom(
        '${{',
        '}}',
        "'",
        '(',
        ')',
        '[',
        ']',
        '.',
        '!',
        '==',
        '&&',
        '||',
        'inputs',
        'env',
        'tasks',
        'x',
        '1',
        'null',
        ' ',
      ),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (pieces) => {
        try {
          expect(typeof evaluateTemplate(pieces.join(''), ctx)).toBe('string');
        } catch (error) {
          expect(error).toBeInstanceOf(ExpressionError);
        }
      }),
      { numRuns: 50000 },
    );
  });
});
