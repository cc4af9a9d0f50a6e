// The CLI's reading of local action files (docs/adr/0017-local-actions.md): relative to the repository root,
// nested composite actions followed, nothing from outside the repository, node scripts present.
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { readActionFiles } from './action-files.ts';

function repo(files: Record<string, string>): string {
  const dir = tempDir('baton-actions-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  execFileSync('git', ['init', '-q', dir]);
  return dir;
}

const WORKFLOW = 'jobs:\n  a:\n    steps:\n      - uses: ./outer\n      - uses: actions/checkout@v4\n';

describe('reading the action files a workflow uses', () => {
  it('reads actions relative to the repository root, following nested composite actions', () => {
    const dir = repo({
      '.github/workflows/ci.yml': WORKFLOW,
      'outer/action.yml': 'runs:\n  using: composite\n  steps:\n    - uses: ./inner/\n',
      'inner/action.yaml': 'runs:\n  using: node20\n  main: index.js\n',
      'inner/index.js': '',
    });
    expect(readActionFiles(join(dir, '.github/workflows/ci.yml'), WORKFLOW)).toEqual({
      outer: { file: 'action.yml', text: 'runs:\n  using: composite\n  steps:\n    - uses: ./inner/\n' },
      inner: { file: 'action.yaml', text: 'runs:\n  using: node20\n  main: index.js\n' },
    });
  });

  it('refuses an action file that leads outside the repository through a symbolic link', () => {
    const outside = tempDir('baton-outside-');
    writeFileSync(join(outside, 'action.yml'), 'secret: 1\n');
    const dir = repo({ 'ci.yml': WORKFLOW });
    symlinkSync(outside, join(dir, 'outer'));
    expect(() => readActionFiles(join(dir, 'ci.yml'), WORKFLOW)).toThrow(/leads outside the repository/);
  });

  it('refuses a node action whose main script is not in the repository', () => {
    const dir = repo({
      'ci.yml': WORKFLOW,
      'outer/action.yml': 'runs:\n  using: node24\n  main: dist/index.js\n',
    });
    expect(() => readActionFiles(join(dir, 'ci.yml'), WORKFLOW)).toThrow(
      "outer/action.yml: 'runs.main' names outer/dist/index.js, which is not in the repository; commit the built script (GitHub runs it from the repository too)",
    );
  });
});
