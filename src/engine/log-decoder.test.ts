import { describe, expect, it } from 'vitest';
import { createLogDecoder } from './log-decoder.ts';

function collect(): { texts: string[]; emit: (t: string) => void } {
  const texts: string[] = [];
  return { texts, emit: (t) => texts.push(t) };
}

describe('log decoder', () => {
  it('keeps a multi-byte character intact when it is split across two writes', () => {
    const { texts, emit } = collect();
    const d = createLogDecoder(emit);
    const bytes = Buffer.from('a€b');
    d.write(bytes.subarray(0, 2));
    d.write(bytes.subarray(2));
    d.end();
    expect(texts.join('')).toBe('a€b');
  });

  it('turns invalid UTF-8 into U+FFFD', () => {
    const { texts, emit } = collect();
    const d = createLogDecoder(emit);
    d.write(Uint8Array.from([0x61, 0xff, 0xfe, 0x62]));
    d.end();
    expect(texts.join('')).toBe('a\uFFFD\uFFFDb');
  });

  it('replaces NUL characters with U+FFFD', () => {
    const { texts, emit } = collect();
    const d = createLogDecoder(emit);
    d.write(Uint8Array.from([0x61, 0x00, 0x62]));
    expect(texts.join('')).toBe('a\uFFFDb');
  });

  it('reports a character cut off at the end of output as U+FFFD', () => {
    const { texts, emit } = collect();
    const d = createLogDecoder(emit);
    d.write(Buffer.from('€').subarray(0, 2));
    d.end();
    expect(texts.join('')).toBe('\uFFFD');
  });
});
