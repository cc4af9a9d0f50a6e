// A JSON request body is checked for invalid UTF-8 before JSON.parse, which would otherwise
// replace bad bytes with U+FFFD and store a changed workflow. Bad bytes inside the `workflow`
// string are reported with the workflow's line, column and byte offset; anywhere else, with
// the body's byte offset.
import { BatonError } from '../protocol/errors.ts';
import { firstInvalidByte, readSource } from '../workflow/source.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Throws `invalid_workflow` (bad bytes in `workflow`) or `bad_request`; returns the text when valid. */
export function decodeJsonBody(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
  const range = workflowStringRange(body);
  if (range) {
    const bytes = unescapeJsonString(body.subarray(range.start, range.end));
    const source = readSource(bytes, Number.POSITIVE_INFINITY);
    if (!source.ok) {
      throw new BatonError(
        'invalid_workflow',
        `the workflow has 1 problem; nothing was stored: ${source.issue.message}`,
        {
          issues: [source.issue],
        },
      );
    }
  }
  const offset = firstInvalidByte(body);
  const byte = (body[offset] ?? 0).toString(16).padStart(2, '0');
  throw new BatonError(
    'bad_request',
    `request body is not valid UTF-8: byte 0x${byte} at offset ${offset}; send JSON encoded as UTF-8`,
  );
}

/** Byte range of the top-level `"workflow"` string's contents (between its quotes), if the body has one. */
function workflowStringRange(b: Buffer): { start: number; end: number } | undefined {
  let i = skipSpace(b, 0);
  if (b[i] !== 0x7b) return undefined; // {
  i++;
  for (;;) {
    i = skipSpace(b, i);
    if (b[i] !== QUOTE) return undefined;
    const keyEnd = stringEnd(b, i);
    if (keyEnd < 0) return undefined;
    const key = b.subarray(i + 1, keyEnd - 1).toString('latin1');
    i = skipSpace(b, keyEnd);
    if (b[i] !== 0x3a) return undefined; // :
    i = skipSpace(b, i + 1);
    if (key === 'workflow' && b[i] === QUOTE) {
      const end = stringEnd(b, i);
      return end < 0 ? undefined : { start: i + 1, end: end - 1 };
    }
    i = skipValue(b, i);
    if (i < 0) return undefined;
    i = skipSpace(b, i);
    if (b[i] !== 0x2c) return undefined; // ,
    i++;
  }
}

function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  return i;
}

/** Index just past the closing quote of the string that opens at `i`, or -1. */
function stringEnd(b: Buffer, i: number): number {
  for (let j = i + 1; j < b.length; j++) {
    if (b[j] === BACKSLASH) j++;
    else if (b[j] === QUOTE) return j + 1;
  }
  return -1;
}

/** Index just past the value that starts at `i` (string, object, array or literal), or -1. */
function skipValue(b: Buffer, i: number): number {
  if (b[i] === QUOTE) return stringEnd(b, i);
  let depth = 0;
  for (let j = i; j < b.length; j++) {
    const c = b[j];
    if (c === QUOTE) {
      j = stringEnd(b, j) - 1;
      if (j < 0) return -1;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return j;
      depth--;
      if (depth === 0) return j + 1;
    } else if (depth === 0 && (c === 0x2c || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) return j;
  }
  return b.length;
}

/** JSON string contents to the bytes they stand for: raw bytes kept as they are, escapes as UTF-8. */
function unescapeJsonString(raw: Buffer): Uint8Array {
  const out: number[] = [];
  const simple: Record<number, number> = {
    0x22: 0x22,
    0x5c: 0x5c,
    0x2f: 0x2f,
    0x62: 8,
    0x66: 12,
    0x6e: 10,
    0x72: 13,
    0x74: 9,
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== BACKSLASH) {
      out.push(c);
      continue;
    }
    const e = raw[++i] ?? 0;
    if (e !== 0x75) {
      out.push(simple[e] ?? e);
      continue;
    }
    let code = parseInt(raw.subarray(i + 1, i + 5).toString('latin1'), 16);
    i += 4;
    if (code >= 0xd800 && code < 0xdc00 && raw[i + 1] === BACKSLASH && raw[i + 2] === 0x75) {
      const low = parseInt(raw.subarray(i + 3, i + 7).toString('latin1'), 16);
      if (low >= 0xdc00 && low < 0xe000) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i += 6;
      }
    }
    for (const byte of Buffer.from(String.fromCodePoint(Number.isNaN(code) ? 0xfffd : code), 'utf8'))
      out.push(byte);
  }
  return Uint8Array.from(out);
}
