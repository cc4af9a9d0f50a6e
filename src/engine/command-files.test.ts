import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAssignments, parsePathLines } from './command-files.ts';

describe('command files', () => {
  it('reads name=value lines, keeping everything after the first = as the value', () => {
    expect(parseAssignments('a=1\nb=x=y\nempty=\n').values).toEqual([
      ['a', '1'],
      ['b', 'x=y'],
      ['empty', ''],
    ]);
  });

  it('reads a multi-line heredoc value without its delimiter lines', () => {
    const parsed = parseAssignments('before=1\nnotes<<EOF\nline one\n\nline three\nEOF\nafter=2\n');
    expect(parsed.error).toBeUndefined();
    expect(parsed.values).toEqual([
      ['before', '1'],
      ['notes', 'line one\n\nline three'],
      ['after', '2'],
    ]);
  });

  it('treats a line with = before << as a plain assignment', () => {
    expect(parseAssignments('cmd=a<<b\n').values).toEqual([['cmd', 'a<<b']]);
  });

  it('accepts CRLF line ends and ignores blank lines', () => {
    expect(parseAssignments('a=1\r\n\r\nb<<X\r\nv\r\nX\r\n').values).toEqual([
      ['a', '1'],
      ['b', 'v'],
    ]);
  });

  it('names the line of an unterminated heredoc, counting from the given first line', () => {
    const parsed = parseAssignments('ok=1\nbody<<END\nnever closed\n', 10);
    expect(parsed.values).toEqual([['ok', '1']]);
    expect(parsed.error).toEqual({
      line: 11,
      message:
        "Matching delimiter not found 'END': the value of 'body' is never closed: no line 'END' follows",
    });
  });

  it('refuses a line that is neither an assignment nor a heredoc', () => {
    expect(parseAssignments('a=1\njust words\n').error?.line).toBe(2);
  });

  it('refuses an assignment without a name', () => {
    expect(parseAssignments('=value\n').error?.message).toMatch(/no name/);
  });

  it('reads back any value written in heredoc form', () => {
    const value = fc.array(
      fc.string().filter((l) => !/[\r\n]/.test(l) && l !== 'DELIM_9f'),
      { maxLength: 5 },
    );
    fc.assert(
      fc.property(value, (lines) => {
        const parsed = parseAssignments(`v<<DELIM_9f\n${lines.map((l) => `${l}\n`).join('')}DELIM_9f\n`);
        expect(parsed.values).toEqual([['v', lines.join('\n')]]);
      }),
    );
  });

  it('reads one trimmed directory per path line', () => {
    expect(parsePathLines('/opt/a/bin\n\n  /opt/b  \n')).toEqual(['/opt/a/bin', '/opt/b']);
  });
});
