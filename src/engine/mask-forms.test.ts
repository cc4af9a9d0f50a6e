import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodedForms,
  jsonEscape,
  jsonForms,
  percentEncode,
  percentForms,
  PERCENT_SAFE_SETS,
} from './mask-forms.ts';
import { createMasker, needlesFor } from './masker.ts';

const SECRET = 'Cx9 a&b<c>d/e"fé+g%h~i_j*k(l)';

// What the tools on a build machine printed for SECRET (python3 3.11, curl 7.88, jq 1.6, node 24).
const WRITTEN_BY_TOOLS: Record<string, string> = {
  "python3 urllib.parse.quote(v, safe='')": 'Cx9%20a%26b%3Cc%3Ed%2Fe%22f%C3%A9%2Bg%25h~i_j%2Ak%28l%29',
  'python3 urllib.parse.quote(v)': 'Cx9%20a%26b%3Cc%3Ed/e%22f%C3%A9%2Bg%25h~i_j%2Ak%28l%29',
  'python3 urllib.parse.quote_plus(v)': 'Cx9+a%26b%3Cc%3Ed%2Fe%22f%C3%A9%2Bg%25h~i_j%2Ak%28l%29',
  'curl -G --data-urlencode': 'Cx9+a%26b%3cc%3ed%2fe%22f%c3%a9%2bg%25h~i_j%2ak%28l%29',
  'jq 1.6 @uri / encodeURIComponent': 'Cx9%20a%26b%3Cc%3Ed%2Fe%22f%C3%A9%2Bg%25h~i_j*k(l)',
  encodeURI: 'Cx9%20a&b%3Cc%3Ed/e%22f%C3%A9+g%25h~i_j*k(l)',
  'python3 json.dumps(v)': 'Cx9 a&b<c>d/e\\"f\\u00e9+g%h~i_j*k(l)',
  'python3 json.dumps(v, ensure_ascii=False) / JSON.stringify': 'Cx9 a&b<c>d/e\\"fé+g%h~i_j*k(l)',
  'go json.Marshal': 'Cx9 a\\u0026b\\u003cc\\u003ed/e\\"fé+g%h~i_j*k(l)',
  'php json_encode': 'Cx9 a&b<c>d\\/e\\"f\\u00e9+g%h~i_j*k(l)',
};

describe('mask forms', () => {
  it('include every spelling the real encoders wrote for a secret with special characters', () => {
    const forms = encodedForms(SECRET);
    const needles = needlesFor(SECRET);
    for (const [tool, written] of Object.entries(WRITTEN_BY_TOOLS)) {
      expect(forms, tool).toContain(written);
      expect(needles, tool).toContain(written);
      expect(createMasker(() => {}, [SECRET]).mask(`<${written}>`), tool).toBe('<***>');
    }
  });

  it('mask each form split across two writes at every offset', () => {
    for (const written of Object.values(WRITTEN_BY_TOOLS)) {
      const text = `x=${written}&y=${written}\n`;
      for (let cut = 0; cut <= text.length; cut++) {
        let out = '';
        const masker = createMasker((_s, t) => (out += t), [SECRET]);
        masker.write('stdout', text.slice(0, cut));
        masker.write('stdout', text.slice(cut));
        masker.flush();
        expect(out).toBe('x=***&y=***\n');
      }
    }
  });

  it('percent-encode with each safe set, + or %20 for space, and either hex case', () => {
    const o = { safe: PERCENT_SAFE_SETS.unreserved!, plus: false, lowerHex: false };
    expect(percentEncode('a b/é~', o)).toBe('a%20b%2F%C3%A9~');
    expect(percentEncode('a b/é~', { ...o, plus: true, lowerHex: true })).toBe('a+b%2f%c3%a9~');
    expect(percentEncode('a b/é~', { ...o, safe: PERCENT_SAFE_SETS.slash! })).toBe('a%20b/%C3%A9~');
    expect(percentEncode('a-b.c~', { ...o, safe: PERCENT_SAFE_SETS.alnum! })).toBe('a%2Db%2Ec%7E');
    expect(percentEncode('a-b.c~', { ...o, safe: PERCENT_SAFE_SETS.php! })).toBe('a-b.c%7E');
  });

  it('JSON-escape with and without \\uXXXX, \\/ and the HTML-safe escapes, in either hex case', () => {
    const o = { ascii: false, slash: false, html: false, upperHex: false };
    expect(jsonEscape('é/<\u2028"\n', o)).toBe('é/<\u2028\\"\\n');
    expect(jsonEscape('é/<\u2028"\n', { ...o, ascii: true })).toBe('\\u00e9/<\\u2028\\"\\n');
    expect(jsonEscape('é/<\u2028', { ...o, html: true, upperHex: true })).toBe('é/\\u003C\\u2028');
    expect(jsonEscape('a/b', { ...o, slash: true })).toBe('a\\/b');
    expect(jsonEscape('\u001b😀', { ...o, ascii: true, upperHex: true })).toBe('\\u001B\\uD83D\\uDE00');
  });

  it('a plain value has one form: itself', () => {
    expect(encodedForms('abcdefGH1234')).toEqual(['abcdefGH1234']);
  });

  it('every form decodes back to the value', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), (value) => {
        for (const safe of Object.values(PERCENT_SAFE_SETS))
          for (const lowerHex of [false, true]) {
            const spaced = percentEncode(value, { safe, plus: false, lowerHex });
            expect(decodeURIComponent(spaced)).toBe(value);
            if (safe.includes('+')) continue; // a literal '+' and a space would read alike
            const plus = percentEncode(value, { safe, plus: true, lowerHex });
            expect(decodeURIComponent(plus.replaceAll('+', ' '))).toBe(value);
          }
        expect(percentForms(value)).toContain(
          percentEncode(value, { safe: PERCENT_SAFE_SETS.unreserved!, plus: true, lowerHex: true }),
        );
        for (const form of jsonForms(value)) expect(JSON.parse(`"${form}"`)).toBe(value);
      }),
    );
  });
});

describe('needles of short lines', () => {
  it('a line too short to mask is masked in no spelling', () => {
    const needles = needlesFor('first-line-of-it\n/ \nlast-line-of-it');
    expect(needles).not.toContain('%2F%20');
    expect(needles).not.toContain('/ ');
    expect(needles).toContain('first-line-of-it');
  });
});
