// The UI's pure parts, in Node: the ANSI SGR parser (with properties over random input), the DAG layout, the
// log buffer behind the virtualised view, and the helpers of the submit and runners pages.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAnsi, stripAnsi } from '../../web/src/ansi.ts';
import { layoutDag } from '../../web/src/dag-layout.ts';
import { LogBuffer } from '../../web/src/log-buffer.ts';
import { parseInputs } from '../../web/src/inputs.ts';
import { registerCommand, shellWord } from '../../web/src/register-command.ts';
import {
  parseLabels,
  resetCommand,
  RUNNER_PLACEHOLDER,
  runnerBaseUrl,
  serveCommand,
} from '../../web/src/push-setup.ts';
import { formatAgo } from '../../web/src/format.ts';
import { stepRows } from '../../web/src/log-steps.ts';

describe('ANSI parser', () => {
  it('turns SGR colours and bold into styles and keeps the text', () => {
    const { spans, end } = parseAnsi('\x1b[1;31merror\x1b[0m: \x1b[38;5;208mwarm\x1b[38;2;1;2;3m rgb');
    expect(spans).toEqual([
      { text: 'error', style: { bold: true, fg: 1 } },
      { text: ': ', style: {} },
      { text: 'warm', style: { fg: 'rgb(255,135,0)' } },
      { text: ' rgb', style: { fg: 'rgb(1,2,3)' } },
    ]);
    expect(end).toEqual({ fg: 'rgb(1,2,3)' });
  });

  it('carries a style left open into the next line', () => {
    const first = parseAnsi('\x1b[32mgreen starts');
    expect(parseAnsi('still green', first.end).spans).toEqual([{ text: 'still green', style: { fg: 2 } }]);
  });

  it('drops cursor moves, OSC titles and links', () => {
    expect(stripAnsi('\x1b[2K\x1b[1Gdone \x1b]0;title\x07\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\')).toBe(
      'done link',
    );
  });

  it('the spans always spell the line without its escape sequences, whatever the input', () => {
    const piece = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '\x1b[',
        '\x1b[0m',
        '\x1b[38;5;',
        '\x1b[38;2;1;2',
        '\x1b]',
        '\x07',
        '\x1b',
        'm',
        ';',
        '9',
      ),
    );
    fc.assert(
      fc.property(fc.array(piece), (parts) => {
        const line = parts.join('');
        expect(
          parseAnsi(line)
            .spans.map((s) => s.text)
            .join(''),
        ).toBe(stripAnsi(line));
        expect(stripAnsi(line).includes('\x1b[')).toBe(false);
      }),
    );
  });

  it('text without escape sequences passes through unchanged', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes('\x1b')),
        (s) => stripAnsi(s) === s,
      ),
    );
  });
});

describe('DAG layout', () => {
  it('puts each task one column after its deepest dependency', () => {
    const l = layoutDag([
      { name: 'build', dependsOn: [] },
      { name: 'test', dependsOn: ['build'] },
      { name: 'lint', dependsOn: ['build'] },
      { name: 'package', dependsOn: ['test', 'lint', 'build'] },
      { name: 'docs', dependsOn: [] },
    ]);
    expect(Object.fromEntries([...l.nodes].map(([n, v]) => [n, [v.layer, v.row]]))).toEqual({
      build: [0, 0],
      docs: [0, 1],
      test: [1, 0],
      lint: [1, 1],
      package: [2, 0],
    });
    expect(l.layers).toBe(3);
    expect(l.rows).toBe(2);
    expect(l.edges).toHaveLength(5);
  });

  it('places every task of any acyclic graph in a column after all its dependencies', () => {
    const dag = fc
      .integer({ min: 1, max: 30 })
      .chain((n) =>
        fc.tuple(
          ...Array.from({ length: n }, (_, i) => fc.subarray(Array.from({ length: i }, (_, j) => `t${j}`))),
        ),
      );
    fc.assert(
      fc.property(dag, (deps) => {
        const tasks = deps.map((d, i) => ({ name: `t${i}`, dependsOn: d }));
        const l = layoutDag(tasks);
        for (const t of tasks)
          for (const d of t.dependsOn)
            expect(l.nodes.get(t.name)!.layer).toBeGreaterThan(l.nodes.get(d)!.layer);
        const cells = new Set([...l.nodes.values()].map((n) => `${n.layer},${n.row}`));
        expect(cells.size).toBe(tasks.length);
      }),
    );
  });
});

describe('log buffer', () => {
  it('joins lines split across chunks, keeps what a carriage return redrew last, and counts bytes', () => {
    const b = new LogBuffer();
    b.append('hel', 1);
    b.append('lo\nprogress 10%\rprogress 100%\r\nlast', 2);
    expect(b.lines).toEqual(['hello', 'progress 100%', 'last']);
    expect(b.arrivedAt).toEqual([1, 2, 2]);
    expect(b.count).toBe(3);
    expect(b.bytes).toBe(Buffer.byteLength('hello\nprogress 10%\rprogress 100%\r\nlast'));
    b.append('\n', 3);
    expect(b.count).toBe(3);
  });

  it('remembers the colour a line leaves open for the lines after it', () => {
    const b = new LogBuffer();
    b.append('\x1b[31mred\nstill red\n\x1b[0mplain\nplain too\n');
    expect(b.startStyle(1)).toEqual({ fg: 1 });
    expect(b.startStyle(2)).toEqual({ fg: 1 });
    expect(b.startStyle(3)).toEqual({});
  });

  it('finds lines case-insensitively, ignoring escape sequences', () => {
    const b = new LogBuffer();
    b.append('Error one\n\x1b[31mERR\x1b[0mOR two\nfine\n');
    expect(b.search('error')).toEqual([0, 1]);
    expect(b.search('')).toEqual([]);
  });
});

