import { describe, expect, it } from 'vitest';
import { BatonError } from '../protocol/errors.ts';
import { decodeJsonBody } from './utf8-body.ts';

function refusal(body: Buffer): BatonError {
  try {
    decodeJsonBody(body);
  } catch (error) {
    if (error instanceof BatonError) return error;
    throw error;
  }
  throw new Error('accepted');
}

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));

describe('decodeJsonBody', () => {
  it('returns valid UTF-8 as text', () => {
    expect(decodeJsonBody(Buffer.from('{"workflow": "café"}'))).toBe('{"workflow": "café"}');
  });

  it('maps a bad byte in workflow to its line and column, after other keys and escapes', () => {
    const error = refusal(
      bytes(
        '{"inputs": {"a": "[1, {\\"x\\": 2}]"}, "fileName": "f", "workflow": "a: \\ud83d\\ude00\\n\\tb: x',
        [0xfe],
        '"}',
      ),
    );
    expect(error.code).toBe('invalid_workflow');
    // "a: 😀\n" is 8 bytes; "\tb: x" puts the bad byte at column 6 of line 2, byte offset 13.
    expect(error.details.issues).toEqual([
      expect.objectContaining({
        line: 2,
        column: 6,
        message: expect.stringContaining('byte 0xfe at line 2, column 6 (byte offset 13)'),
      }),
    ]);
  });

  it('answers 400 with the body offset when the bad byte is elsewhere', () => {
    const error = refusal(bytes('{"workflow": "a: 1", "fileName": "', [0xc0, 0x80], '"}'));
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain('byte 0xc0 at offset 34');
  });
});
