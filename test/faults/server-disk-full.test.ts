// Disk full under the server's database: requests that must write answer 507 storage_full (never a 500
// trace), nothing already stored is lost, and once space returns the server works again without a restart.
// The data dir is a 16 MiB tmpfs in a private mount namespace; the filler file is written and removed from
// inside that namespace with nsenter.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ApiError, createClient } from '../../src/client/index.ts';
import { generateToken } from '../../src/server/tokens.ts';
import { waitForOutput } from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

describe('disk full under the server database', () => {
  it('answers 507 storage_full while the disk is full and recovers without a restart once space returns', async () => {
    const dir = tempDir('baton-server-tmpfs-');
    const admin = generateToken('user');
    const script = `mount -t tmpfs -o size=16m tmpfs '${dir}' && exec '${process.execPath}' '${BIN}' server --port 0 --data-dir '${dir}' --log-level warn`;
    const server = startTracked(
      'server in tmpfs',
      'unshare',
      ['-m', '--propagation', 'private', 'sh', '-c', script],
      { env: { ...process.env, BATON_ADMIN_TOKEN: admin } },
      true,
    );
    let out = '';
    server.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    server.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const url = (await waitForOutput(server, () => out, /listening on (http:\/\/\S+)/, 'it listened'))[1]!;
    const client = createClient({ baseUrl: url, token: admin });
    const kept = await client.submitRun('name: before\ntasks: { a: { run: "true" } }');
    const inNamespace = (...cmd: string[]) =>
      execFileSync('nsenter', ['-t', String(server.pid), '-m', '--', ...cmd], { stdio: 'pipe' });
    // Fill the tmpfs to the last byte (dd stops with ENOSPC, which is the point).
    try {
      inNamespace('dd', 'if=/dev/zero', `of=${dir}/filler`, 'bs=1M');
    } catch {
      // dd exits non-zero when the disk is full: expected.
    }
    const big = `name: during\ntasks:\n${Array.from({ length: 200 }, (_, i) => `  t${i}: { run: "echo ${'x'.repeat(200)}" }`).join('\n')}\n`;
    let answer: unknown;
    for (let i = 0; i < 20 && answer === undefined; i++) {
      answer = await client.submitRun(big).then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect(answer).toBeInstanceOf(ApiError);
    expect((answer as ApiError).status).toBe(507);
    expect((answer as ApiError).code).toBe('storage_full');
    expect(out).not.toMatch(/unhandled error/);
    // Reading still works, and what was stored before is there.
    expect((await client.getRun(kept.id)).name).toBe('before');
    inNamespace('rm', '-f', `${dir}/filler`);
    const after = await client.submitRun('name: after\ntasks: { a: { run: "true" } }');
    expect((await client.getRun(after.id)).name).toBe('after');
    const names = (await client.listRuns()).runs.map((r) => r.name);
    expect(names).toContain('before');
    expect(names).toContain('after');
  });
});
