import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { archiveLimits, checkArchiveEntry, type ArchiveEntryFields } from './archive-rules.ts';

const fields = (rawName: string, o: Partial<ArchiveEntryFields> = {}): ArchiveEntryFields => ({
  rawName,
  versionMadeBy: 20,
  externalFileAttributes: 0,
  encrypted: false,
  compressedSize: 1,
  uncompressedSize: 1,
  ...o,
});
const tally = () => ({ entries: 0, bytes: 0, names: new Set<string>() });

describe('archive rules', () => {
  it('accepts a plain relative name and normalises it', () => {
    expect(checkArchiveEntry(fields('./dist//app.js'), tally(), archiveLimits({}))).toEqual({
      ok: true,
      name: 'dist/app.js',
      directory: false,
      executable: false,
    });
  });

  it('refuses every name with a .. segment, whatever surrounds it', () => {
    const segment = fc.stringMatching(/^[a-z.]{1,6}$/);
    fc.assert(
      fc.property(fc.array(segment), fc.array(segment), (before, after) => {
        const verdict = checkArchiveEntry(
          fields([...before, '..', ...after].join('/')),
          tally(),
          archiveLimits({}),
        );
        expect(verdict.ok).toBe(false);
      }),
    );
  });

  it('names the entry that takes the count or the total over the limit, counting across calls', () => {
    const limits = archiveLimits({ maxEntries: 2, maxBytes: 10 });
    const t = tally();
    expect(checkArchiveEntry(fields('a', { uncompressedSize: 4 }), t, limits).ok).toBe(true);
    expect(checkArchiveEntry(fields('b', { uncompressedSize: 7 }), t, limits)).toEqual({
      ok: false,
      entry: 'b',
      why: 'takes the uncompressed size over the limit of 10 bytes',
    });
    expect(checkArchiveEntry(fields('c'), t, limits)).toMatchObject({
      ok: false,
      entry: 'c',
      why: 'takes the number of entries over the limit of 2',
    });
  });

  it('refuses a symlink by its Unix mode and escapes control characters in the name it shows', () => {
    const link = fields('l\u0001nk', {
      versionMadeBy: (3 << 8) | 20,
      externalFileAttributes: (0o120777 << 16) >>> 0,
    });
    expect(checkArchiveEntry(link, tally(), archiveLimits({}))).toEqual({
      ok: false,
      entry: 'l\\u0001nk',
      why: 'is a symlink',
    });
  });
});
