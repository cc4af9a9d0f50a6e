import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { makeTask, runCollected } from './test-support.ts';

const SECRET = 'hunter2-Sup3r-s3cret';

describe('runTask: masking', () => {
  it('masks a value split across two writes at every offset, on stdout and stderr', async () => {
    const run = [
      'import sys, time',
      `s = ${JSON.stringify(SECRET)}`,
      'for out in (sys.stdout, sys.stderr):',
      '    for k in range(len(s) + 1):',
      '        out.write("<" + s[:k]); out.flush(); time.sleep(0.02)',
      '        out.write(s[k:] + ">\\n"); out.flush()',
    ].join('\n');
    const task = makeTask([{ shell: 'python', run }], { context: { mask: [SECRET] } });
    const { outcome, logs } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.status).toBe('succeeded');
    const expected = '<***>\n'.repeat(SECRET.length + 1);
    for (const stream of ['stdout', 'stderr']) {
      const events = logs.filter((e) => e.stream === stream);
      expect(events.length).toBeGreaterThan(10); // really delivered in many chunks
      expect(events.map((e) => e.text).join('')).toBe(expected);
    }
  });

  it('masks at the very end of the output without a newline, and inside a 1 MB line', async () => {
    const task = makeTask(
      [
        {
          run: `head -c 1000000 /dev/zero | tr '\\0' x\nprintf '%s' "$S"\nhead -c 1000000 /dev/zero | tr '\\0' y\nprintf ' end %s' "$S"`,
        },
      ],
      { env: { S: SECRET }, context: { mask: [SECRET] } },
    );
    const { output } = await runCollected(task, { workRoot: tempDir() });
    expect(output).toBe(`${'x'.repeat(1_000_000)}***${'y'.repeat(1_000_000)} end ***`);
  });

  it('masks each line of a multi-line value, and leaves values under 4 characters alone', async () => {
    const pem =
      '-----BEGIN TEST KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vc\nNLYLInFnt4aqp0FdL6Kq\n-----END TEST KEY-----';
    const task = makeTask(
      [{ run: 'printf "%s\\n" "$PEM"\necho "second line alone: NLYLInFnt4aqp0FdL6Kq"\necho "short: abc"' }],
      {
        env: { PEM: pem },
        context: { mask: [pem, 'abc'] },
      },
    );
    const { output } = await runCollected(task, { workRoot: tempDir() });
    expect(output).toBe('***\nsecond line alone: ***\nshort: abc\n');
  });

  it('masks system lines and the outcome message', async () => {
    const task = makeTask(
      [
        { name: 'gate', if: `inputs.pw == '${SECRET}'`, run: 'echo never' },
        { name: 'broken', run: `echo \${{ fromJSON('${SECRET}') }}` },
      ],
      { context: { mask: [SECRET], inputs: { pw: 'other' } } },
    );
    const { outcome, system } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.reason).toBe('setup_failed');
    expect(outcome.message).toContain('***');
    expect(outcome.message).not.toContain(SECRET);
    expect(system).toContain("step 'gate' skipped: its condition 'inputs.pw == '***'' is false");
    expect(system).not.toContain(SECRET);
  });

  it('masks values a step appends to BATON_MASK: in its own later output and in later steps', async () => {
    const task = makeTask([
      {
        // The sleep covers the documented window: BATON_MASK is polled every 100 ms while a step runs.
        run: 'echo "runtime-value-1" >> "$BATON_MASK"\nsleep 0.5\necho "same step: runtime-value-1"\nprintf "no-newline-value" >> "$BATON_MASK"',
      },
      { run: 'echo "next step: runtime-value-1 no-newline-value"' },
    ]);
    const { outcome, output } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.status).toBe('succeeded');
    expect(output).toBe('same step: ***\nnext step: *** ***\n');
  });

  it('masks a confidential output printed right after it is written, and still returns its real value', async () => {
    const task = makeTask(
      [
        {
          // No pause between writing the value and printing it: the masker reads the output file before
          // each piece of output, so program order is enough.
          run: 'echo "token=tok-9f8e7d6c" >> "$BATON_OUTPUT"\necho "plain=visible-value" >> "$BATON_OUTPUT"\necho "same step: tok-9f8e7d6c"',
        },
        { run: 'echo "later: tok-9f8e7d6c visible-value"' },
      ],
      {
        exports: [
          { name: 'token', confidential: true, scope: 'local' },
          { name: 'plain', confidential: false, scope: 'global' },
        ],
      },
    );
    const { outcome, output } = await runCollected(task, { workRoot: tempDir() });
    expect(output).toBe('same step: ***\nlater: *** visible-value\n');
    expect(outcome.outputs).toEqual({ token: 'tok-9f8e7d6c', plain: 'visible-value' });
    expect(outcome.confidential).toEqual(['token']);
  });

  it('masks a confidential output held back at the end of the step that wrote it', async () => {
    // Written and printed at once, without a pause: the value is read when the step ends, before its
    // held-back output is released; only text already emitted could escape, and the prefix is held.
    const task = makeTask(
      [{ run: 'echo "key=k3y-0123456789" >> "$BATON_OUTPUT"\nprintf "k3y-0123456789"' }],
      {
        exports: [{ name: 'key', confidential: true, scope: 'local' }],
        context: { mask: ['k3y-0123456789-other'] },
      },
    );
    const { output } = await runCollected(task, { workRoot: tempDir() });
    expect(output).toBe('***');
  });
});
