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
  'jobs',
  'taskGroup',
  'runs-on',
  'strategy',
  'matrix',
  'include',
  'exclude',
  'if',
  'exports',
  'imports',
  'from',
  'variable',
  'uploads',
  'outputs',
  'spec',
  'command',
  'retries',
  'id',
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
    '${{ matrix.a }}',
    '${{ steps.a.outputs.b }}',
    'always()',
    '{{ .a.b }}',
    'os_exec',
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

const status = { success: true, failure: false, cancelled: false };
const ctx: ExpressionContext = {
  inputs: { x: '1' },
  env: { A: 'a' },
  tasks: { t: { outputs: { o: 'v' }, result: 'success' } },
};

describe('compileWorkflow properties', () => {
  it('returns a plan or issues, never throws, for arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => expectResult(text)),
      { numRuns: 500 },
    );
  });

  it('returns a plan or issues for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => expectResult(bytes)),
      { numRuns: 300 },
    );
  });

  it('returns a plan or issues for arbitrary YAML-ish documents, as YAML and as JSON', () => {
    fc.assert(
      fc.property(yamlish, (doc) => {
        expectResult(stringify(doc));
        expectResult(JSON.stringify(doc) ?? 'null');
      }),
      { numRuns: 500 },
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
      { numRuns: 500 },
    );
  });
});

describe('dialect properties', () => {
  it('returns a plan or issues for GitHub-, Harness- and BountyHub-shaped documents', () => {
    const step = fc.record({ run: leaf, id: leaf, if: leaf, shell: leaf, uses: leaf }, { requiredKeys: [] });
    const job = fc.record(
      {
        'runs-on': leaf,
        needs: fc.array(fc.constantFrom('a', 'b'), { maxLength: 2 }),
        steps: fc.array(step, { maxLength: 3 }),
        strategy: fc.record({
          matrix: fc.dictionary(
            fc.constantFrom('os', 'n', 'include', 'exclude'),
            fc.array(leaf, { maxLength: 3 }),
          ),
        }),
        outputs: fc.dictionary(key, leaf, { maxKeys: 2 }),
      },
      { requiredKeys: [] },
    );
    const harnessTask = fc.record(
      {
        name: fc.constantFrom('a', 'b'),
        type: leaf,
        spec: fc.record(
          { command: fc.oneof(leaf, fc.array(leaf, { maxLength: 3 })), envs: fc.dictionary(key, leaf) },
          { requiredKeys: [] },
        ),
        exports: fc.array(fc.oneof(leaf, fc.record({ name: leaf, confidential: leaf })), { maxLength: 2 }),
        imports: fc.array(fc.record({ from: leaf, variable: leaf }), { maxLength: 2 }),
        depends_on: fc.array(fc.constantFrom('a', 'b'), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    );
    const document = fc.oneof(
      fc.record({ jobs: fc.dictionary(fc.constantFrom('a', 'b'), job, { maxKeys: 2 }) }),
      fc.record({ taskGroup: fc.array(harnessTask, { maxLength: 3 }) }),
      fc.record({ steps: fc.array(step, { maxLength: 3 }), uploads: fc.array(leaf, { maxLength: 2 }) }),
    );
    fc.assert(
      fc.property(document, (doc) => expectResult(stringify(doc))),
      { numRuns: 400 },
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
        '*',
        ',',
        'contains(',
        'format(',
        'fromJSON(',
        'toJSON(',
        'success()',
        'hashFiles(',
      ),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (pieces) => {
        try {
          expect(typeof evaluateTemplate(pieces.join(''), ctx, { status })).toBe('string');
        } catch (error) {
          expect(error).toBeInstanceOf(ExpressionError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
