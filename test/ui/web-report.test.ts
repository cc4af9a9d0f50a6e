// The UI's pure parts for issue 18, in Node: folding GitHub's `##[group]` markers in a log, and the Markdown
// reader of step summaries (it yields data only; links must be safe). docs.github.com "Workflow commands":
// "Grouping log lines" and "Adding a job summary".
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldLines, markerOf } from '../../web/src/log-groups.ts';
import { parseInline, parseMarkdown } from '../../web/src/markdown.ts';

describe('log groups', () => {
  const lines = ['before', '##[group]Install', 'a', 'b', '##[endgroup]', 'after', '##[group]Live', 'c'];

  it('folds an ended group under its header and leaves a group still open unfolded', () => {
    const fold = foldLines(lines, lines.length, new Set());
    expect(fold.visible).toEqual([0, 1, 5, 6, 7]);
    expect(fold.folded.get(1)).toBe(true);
    expect(fold.folded.get(6)).toBe(false);
    expect(fold.groupOf.get(2)).toBe(1);
  });

  it('unfolds a group whose header was clicked, never showing the endgroup line', () => {
    expect(foldLines(lines, lines.length, new Set([1])).visible).toEqual([0, 1, 2, 3, 5, 6, 7]);
  });

  it('reads markers', () => {
    expect(markerOf('##[error]boom')).toEqual({ kind: 'error', text: 'boom' });
    expect(markerOf('text ##[error]boom')).toBeUndefined();
  });
});

describe('step summary Markdown', () => {
  it('reads headings, tables, lists, code and inline markup', () => {
    const blocks = parseMarkdown(
      '### Results\n\n| test | result |\n| --- | :-: |\n| unit | **pass** |\n\n- one\n- `two`\n\n```\n<b>x</b>\n```\n',
    );
    expect(blocks).toEqual([
      { kind: 'heading', level: 3, children: [{ kind: 'text', text: 'Results' }] },
      {
        kind: 'table',
        head: [[{ kind: 'text', text: 'test' }], [{ kind: 'text', text: 'result' }]],
        rows: [
          [
            [{ kind: 'text', text: 'unit' }],
            [{ kind: 'strong', children: [{ kind: 'text', text: 'pass' }] }],
          ],
        ],
      },
      {
        kind: 'list',
        ordered: false,
        items: [[{ kind: 'text', text: 'one' }], [{ kind: 'code', text: 'two' }]],
      },
      { kind: 'code', text: '<b>x</b>' },
    ]);
  });

  it('keeps raw HTML as text and drops a javascript: link to its text', () => {
    expect(parseInline('<script>alert(1)</script> [click](javascript:void0)')).toEqual([
      { kind: 'text', text: '<script>alert(1)</script> ' },
      { kind: 'text', text: 'click' },
    ]);
    expect(parseInline('[docs](https://docs.github.com)')).toEqual([
      { kind: 'link', href: 'https://docs.github.com', children: [{ kind: 'text', text: 'docs' }] },
    ]);
  });

  it('reads any text without throwing, in time linear in its length for unclosed markers', () => {
    fc.assert(fc.property(fc.string(), (text) => void parseMarkdown(text)));
    const hostile = '*_~`['.repeat(40_000);
    expect(parseMarkdown(hostile)).toHaveLength(1);
  });
});
