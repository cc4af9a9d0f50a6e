// Fault (issue 14, finding 3): environment limits were not enforced where values are born. 20,000 variables in
// one task were accepted (201) and bash took minutes to start; values of megabytes built at run time through
// outputs, imports and format() failed only at spawn, as E2BIG. Now: the submit is refused (422) naming the limit
// and the place; a value that outgrows a limit at run time fails its task before spawn with reason
// env_too_large and exit code null, and the runner goes on to the next task.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/client/http.ts';
import { startRunnerProcess, startServerProcess, waitForRun } from '../helpers/cluster.ts';
import { BIN, exitWithin } from '../helpers/fault-cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

const SEED_BYTES = 60_000;
const COPIES = 53; // 53 × 60,000 = 3,180,000 bytes: just over 3 MiB

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('environment limits', () => {
  it('refuses 20,000 variables and oversized inputs at submit (422) naming the limit and the place', async () => {
    const server = await startServerProcess();
    const vars = Array.from({ length: 20_000 }, (_, i) => `      V${i}: x\n`).join('');
    const many = await refusal(
      server.client.submitRun(`tasks:\n  wide:\n    run: echo never\n    env:\n${vars}`),
    );
    expect(many).toMatchObject({ status: 422, code: 'invalid_workflow' });
    expect(many.details['issues']).toEqual([
      {
        code: 'limit_exceeded',
        message:
          "env of task 'wide' sets 20000 variables (workflow, task and step env and imports together); the limit is 1000 per task",
        line: 2,
        column: 3,
        path: 'tasks.wide',
      },
    ]);

    const input = await refusal(
      server.client.submitRun('inputs:\n  note: {}\ntasks:\n  t:\n    run: echo "${{ inputs.note }}"\n', {
        inputs: { note: 'n'.repeat(70_000) },
      }),
    );
    expect(input).toMatchObject({ status: 422, code: 'invalid_inputs' });
    expect(input.message).toBe(
      "input 'note' is 70000 bytes; the limit is 65536 bytes (64 KiB) per input value",
    );

    // The CLI's --input goes the same way and says why.
    const workflow = join(tempDir('baton-env-limits-'), 'wf.yml');
    writeFileSync(workflow, 'inputs:\n  note: {}\ntasks:\n  t:\n    run: echo "${{ inputs.note }}"\n');
    const submit = startTracked(
      'baton submit --input',
      process.execPath,
      [
        BIN,
        'submit',
        workflow,
        '--server',
        server.url,
        '--token',
        server.adminToken,
        '--input',
        `note=${'n'.repeat(70_000)}`,
      ],
      {},
      true,
    );
    let out = '';
    submit.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    submit.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exit = await exitWithin(submit, 30_000);
    expect(exit.code).not.toBe(0);
    expect(out).toContain("input 'note' is 70000 bytes; the limit is 65536 bytes (64 KiB) per input value");
    expect((await server.client.listRuns()).runs.length).toBe(0);
  });

  it('fails a task whose imported value grows past the limit through format() before spawn, and the runner goes on', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'env-limits');
    const copies = Array.from({ length: COPIES }, () => '{0}').join('');
    const run = await server.client.submitRun(`
tasks:
  make:
    run: printf 'seed=%s\\n' "$(head -c ${SEED_BYTES} /dev/zero | tr '\\0' x)" >> "$BATON_OUTPUT"
    exports: [seed]
  grow:
    depends_on: [make]
    imports: [{ from: make, variable: seed }]
    env:
      BIG: \${{ format('${copies}', imports.seed) }}
    run: echo never-grow
  explode:
    depends_on: [make]
    imports: [{ from: make, variable: seed }]
    env:
      HUGE: \${{ format('${Array.from({ length: 300 }, () => '{0}').join('')}', imports.seed) }}
    run: echo never-explode
  many:
    steps:
      - name: export
        run: for i in $(seq 1 1001); do echo "V$i=x" >> "$BATON_ENV"; done
      - name: second
        run: echo never-second
  direct:
    run: printf 'huge=%s\\n' "$(head -c 3200000 /dev/zero | tr '\\0' y)" >> "$BATON_OUTPUT"
    exports: [huge]
`);
    const result = await waitForRun(server.client, run.id);
    expect(result.results['make']).toMatchObject({ status: 'succeeded' });
    expect(result.results['grow']).toMatchObject({
      status: 'failed',
      reason: 'env_too_large',
      exitCode: null,
      message: `task 'grow' env 'BIG' is ${COPIES * SEED_BYTES} bytes; the limit is 65536 bytes (64 KiB) per value`,
    });
    // 300 × 60,000 characters: the expression stops at its own bound before the runner holds 18 MB per copy.
    expect(result.results['explode']).toMatchObject({
      status: 'failed',
      reason: 'setup_failed',
      exitCode: null,
    });
    expect(result.results['explode']?.message).toContain(
      'format() would make a string of more than 16777216 characters; the limit is 16777216 (16 Mi) characters',
    );
    expect(result.results['many']).toMatchObject({
      status: 'failed',
      reason: 'env_too_large',
      exitCode: null,
      message:
        "step 'second' cannot start: the task sets 1001 environment variables; the limit is 1000 per task",
    });
    expect(result.results['direct']).toMatchObject({
      status: 'failed',
      reason: 'invalid_output_file',
      message:
        "step 'direct' wrote 'huge' of 3200000 bytes to BATON_OUTPUT; the limit is 65536 bytes (64 KiB) per value (values become environment variables)",
    });
    expect(await server.client.taskLog(run.id, 'grow')).not.toContain('never-grow');
    expect(await server.client.taskLog(run.id, 'many')).not.toContain('never-second');

    const next = await server.client.submitRun('tasks:\n  next:\n    run: echo next-ran\n');
    const after = await waitForRun(server.client, next.id);
    expect(after.results['next']).toMatchObject({ status: 'succeeded', exitCode: 0, runner: 'env-limits' });
    expect(await server.client.taskLog(next.id, 'next')).toContain('next-ran');
  });
});
