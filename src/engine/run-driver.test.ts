// Tasks of a custom type run through real CGI/1.1 driver programs written here (bash and node): the request
// they get, each kind of response, the bounds, a driver that never answers, and Debian's git-http-backend.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stepVisibleDir, tempDir } from '../../test/helpers/temp.ts';
import { CGI_BODY_MAX_BYTES } from './cgi-response.ts';
import { findDrivers } from './drivers.ts';
import { sandboxPlan } from './sandbox.ts';
import { makeTask, processesWith, runCollected, waitFor } from './test-support.ts';

/**
 * A drivers directory holding `scripts` (name → program text), each made executable. Where a task can see it:
 * under host isolation a task's /tmp is its own.
 */
function driversDir(scripts: Record<string, string>): string {
  const dir = join(stepVisibleDir(), 'drivers');
  mkdirSync(dir);
  for (const [name, text] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

async function runTyped(
  dir: string,
  type: string,
  driverSpec: Record<string, unknown>,
  extra: Parameters<typeof makeTask>[1] = {},
  options: { signal?: AbortSignal } = {},
) {
  const { drivers } = findDrivers(dir);
  return runCollected(makeTask([], { type, driverSpec, ...extra }), {
    workRoot: tempDir(),
    drivers,
    cancelGraceMs: 500,
    ...options,
  });
}

const canRunBwrap = !('error' in (await sandboxPlan()));

const ECHO_REQUEST = `#!/bin/bash
body=$(head -c "$CONTENT_LENGTH")
echo "driver log line" >&2
printf 'Status: 200 OK\\nContent-Type: application/json\\nX-Ignored: yes\\n\\n'
node -e '
const req = JSON.parse(process.argv[1]);
const env = Object.fromEntries(["GATEWAY_INTERFACE","REQUEST_METHOD","CONTENT_TYPE","CONTENT_LENGTH","PATH_INFO","SCRIPT_NAME","QUERY_STRING","SERVER_PROTOCOL","RUN_AS_CGI"].map((n) => [n, process.env[n]]));
process.stdout.write(JSON.stringify({ outputs: { greeting: "hello " + req.who, depth: req.depth, env }, secrets: { token: "tok-" + req.who + "-0123456789" } }));
' "$body"
`;

describe('custom task types over CGI/1.1', () => {
  it('a driver gets the resolved spec as JSON on stdin with the CGI variables, and its JSON outputs and secrets become outputs', async () => {
    const dir = driversDir({ 'echo.cgi': ECHO_REQUEST });
    const result = await runTyped(
      dir,
      'echo',
      { who: '${{ inputs.who }}', depth: 2 },
      { context: { inputs: { who: 'world' } } },
    );
    expect(result.outcome.message).toBeUndefined();
    expect(result.outcome.status).toBe('succeeded');
    const outputs = result.outcome.outputs;
    expect(outputs.greeting).toBe('hello world');
    expect(outputs.depth).toBe('2');
    const request = JSON.stringify({ who: 'world', depth: 2 });
    expect(JSON.parse(outputs.env!)).toEqual({
      GATEWAY_INTERFACE: 'CGI/1.1',
      REQUEST_METHOD: 'POST',
      CONTENT_TYPE: 'application/json',
      CONTENT_LENGTH: String(Buffer.byteLength(request)),
      PATH_INFO: '/',
      SCRIPT_NAME: '/echo',
      QUERY_STRING: '',
      SERVER_PROTOCOL: 'HTTP/1.1',
      RUN_AS_CGI: 'true',
    });
    expect(outputs.token).toBe('tok-world-0123456789');
    expect(result.outcome.confidential).toContain('token');
    expect(result.output).toContain('driver log line');
  });

  it("a secret a driver returns is a confidential output, and a value the task already masks stays masked in the driver's log", async () => {
    const dir = driversDir({
      leak: `#!/bin/bash
echo "known: $KNOWN" >&2
printf 'Content-Type: application/json\\r\\n\\r\\n{"secrets":{"pw":"s3cret-value-xyz"}}'
`,
    });
    const result = await runTyped(
      dir,
      'leak',
      {},
      {
        env: { KNOWN: 'already-secret-123' },
        context: { mask: ['already-secret-123'] },
      },
    );
    expect(result.outcome.status).toBe('succeeded');
    expect(result.outcome.outputs.pw).toBe('s3cret-value-xyz');
    expect(result.outcome.confidential).toEqual(['pw']);
    expect(result.output).toContain('known: ***');
    expect(result.output + result.system).not.toContain('already-secret-123');
    expect(result.system).not.toContain('s3cret-value-xyz');
  });

  it('a text/plain body is read as dotenv lines, with CRLF headers', async () => {
    const dir = driversDir({
      env: `#!/bin/sh\nprintf 'Status: 201 Created\\r\\nContent-Type: text/plain; charset=utf-8\\r\\n\\r\\nA=one\\nB="two words"\\n# note\\n'\n`,
    });
    const result = await runTyped(dir, 'env', {});
    expect(result.outcome.status).toBe('succeeded');
    expect(result.outcome.outputs).toEqual({ A: 'one', B: 'two words' });
    expect(result.system).toContain("driver 'env' answered 201 Created (text/plain");
  });

  it('a status above 299 fails the task with the message of the body', async () => {
    const dir = driversDir({
      broken: `#!/bin/sh\nprintf 'Status: 500 Internal Server Error\\nContent-Type: application/json\\n\\n{"message":"the upstream said no"}'\n`,
    });
    const result = await runTyped(dir, 'broken', {});
    expect(result.outcome).toMatchObject({
      status: 'failed',
      reason: 'driver_failed',
      message: "driver 'broken' failed: the driver answered 500 Internal Server Error: the upstream said no",
    });
  });

  it('a malformed header block fails the task naming the line', async () => {
    const dir = driversDir({ bad: `#!/bin/sh\nprintf 'Status: 200 OK\\nthis is not a header\\n\\n{}'\n` });
    const result = await runTyped(dir, 'bad', {});
    expect(result.outcome.status).toBe('failed');
    expect(result.outcome.reason).toBe('driver_failed');
    expect(result.outcome.message).toMatch(
      /driver 'bad' gave no valid response: the driver's response header line 2 is malformed \("this is not a header"\)/,
    );
  });

  it('a driver that writes a huge body is stopped at the body limit and the task fails naming it', async () => {
    const token = `huge-${randomBytes(4).toString('hex')}`;
    const dir = driversDir({
      huge: `#!/bin/sh\n: ${token}\nprintf 'Content-Type: text/plain\\n\\n'\nexec yes A=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n`,
    });
    const result = await runTyped(dir, 'huge', {});
    expect(result.outcome.status).toBe('failed');
    expect(result.outcome.reason).toBe('driver_failed');
    expect(result.outcome.message).toContain(`the limit is ${CGI_BODY_MAX_BYTES} bytes`);
    expect(processesWith(token)).toEqual([]);
  });

  it("a driver that never answers is bounded by the task's timeout and its process tree is gone", async () => {
    const token = `silent-${randomBytes(4).toString('hex')}`;
    const dir = driversDir({
      silent: `#!/bin/bash\nbash -c 'sleep 600; : ${token}-child' &\nsleep 600\n`,
    });
    const result = await runTyped(dir, 'silent', {}, { timeoutMs: 1000 });
    expect(result.outcome.status).toBe('timed_out');
    expect(result.outcome.reason).toBe('timeout');
    expect(result.outcome.message).toContain("waiting for driver 'silent'");
    await waitFor(() => processesWith(`${token}-child`).length === 0, 'the driver tree to be gone');
  });

  it('a driver that exits without a response fails the task', async () => {
    const dir = driversDir({ quiet: '#!/bin/sh\nexit 0\n', crash: '#!/bin/sh\necho boom >&2\nexit 3\n' });
    const quiet = await runTyped(dir, 'quiet', {});
    expect(quiet.outcome.message).toContain('the driver wrote no response on stdout');
    const crash = await runTyped(dir, 'crash', {});
    expect(crash.outcome).toMatchObject({ status: 'failed', reason: 'exit_code', exitCode: 3 });
    expect(crash.output).toContain('boom');
  });

  it('a runner without the driver fails the task saying which type is missing', async () => {
    const result = await runTyped(driversDir({}), 'absent', {});
    expect(result.outcome.status).toBe('failed');
    expect(result.outcome.message).toContain("has no driver for type 'absent'");
  });

  // Debian's package `git` (a dependency of the test machines, as in CI) ships it here.
  const gitBackend = '/usr/lib/git-core/git-http-backend';
  it("Debian's git-http-backend works as a driver: its headers are parsed and its body is an output", async () => {
    const root = stepVisibleDir();
    const repo = join(root, 'repo.git');
    execFileSync('git', ['init', '--quiet', '--bare', repo]);
    const work = join(root, 'work');
    execFileSync('git', ['init', '--quiet', '-b', 'main', work]);
    execFileSync('git', [
      '-C',
      work,
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@t',
      'commit',
      '--quiet',
      '--allow-empty',
      '-m',
      'x',
    ]);
    execFileSync('git', ['-C', work, 'push', '--quiet', repo, 'main']);
    const head = execFileSync('git', ['-C', work, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dir = driversDir({
      // The ref advertisement is a GET; the wrapper points the program at the repository. A GET has no body, so
      // no CONTENT_LENGTH: given one, git-http-backend pipes that many bytes into `upload-pack --advertise-refs`,
      // which does not read them, and dies of SIGPIPE (exit 141) whenever upload-pack has already exited.
      'git-refs': `#!/bin/sh\nexec env -u CONTENT_LENGTH GIT_PROJECT_ROOT=${root} GIT_HTTP_EXPORT_ALL=1 REQUEST_METHOD=GET PATH_INFO=/repo.git/info/refs QUERY_STRING=service=git-upload-pack ${gitBackend}\n`,
      // As Baton calls it: a POST of JSON, which git refuses with 415 and its no-cache headers.
      'git-pack': `#!/bin/sh\nexec env GIT_PROJECT_ROOT=${root} GIT_HTTP_EXPORT_ALL=1 PATH_INFO=/repo.git/git-upload-pack ${gitBackend}\n`,
    });
    symlinkSync(gitBackend, join(dir, 'git-raw'));
    const refs = await runTyped(dir, 'git-refs', {});
    expect(refs.outcome.message).toBeUndefined();
    expect(refs.outcome.status).toBe('succeeded');
    expect(refs.outcome.outputs.status).toBe('200');
    expect(refs.outcome.outputs.content_type).toBe('application/x-git-upload-pack-advertisement');
    expect(refs.outcome.outputs.body).toContain(`${head} refs/heads/main`);
    const pack = await runTyped(dir, 'git-pack', {});
    expect(pack.outcome.status).toBe('failed');
    expect(pack.outcome.reason).toBe('driver_failed');
    expect(pack.outcome.message).toContain('415 Unsupported Media Type');
    expect(pack.outcome.message).toContain(
      "Expected POST with Content-Type 'application/x-git-upload-pack-request', but received 'application/json' instead.",
    );
    // Unwrapped, with no project root: still a CGI answer (a status and a message), not a crash.
    const raw = await runTyped(dir, 'git-raw', {});
    expect(raw.outcome.status).toBe('failed');
    expect(raw.outcome.reason).toBe('driver_failed');
  });

  it.runIf(canRunBwrap)(
    'under sandbox isolation the driver runs in bubblewrap with its directory shown read-only',
    async () => {
      const dir = driversDir({
        probe: `#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nif touch "$(dirname "$0")/written" 2>/dev/null; then echo WRITABLE=yes; else echo WRITABLE=no; fi\necho HOME_IS=$HOME\n`,
      });
      const { drivers } = findDrivers(dir);
      const result = await runCollected(makeTask([], { type: 'probe', driverSpec: {} }), {
        workRoot: tempDir(),
        drivers,
        containment: 'sandbox',
      });
      expect(result.outcome.message).toBeUndefined();
      expect(result.outcome.outputs.WRITABLE).toBe('no');
      expect(result.outcome.outputs.HOME_IS).not.toBe(process.env.HOME);
    },
  );
});
