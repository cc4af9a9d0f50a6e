// Hostile workflow input through real processes: invalid UTF-8 in a file (baton validate, baton submit) and in
// a request body (a real server), and a runs_on label no runner could carry. Each is refused with its place.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, startFaultServer } from '../helpers/fault-cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

async function baton(args: string[], env: NodeJS.ProcessEnv = {}) {
  const proc = startTracked(`baton ${args[0]}`, process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
  });
  let out = '';
  proc.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const { code } = await proc.exited;
  return { code, out };
}

/** `tasks:` … `run: echo caf<0xff>` — the bad byte is on line 4, column 22, byte offset 44. */
const BAD = Buffer.concat([
  Buffer.from('tasks:\n  a:\n    steps:\n      - run: echo caf'),
  Buffer.from([0xff]),
  Buffer.from('\n'),
]);

async function post(url: string, token: string, body: Buffer) {
  const response = await fetch(`${url}/api/v1/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      error: {
        code: string;
        message: string;
        issues?: Array<{ line: number; column: number; message: string }>;
      };
    },
  };
}

describe('invalid UTF-8 in a workflow is refused with its place', () => {
  it('baton validate and baton run on a file with a 0xff byte exit 2 naming line, column and byte offset', async () => {
    const file = join(tempDir(), 'bad.yml');
    writeFileSync(file, BAD);
    const { code, out } = await baton(['validate', file]);
    expect(code).toBe(2);
    expect(out).toContain(
      `${file}:4:22: workflow is not valid UTF-8: byte 0xff at line 4, column 22 (byte offset 44)`,
    );
    expect(out).not.toContain('ok');
    // baton run reads the file the same way, before it starts its embedded server and runner.
    const run = await baton(['run', file]);
    expect(run.code).toBe(2);
    expect(run.out).toContain('byte 0xff at line 4, column 22 (byte offset 44)');
  });

  it('baton submit refuses the file before sending it, and nothing is stored', async () => {
    const server = await startFaultServer();
    const file = join(tempDir(), 'bad.yml');
    writeFileSync(file, BAD);
    const { code, out } = await baton(['submit', file], {
      BATON_SERVER: server.url,
      BATON_TOKEN: server.adminToken,
    });
    expect(code).toBe(2);
    expect(out).toContain('byte 0xff at line 4, column 22 (byte offset 44)');
    expect((await server.client.listRuns()).runs).toEqual([]);
  });

  it('a request body with invalid bytes in the workflow gets 422 invalid_workflow with line, column and offset', async () => {
    const server = await startFaultServer();
    // JSON escapes before the bad byte (\n, \u00e9) count as the characters they stand for.
    const body = Buffer.concat([
      Buffer.from(
        '{"fileName": "x.yml", "workflow": "tasks:\\n  a:\\n    steps:\\n      - run: echo caf\\u00e9 ',
      ),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('\\n"}'),
    ]);
    const answer = await post(server.url, server.adminToken, body);
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe('invalid_workflow');
    expect(answer.body.error.issues).toEqual([
      expect.objectContaining({
        line: 4,
        column: 24,
        message:
          'workflow is not valid UTF-8: byte 0xc3 at line 4, column 24 (byte offset 47); save the file as UTF-8',
      }),
    ]);
    expect((await server.client.listRuns()).runs).toEqual([]);

    // Bad bytes outside the workflow: 400 with the body's offset.
    const elsewhere = Buffer.concat([
      Buffer.from('{"fileName": "x'),
      Buffer.from([0xff]),
      Buffer.from('", "workflow": "tasks: {}"}'),
    ]);
    const refused = await post(server.url, server.adminToken, elsewhere);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('byte 0xff at offset 15');
  });
});

describe('runs_on labels at submit', () => {
  it('a label no runner could carry is refused with 422 naming it and its place', async () => {
    const server = await startFaultServer();
    const workflow = `tasks:\n  a:\n    runs_on: ['$(reboot)', ${'x'.repeat(100_000)}]\n    steps:\n      - run: echo\n`;
    const answer = await post(server.url, server.adminToken, Buffer.from(JSON.stringify({ workflow })));
    expect(answer.status).toBe(422);
    const messages = answer.body.error.issues!.map(
      (issue) => `${issue.line}:${issue.column} ${issue.message}`,
    );
    expect(messages).toEqual([
      expect.stringMatching(/^3:15 runs_on label '\$\(reboot\)' of task 'a' is not a valid runner label/),
      expect.stringMatching(
        /^3:28 runs_on label 'x{60}…' of task 'a' is 100000 characters long; the limit is 100/,
      ),
    ]);
    expect((await server.client.listRuns()).runs).toEqual([]);
  });
});
