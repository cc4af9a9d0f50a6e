import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMasker, maskStreaming, needlesFor, type MaskedStream } from './masker.ts';

/** Feeds `chunks` to a fresh masker and returns what it emitted, per stream, after a final flush. */
function streamed(values: string[], chunks: string[], stream: MaskedStream = 'stdout'): string {
  let out = '';
  const masker = createMasker((s, text) => {
    if (s === stream) out += text;
  }, values);
  for (const chunk of chunks) masker.write(stream, chunk);
  masker.flush();
  return out;
}

function whole(values: string[], text: string): string {
  return createMasker(() => {}, values).mask(text);
}

describe('masker', () => {
  it('replaces every occurrence of a value with ***', () => {
    expect(whole(['hunter22'], 'pw=hunter22, again hunter22.')).toBe('pw=***, again ***.');
  });

  it('masks a value split across two chunks at every offset, in a long line and at the very end', () => {
    const secret = 's3cr3t-VALUE-0123456789';
    const text = `${'x'.repeat(5000)} token ${secret} and at the end ${secret}`;
    const expected = `${'x'.repeat(5000)} token *** and at the end ***`;
    for (let cut = 0; cut <= text.length; cut++) {
      expect(streamed([secret], [text.slice(0, cut), text.slice(cut)])).toBe(expected);
    }
  });

  it('masks a value written one character at a time', () => {
    const secret = 'abcdefgh';
    expect(streamed([secret], [...`<${secret}>\n`])).toBe('<***>\n');
  });

  it('emits text at once when it cannot start a value, and holds only a possible start', () => {
    const emitted: string[] = [];
    const masker = createMasker((_s, t) => emitted.push(t), ['password123']);
    masker.write('stdout', 'progress 50%\n');
    expect(emitted).toEqual(['progress 50%\n']);
    masker.write('stdout', 'typing pass');
    expect(emitted.join('')).toBe('progress 50%\ntyping ');
    masker.write('stdout', 'word123!');
    expect(emitted.join('')).toBe('progress 50%\ntyping ***!');
    masker.write('stdout', 'tail pa');
    masker.flush(); // the step ended: a held start is released as it is
    expect(emitted.join('')).toBe('progress 50%\ntyping ***!tail pa');
  });

  it('masks each line of a multi-line value, and the whole value as one', () => {
    const pem = '-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34\nGkxFhD90vcNLYLInF\n-----END KEY-----';
    const needles = needlesFor(pem);
    for (const form of [pem, ...pem.split('\n')]) expect(needles).toContain(form);
    expect(whole([pem], `key:\n${pem}\n`)).toBe('key:\n***\n');
    expect(whole([pem], 'one line: GkxFhD90vcNLYLInF!')).toBe('one line: ***!');
    expect(whole(['line1\r\nab\r\nline3'], 'x line1 y line3')).toBe('x *** y ***');
  });

  it('masks base64 of a value at all three alignments, and its URL- and JSON-encoded forms', () => {
    const secret = 'hunter2-Sup3r-s3cret/+&"';
    for (const prefix of ['', 'a', 'ab', 'abc']) {
      const encoded = Buffer.from(`${prefix}${secret}tail`).toString('base64');
      const masked = whole([secret], encoded);
      expect(masked).toContain('***');
      // What is left around the mask cannot be decoded back into the secret.
      expect(Buffer.from(masked.replace('***', ''), 'base64').toString('latin1')).not.toContain('Sup3r');
    }
    expect(whole([secret], `q=${encodeURIComponent(secret)}&x`)).toBe('q=***&x');
    expect(whole([secret], JSON.stringify({ v: secret }))).toBe('{"v":"***"}');
  });

  it('does not mask values shorter than 4 characters, nor short lines of a multi-line value', () => {
    expect(whole(['abc', 'x'], 'abc x abcd')).toBe('abc x abcd');
    expect(whole(['long-line\nab'], 'ab long-line')).toBe('ab ***');
  });

  it('prefers the longest value at a position and never overlaps replacements', () => {
    expect(whole(['abcd', 'abcdef'], 'abcdefg abcdx')).toBe('***g ***x');
    expect(whole(['aaaa'], 'aaaaaaaaa')).toBe('******a');
  });

  it('masks a value added while streaming in the text still held and everything after', () => {
    const emitted: string[] = [];
    const masker = createMasker((_s, t) => emitted.push(t), ['zzzz-other']);
    masker.write('stdout', 'before NEWSECRET ');
    masker.add('NEWSECRET');
    masker.write('stdout', 'after NEWSECRET\n');
    masker.flush();
    expect(emitted.join('')).toBe('before NEWSECRET after ***\n');
  });

  it('keeps stdout and stderr apart: a value split between them is two texts', () => {
    const out: string[] = [];
    const masker = createMasker((s, t) => out.push(`${s}:${t}`), ['secretvalue']);
    masker.write('stdout', 'secret');
    masker.write('stderr', 'value secretvalue');
    masker.flush();
    expect(out).toEqual(['stderr:value ***', 'stdout:secret']);
  });

  it('gives the same text for any chunking as masking the whole text at once (property)', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', '\n');
    const str = (min: number, max: number) =>
      fc.array(alphabet, { minLength: min, maxLength: max }).map((a) => a.join(''));
    fc.assert(
      fc.property(
        fc.array(str(4, 8), { minLength: 1, maxLength: 4 }),
        str(0, 80),
        fc.array(fc.nat(80), { maxLength: 6 }),
        (values, text, cuts) => {
          const points = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
          const chunks = [0, ...points].map((p, i) => text.slice(p, points[i] ?? text.length));
          expect(streamed(values, chunks)).toBe(whole(values, text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('holds back less than the longest value', () => {
    const { out, rest } = maskStreaming('xxxxabcdefg', ['abcdefgh'], false);
    expect(out).toBe('xxxx');
    expect(rest).toBe('abcdefg');
  });
});
