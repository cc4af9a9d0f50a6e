import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { guarded } from './common.ts';
import { createOut } from './output.ts';

describe('CLI output', () => {
  it('a command that ends by returning out.write(…) exits 0, not with the stream’s boolean', async () => {
    const stdout = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    const stderr = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    const out = createOut(stdout, stderr);
    const codes: unknown[] = [];
    await guarded(out, (c) => codes.push(c))(async () => out.write('no runs\n'));
    expect(codes).toEqual([0]);
    expect(String((stdout as unknown as PassThrough).read())).toBe('no runs\n');
  });
});
