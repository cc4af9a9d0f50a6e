// Every YAML example in docs/workflows.md compiles: the documentation cannot drift from the compiler.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileWorkflow } from './index.ts';

const doc = readFileSync(new URL('../../docs/workflows.md', import.meta.url), 'utf8');
const examples = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match, index) => [
  index + 1,
  match[1] ?? '',
]);

describe('docs/workflows.md', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it.each(examples)('example %i compiles', (_index, yaml) => {
    const result = compileWorkflow(yaml as string);
    expect(result.ok ? [] : result.issues).toEqual([]);
  });
});