describe('page helpers', () => {
  it('reads inputs as key=value lines; a value may contain =', () => {
    expect(parseInputs('a=1\n\n# note\nb = x=y\nbad')).toEqual({
      inputs: { a: '1', b: 'x=y' },
      errors: ["inputs line 5: expected key=value, got 'bad'"],
    });
  });

  it('builds the register command with only safe words unquoted', () => {
    expect(registerCommand('http://h:1', 'baton_reg_x', 'r1', ' a, b ,')).toBe(
      'baton runner register --server http://h:1 --registration-token baton_reg_x --name r1 --labels a,b',
    );
    expect(shellWord("it's; rm -rf /")).toBe(`'it'\\''s; rm -rf /'`);
  });

  it("builds the push runner's serve command without its secret, and the reset call with the secret on stdin", () => {
    expect(serveCommand('http://baton:8480', "r'1")).toBe(
      [
        'AUTOMN_HOST_URL=http://baton:8480 \\',
        `AUTOMN_RUNNER_ID='r'\\''1' \\`,
        `AUTOMN_RUNNER_PUBLIC_URL=${RUNNER_PLACEHOLDER} \\`,
        'AUTOMN_RUNNER_DATA_DIR=/var/lib/baton-serve \\',
        'baton runner serve',
      ].join('\n'),
    );
    const reset = resetCommand('http://10.0.0.5:3030', 'se"cret\nJSON');
    const lines = reset.split('\n');
    expect(lines[0]).toBe('curl -fsS -X POST http://10.0.0.5:3030/internal/reset \\');
    // The body is one JSON line whatever the secret holds: it cannot end the heredoc early.
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('JSON');
    expect(JSON.parse(lines[2]!.replace('"<AUTOMN_RUNNER_RESET_TOKEN>"', '"t"'))).toEqual({
      token: 't',
      secret: 'se"cret\nJSON',
    });
  });

  it("finds a push runner's own URL from the endpoint it registered", () => {
    expect(runnerBaseUrl('http://127.0.0.1:3030/api/run')).toBe('http://127.0.0.1:3030');
    expect(runnerBaseUrl('https://edge.example/runner/api/run')).toBe('https://edge.example/runner');
    expect(runnerBaseUrl('http://h:1/custom')).toBe('http://h:1/custom');
    expect(runnerBaseUrl(null)).toBe(RUNNER_PLACEHOLDER);
    expect(runnerBaseUrl('not a url')).toBe(RUNNER_PLACEHOLDER);
    expect(parseLabels(' a, ,b,, c ')).toEqual(['a', 'b', 'c']);
  });

  it('says how long ago in the largest whole unit', () => {
    const now = Date.parse('2026-01-02T00:00:00Z');
    const ago = (s: number) => formatAgo(new Date(now - s * 1000).toISOString(), now);
    expect([ago(-3), ago(2), ago(42), ago(300), ago(7200), ago(3 * 86400)]).toEqual([
      'just now',
      'just now',
      '42 s ago',
      '5 min ago',
      '2 h ago',
      '3 d ago',
    ]);
    expect(formatAgo(null)).toBe('—');
  });
});

describe('a log split into steps', () => {
  it('maps byte ranges to lines (multi-byte text too) and hides closed steps under their header', () => {
    const buf = new LogBuffer();
    buf.append('setup line\n');
    const a = buf.bytes;
    buf.append('é one\n');
    buf.append('two\n');
    const b = buf.bytes;
    buf.append('fail\n');
    const c = buf.bytes;
    expect(buf.lineStarts.slice(0, buf.count)).toEqual([0, 11, 18, 22]);
    const steps = [
      { name: 'ok', status: 'succeeded', logStart: a, logEnd: b },
      { name: 'bad', status: 'failed', logStart: b, logEnd: c },
      { name: 'never', status: 'skipped' },
      { name: '__outputs', status: 'succeeded', logStart: c, logEnd: c },
    ];
    const all = () => true;
    expect(stepRows(steps, buf.lineStarts, buf.count, new Map(), all).rows).toEqual([
      0,
      { step: 0 },
      { step: 1 },
      3,
      { step: 2 },
    ]);
    const opened = stepRows(
      steps,
      buf.lineStarts,
      buf.count,
      new Map([
        [0, true],
        [1, false],
      ]),
      all,
    );
    expect(opened.rows).toEqual([0, { step: 0 }, 1, 2, { step: 1 }, { step: 2 }]);
    expect(opened.stepOf.get(3)).toBe(1);
  });
});
