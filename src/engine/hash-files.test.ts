import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { hashFiles } from './hash-files.ts';

function combined(...contents: string[]): string {
  const all = createHash('sha256');
  for (const c of contents) all.update(createHash('sha256').update(c).digest());
  return all.digest('hex');
}

describe('hashFiles', () => {
  it('hashes matching files in sorted order, with exclusions, and is empty when nothing matches', () => {
    const ws = tempDir();
    mkdirSync(join(ws, 'src/deep'), { recursive: true });
    writeFileSync(join(ws, 'src/b.ts'), 'b');
    writeFileSync(join(ws, 'src/deep/a.ts'), 'a');
    writeFileSync(join(ws, 'src/skip.ts'), 's');
    expect(hashFiles(ws, ['src/**/*.ts', '!src/skip.ts'])).toBe(combined('b', 'a'));
    expect(hashFiles(ws, ['src/deep/a.ts', 'src/deep/a.ts'])).toBe(combined('a'));
    expect(hashFiles(ws, ['*.none'])).toBe('');
    expect(hashFiles(ws, ['src'])).toBe(''); // a directory is not a file
  });

  it('never reads outside the work dir: not through .., absolute paths or symlinks', () => {
    const base = tempDir();
    const ws = join(base, 'ws');
    mkdirSync(ws);
    writeFileSync(join(base, 'outside.txt'), 'secret');
    symlinkSync(join(base, 'outside.txt'), join(ws, 'link.txt'));
    symlinkSync(base, join(ws, 'up'));
    expect(hashFiles(ws, ['../outside.txt'])).toBe('');
    expect(hashFiles(ws, [join(base, 'outside.txt')])).toBe('');
    expect(hashFiles(ws, ['*.txt', 'up/*.txt', '**'])).toBe('');
  });
});
