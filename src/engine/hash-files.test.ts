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
  it('hashes matching files depth-first in name order, with exclusions, and is empty when nothing matches', () => {
    const ws = tempDir();
    mkdirSync(join(ws, 'src/deep'), { recursive: true });
    writeFileSync(join(ws, 'src/b.ts'), 'b');
    writeFileSync(join(ws, 'src/deep/a.ts'), 'a');
    writeFileSync(join(ws, 'src/skip.ts'), 's');
    expect(hashFiles(ws, ['src/**/*.ts', '!src/skip.ts'])).toBe(combined('b', 'a'));
    expect(hashFiles(ws, ['src/deep/a.ts', 'src/deep/a.ts'])).toBe(combined('a'));
    expect(hashFiles(ws, ['*.none'])).toBe('');
    // A directory pattern matches every file below it (@actions/glob's implicit descendants).
    expect(hashFiles(ws, ['src'])).toBe(combined('b', 'a', 's'));
    expect(hashFiles(ws, ['src/'])).toBe(combined('b', 'a', 's'));
    expect(hashFiles(ws, ['src', '!src/deep'])).toBe(combined('b', 's'));
  });

  it('applies patterns in order, reads several lines per argument and skips comments', () => {
    const ws = tempDir();
    mkdirSync(join(ws, 'a'), { recursive: true });
    writeFileSync(join(ws, 'a/keep'), 'k');
    writeFileSync(join(ws, 'a/drop'), 'd');
    writeFileSync(join(ws, 'top'), 't');
    // A later pattern overrides an earlier exclusion; the order of the arguments matters.
    expect(hashFiles(ws, ['**', '!a/**', 'a/keep'])).toBe(combined('k', 't'));
    expect(hashFiles(ws, ['**', 'a/keep', '!a/**'])).toBe(combined('t'));
    expect(hashFiles(ws, ['# a comment\n  top  \n\na/*\n!a/drop'])).toBe(combined('k', 't'));
    expect(hashFiles(ws, ['!!top'])).toBe(combined('t')); // two negations cancel out
  });

  it("visits a directory's files before a sibling file sorting after it, and matches dot files", () => {
    const ws = tempDir();
    mkdirSync(join(ws, 'a'));
    writeFileSync(join(ws, 'a/b'), 'inner');
    writeFileSync(join(ws, 'a.txt'), 'outer');
    writeFileSync(join(ws, '.hidden'), 'dot');
    // Depth-first: a/b (under 'a') comes before 'a.txt', though 'a.txt' < 'a/b' as strings.
    expect(hashFiles(ws, ['a*', 'a/*'])).toBe(combined('inner', 'outer'));
    expect(hashFiles(ws, ['*'])).toBe(combined('dot', 'inner', 'outer'));
    expect(hashFiles(ws, ['?hidden', '[.]*'])).toBe(combined('dot'));
  });

  it('enters symlinked directories only with --follow-symbolic-links, and refuses other options', () => {
    const ws = tempDir();
    mkdirSync(join(ws, 'real'));
    writeFileSync(join(ws, 'real/f'), 'f');
    symlinkSync(join(ws, 'real'), join(ws, 'link'));
    symlinkSync(ws, join(ws, 'real/loop')); // a cycle ends where it started
    expect(hashFiles(ws, ['link/**'])).toBe('');
    expect(hashFiles(ws, ['--follow-symbolic-links', 'link/**'])).toBe(combined('f'));
    expect(() => hashFiles(ws, ['--nope', '**'])).toThrow("invalid glob option '--nope'");
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
