// The CGI response reader: however the bytes are split into chunks, and whether lines end in LF or CRLF, it reads
// the same headers and body; the bounds and malformed blocks are refused with a sentence naming them.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CgiResponseReader, parseHeaders, responseOutputs } from './cgi-response.ts';

function read(chunks: Buffer[], limits?: { headerBytes?: number; bodyBytes?: number }) {
  const reader = new CgiResponseReader(limits);
  for (const chunk of chunks) {
    const over = reader.push(chunk);
    if (over !== undefined) return { over };
  }
  return reader.finish();
}

/** `bytes` cut at the given offsets. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const cut of [...at, bytes.length]) {
    out.push(bytes.subarray(last, cut));
    last = cut;
  }
  return out;
}

const headerName = fc.stringMatching(/^X-[A-Za-z0-9-]{1,12}$/);
const headerValue = fc.stringMatching(/^[ -~]{0,30}$/).map((v) => v.trim());

describe('CgiResponseReader', () => {
  it('reads the same headers and body whatever the chunking and line endings', () => {
    fc.assert(
      fc.property(
        fc.dictionary(headerName, headerValue, { maxKeys: 5 }),
        fc.integer({ min: 100, max: 599 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        (extra, status, body, crlf, cuts) => {
          const eol = crlf ? '\r\n' : '\n';
          const lines = [
            `Status: ${status} Some Reason`,
            ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
          ];
          const bytes = Buffer.concat([
            Buffer.from(lines.join(eol) + eol + eol, 'latin1'),
            Buffer.from(body),
          ]);
          const result = read(split(bytes, cuts));
          if (!('value' in result)) throw new Error(JSON.stringify(result));
          expect(result.value.headers.status).toBe(status);
          expect(result.value.headers.reason).toBe('Some Reason');
          for (const [k, v] of Object.entries(extra))
            expect(result.value.headers.all[k.toLowerCase()]).toBe(v);
          expect(result.value.body.equals(Buffer.from(body))).toBe(true);
        },
      ),
    );
  });

  it('names the limit when the header block or the body is too large', () => {
    expect(read([Buffer.from('X-A: ' + 'a'.repeat(100))], { headerBytes: 64 })).toEqual({
      over: "the driver's response headers are over 64 bytes without the blank line that ends them; the limit is 64 bytes",
    });
    expect(read([Buffer.from('\n'), Buffer.alloc(11)], { bodyBytes: 10 })).toEqual({
      over: "the driver's response body is over 10 bytes; the limit is 10 bytes",
    });
  });

  it('refuses a response without a blank line, a malformed line and a bad status', () => {
    expect(read([])).toEqual({ error: expect.stringMatching(/wrote no response on stdout/) });
    expect(read([Buffer.from('Status: 200\n')])).toEqual({ error: expect.stringMatching(/no blank line/) });
    expect(parseHeaders('Status: 200\n: no name\n')).toEqual({
      error: expect.stringMatching(/header line 2 is malformed/),
    });
    expect(parseHeaders('Status: two hundred\n')).toEqual({
      error: expect.stringMatching(/not a three-digit code/),
    });
  });

  it('maps a body of another type to status, content_type and body', () => {
    const headers = parseHeaders('Content-Type: application/octet-stream; x=1\nLocation: /x\n');
    if (!('value' in headers)) throw new Error('expected headers');
    expect(headers.value.status).toBe(302);
    expect(responseOutputs(headers.value, Buffer.from('abc'))).toEqual({
      value: {
        outputs: { status: '302', content_type: 'application/octet-stream; x=1', body: 'abc' },
        secrets: [],
      },
    });
  });
});
