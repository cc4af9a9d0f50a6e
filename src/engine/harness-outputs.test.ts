// OUTPUT_FILE of Harness-dialect tasks (TaskSpec.outputFile): set only for such tasks, read with its
// `${OUTPUT_FILE}_<suffix>` siblings after the step, private to the task, bounded, masked live when confidential.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { stepVisibleDir, tempDir } from '../../test/helpers/temp.ts';
import { sandboxPlan } from './sandbox.ts';
import { makeTask, runCollected } from './test-support.ts';
import type { Containment } from './types.ts';

const canRunBwrap = !('error' in (await sandboxPlan()));
const containments: Containment[] = ['none', 'auto', ...(canRunBwrap ? (['sandbox'] as const) : [])];

describe('OUTPUT_FILE (Harness dialect)', () => {
  it('is not set for a task that does not ask for it', async () => {
    const { outcome, output } = await runCollected(makeTask([{ run: 'echo "[${OUTPUT_FILE-unset}]"' }]), {
      workRoot: tempDir(),
    });
    expect(outcome.status).toBe('succeeded');
    expect(output).toContain('[unset]');
  });

  it.each(containments)(
    'reads $OUTPUT_FILE, ${OUTPUT_FILE}_<suffix> files and BATON_OUTPUT together (containment %s)',
    async (containment) => {
      const task = makeTask(
        [
          {
            run: [
              'echo "a=1" > "$OUTPUT_FILE"',
              'echo "password=s3cr3t-value" > "${OUTPUT_FILE}_foo"',
              'printf "multi<<EOF\\nx\\ny\\nEOF\\n" > "${OUTPUT_FILE}_bar"',
              'echo "b=2" >> "$BATON_OUTPUT"',
              'echo "ignored=1" > "$(dirname "$OUTPUT_FILE")/other"',
            ].join('\n'),
          },
        ],
        { outputFile: true },
      );
      const { outcome } = await runCollected(task, { workRoot: tempDir(), containment });
      expect(outcome.status).toBe('succeeded');
      expect(outcome.outputs).toEqual({ a: '1', b: '2', password: 's3cr3t-value', multi: 'x\ny' });
    },
  );

  it('fails the task naming both files when one name gets two different values', async () => {
    const task = makeTask([{ run: 'echo "v=one" > "${OUTPUT_FILE}_a"\necho "v=two" > "${OUTPUT_FILE}_b"' }], {
      outputFile: true,
    });
    const { outcome } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'invalid_output_file' });
    expect(outcome.message).toContain(
      "output 'v' was written with different values to ${OUTPUT_FILE}_a and ${OUTPUT_FILE}_b",
    );
  });

  it('fails the task when BATON_OUTPUT and OUTPUT_FILE disagree, and accepts the same value in both', async () => {
    const same = makeTask([{ run: 'echo "v=one" > "$OUTPUT_FILE"\necho "v=one" >> "$BATON_OUTPUT"' }], {
      outputFile: true,
    });
    expect((await runCollected(same, { workRoot: tempDir() })).outcome.outputs).toEqual({ v: 'one' });
    const differ = makeTask([{ run: 'echo "v=one" > "$OUTPUT_FILE"\necho "v=two" >> "$BATON_OUTPUT"' }], {
      outputFile: true,
    });
    const { outcome } = await runCollected(differ, { workRoot: tempDir() });
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain("output 'v' with different values to BATON_OUTPUT and $OUTPUT_FILE");
  });

  it('refuses a planted symbolic link instead of reading the file it points to', async () => {
    const task = makeTask([{ run: 'ln -s /etc/hostname "${OUTPUT_FILE}_leak"' }], { outputFile: true });
    const { outcome } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('${OUTPUT_FILE}_leak is a symbolic link');
  });

  it('names the limit when the files together exceed 16 MiB', async () => {
    const task = makeTask(
      [{ run: 'head -c 17000000 /dev/zero | tr "\\0" "a" | sed "s/^/big=/" > "${OUTPUT_FILE}_big"' }],
      { outputFile: true },
    );
    const { outcome } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toMatch(/\$\{OUTPUT_FILE\}_big is \d+ bytes; .*16777216 bytes \(16 MiB\)/);
  });

  it('masks a confidential output written to an OUTPUT_FILE sibling in the log that prints it next', async () => {
    const secret = `pw-${randomBytes(8).toString('hex')}`;
    const task = makeTask(
      [{ run: `echo "password=${secret}" > "\${OUTPUT_FILE}_foo"\necho "printed: ${secret}"` }],
      { outputFile: true, exports: [{ name: 'password', confidential: true, scope: 'local' }] },
    );
    const { outcome, output } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.outputs.password).toBe(secret);
    expect(output).toContain('printed: ***');
    expect(output).not.toContain(secret);
  });

  it("keeps another task's OUTPUT_FILE out of sight under namespace containment", async () => {
    const workRoot = tempDir();
    const gate = stepVisibleDir();
    const secret = `pw-${randomBytes(8).toString('hex')}`;
    const wait = (file: string) =>
      `for i in $(seq 600); do [ -e "${gate}/${file}" ] && break; sleep 0.1; done`;
    const writer = makeTask(
      [
        {
          run: `echo "password=${secret}" > "\${OUTPUT_FILE}_foo"\ntouch "${gate}/written"\n${wait('read')}`,
        },
      ],
      { name: 'writer', outputFile: true },
    );
    const reader = makeTask(
      [
        {
          // The pattern is put together at run time, so the reader's own script does not hold it.
          run: `${wait('written')}\nhalf=${secret.slice(0, 6)}\n(grep -rs "\${half}${secret.slice(6)}" "$(dirname "$BATON_WORKSPACE")" /tmp /var/tmp && echo FOUND) || echo none\ntouch "${gate}/read"`,
        },
      ],
      { name: 'reader', outputFile: true },
    );
    const [wrote, seen] = await Promise.all([
      runCollected(writer, { workRoot, containment: 'auto' }),
      runCollected(reader, { workRoot, containment: 'auto' }),
    ]);
    expect(wrote.outcome.outputs.password).toBe(secret);
    expect(seen.output).toContain('none');
    expect(seen.output).not.toContain('FOUND');
  });
});
