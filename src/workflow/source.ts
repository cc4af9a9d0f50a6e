// Workflow text before YAML sees it: the size limit (checked on bytes, before any parsing)
// and UTF-8 decoding that points at the first invalid byte.

import { formatBytes } from './limits.ts';
import { makeIssue, START, type WorkflowIssue } from './issues.ts';

export type SourceResult = { ok: true; text: string } | { ok: false; issue: WorkflowIssue };

export function readSource(input: string | Uint8Array, maxBytes: number): SourceResult {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (size > maxBytes) {
    const message = `workflow is ${size} bytes; the limit is ${formatBytes(maxBytes)} per workflow`;
    return { ok: false, issue: makeIssue('limit_exceeded', message, START, '') };
  }
  if (typeof input === 'string') return { ok: true, text: input };
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(input) };
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const offset = firstInvalidByte(input);
    const before = input.subarray(0, offset);
    const lineStart = before.lastIndexOf(0x0a) + 1;
    const line = before.reduce((count, byte) => count + (byte === 0x0a ? 1 : 0), 1);
    const column = new TextDecoder('utf-8').decode(before.subarray(lineStart)).length + 1;
    const byte = (input[offset] ?? 0).toString(16).padStart(2, '0');
    const message = `workflow is not valid UTF-8: byte 0x${byte} at line ${line}, column ${column} (byte offset ${offset}); save the file as UTF-8`;
    return { ok: false, issue: makeIssue('yaml_syntax', message, { line, column }, '') };
  }
}

/**
 * Offset of the first byte that makes the input invalid UTF-8. A streaming decoder accepts a
 * prefix that ends mid-character, so validity of prefixes is monotonic: binary search finds the
 * shortest invalid prefix in O(n log n).
 */
export function firstInvalidByte(bytes: Uint8Array): number {
  const validPrefix = (length: number): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, length), { stream: true });
      return true;
    } catch (error) {
      if (error instanceof TypeError) return false;
      throw error;
    }
  };
  let low = 0; // valid
  let high = bytes.length; // invalid (the whole input failed)
  if (validPrefix(high)) {
    // Valid as a stream but not as a whole: the input ends inside a character.
    const lastLead = bytes.findLastIndex((byte) => (byte & 0xc0) !== 0x80);
    return Math.max(0, lastLead);
  }
  while (high - low > 1) {
    const middle = (low + high) >>> 1;
    if (validPrefix(middle)) low = middle;
    else high = middle;
  }
  // The shortest invalid prefix ends at the offending byte; when that byte cuts short a
  // multi-byte character, point at the character's first byte instead.
  const offending = high - 1;
  for (let back = 1; back <= 3 && offending - back >= 0; back++) {
    const byte = bytes[offending - back] ?? 0;
    if (byte >= 0xc0) {
      const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return offending - back + length > offending ? offending - back : offending;
    }
    if ((byte & 0xc0) !== 0x80) break;
  }
  return offending;
}
