// HTTPS end to end: a server with a certificate signed by a private CA, a runner that trusts that CA through
// its config, a run that succeeds over TLS — and a client that does not trust the CA is refused.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.ts';
import { generateToken } from '../../src/server/tokens.ts';
import { launchRunner, waitForOutput } from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

function makeCertificates(dir: string) {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=Baton Test CA',
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  execFileSync('sh', ['-c', "printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf"], { cwd: dir });
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
  );
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

describe('TLS', () => {
  it('serves HTTPS; a runner trusting the private CA runs tasks; an untrusting client is refused', async () => {
    const dir = tempDir('baton-tls-');
    const certs = makeCertificates(dir);
    const admin = generateToken('user');
    const reg = generateToken('registration');
    const server = startTracked(
      'tls server',
      process.execPath,
      [
        BIN,
        'server',
        '--port',
        '0',
        '--data-dir',
        join(dir, 'data'),
        '--tls-cert',
        certs.cert,
        '--tls-key',
        certs.key,
        '--log-level',
        'warn',
      ],
      { env: { ...process.env, BATON_ADMIN_TOKEN: admin, BATON_RUNNER_REGISTRATION_TOKEN: reg } },
      true,
    );
    let out = '';
    server.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    server.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const url = (
      await waitForOutput(server, () => out, /listening on (https:\/\/\S+)/, 'it listened over TLS')
    )[1]!;

    // This test process does not trust the CA: the TLS handshake fails, nothing is answered.
    const untrusting = createClient({ baseUrl: url, token: admin });
    await expect(untrusting.listRuns()).rejects.toThrow(/cannot reach/);

    const config = join(dir, 'runner', 'runner.json');
    const register = startTracked('register', process.execPath, [
      BIN,
      'runner',
      'register',
      '--server',
      url,
      '--registration-token',
      reg,
      '--name',
      'tls-runner',
      '--config',
      config,
      '--ca-file',
      certs.ca,
    ]);
    let regOut = '';
    register.child.stderr?.on('data', (d: Buffer) => (regOut += d.toString()));
    expect((await register.exited).code, regOut).toBe(0);
    await launchRunner('tls-runner', config);

    // A CLI that trusts the CA (BATON_CA_FILE) submits and follows a run to its end.
    const wf = join(dir, 'wf.yml');
    execFileSync('sh', ['-c', `printf 'tasks: { hello: { run: "echo over tls" } }\\n' > ${wf}`]);
    const done = execFileSync(
      process.execPath,
      [BIN, 'submit', wf, '--server', url, '--token', admin, '--follow', '--json'],
      { env: { ...process.env, BATON_CA_FILE: certs.ca } },
    ).toString();
    const result = JSON.parse(done) as { status: string; results: Record<string, { runner: string }> };
    expect(result.status).toBe('succeeded');
    expect(result.results['hello']?.runner).toBe('tls-runner');
  });
});
