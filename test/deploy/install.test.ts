// SLOW (about a minute: `npm pack` builds dist/ and the UI, `npm install` reaches the npm registry).
// Installing on a runner machine as README "Installing a runner" says: the packed tarball installed globally
// into a prefix with Node 24 first on PATH, without EBADENGINE noise; `baton --version`; a server and a runner
// from that install running a task; and the systemd units of deploy/ verified against that install.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.ts';
import { generateToken } from '../../src/server/tokens.ts';
import { waitForOutput, waitForRun } from '../helpers/cluster.ts';
import { startTracked, type TrackedChild } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

function collect(p: TrackedChild): () => string {
  let text = '';
  p.child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  p.child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return () => text;
}

describe('installing on a runner machine (slow)', () => {
  it(
    'packs, installs globally into a prefix, and that install serves, registers a runner and runs a task',
    { timeout: 600_000 },
    async () => {
      const work = tempDir('baton-install-');
      // Pack a copy of the checkout: `prepack` rebuilds dist/ and web/dist, which other tests may be serving.
      const src = join(work, 'src');
      cpSync(ROOT, src, {
        recursive: true,
        filter: (p) => !/\/(node_modules|\.git|dist|test-artifacts|\.tmp)$/.test(p),
      });
      symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
      // A machine with Node 24 on PATH (the pinned one here), and the system's npm running on it.
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      };
      delete env.npm_config_prefix;
      const pack = await run('npm', ['pack', '--pack-destination', work], {
        cwd: src,
        env,
        maxBuffer: 64 << 20,
      });
      const tarball = readdirSync(work).find((f) => /^baton-.*\.tgz$/.test(f));
      expect(tarball, pack.stderr).toBeDefined();

      // The prefix is /usr/local of a root directory, where the systemd units below expect /usr/local/bin/baton.
      const root = join(work, 'root');
      const prefix = join(root, 'usr/local');
      const install = await run('npm', ['install', '-g', '--prefix', prefix, join(work, tarball!)], {
        cwd: work,
        env,
        maxBuffer: 64 << 20,
      });
      expect(install.stdout + install.stderr).not.toMatch(/EBADENGINE/);
      const baton = join(prefix, 'bin/baton');
      const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
        .version;
      expect((await run(baton, ['--version'], { env })).stdout.trim()).toBe(version);
      // The package runs its compiled code: no TypeScript sources ship.
      expect(readdirSync(join(prefix, 'lib/node_modules/baton')).sort()).not.toContain('src');

      // On an older Node first on PATH, one clear sentence instead of a loader error.
      const old = await run(baton, ['--version'], { env: { ...env, PATH: `/usr/bin:/bin` } }).catch(
        (e: { code: number; stderr: string }) => e,
      );
      if (
        /^v2[01]\./.test(
          (await run('/usr/bin/env', ['node', '--version'], { env: { PATH: '/usr/bin:/bin' } })).stdout,
        )
      )
        expect(old).toMatchObject({
          code: 1,
          stderr: expect.stringContaining('needs Node.js 22.18 or later'),
        });

      // A server and a runner, both from the install.
      const adminToken = generateToken('user');
      const registrationToken = generateToken('registration');
      const server = startTracked(
        'installed server',
        baton,
        ['server', '--port', '0', '--data-dir', join(work, 'server'), '--log-level', 'warn'],
        {
          env: { ...env, BATON_ADMIN_TOKEN: adminToken, BATON_RUNNER_REGISTRATION_TOKEN: registrationToken },
        },
        true,
      );
      const serverOut = collect(server);
      const url = (await waitForOutput(server, serverOut, /listening on (http:\/\/\S+)/, 'it listened'))[1]!;
      // The UI ships in the package.
      expect((await fetch(`${url}/runs`)).status).toBe(200);
      const config = join(work, 'runner', 'runner.json');
      mkdirSync(dirname(config));
      const reg = await run(
        baton,
        [
          'runner',
          'register',
          '--server',
          url,
          '--name',
          'installed',
          '--config',
          config,
          '--work-dir',
          join(work, 'runner/work'),
        ],
        { env: { ...env, BATON_RUNNER_REGISTRATION_TOKEN: registrationToken } },
      );
      expect(reg.stdout + reg.stderr).toContain('installed');
      const runner = startTracked(
        'installed runner',
        baton,
        ['runner', 'start', '--config', config],
        { env },
        true,
      );
      const runnerOut = collect(runner);
      await waitForOutput(runner, runnerOut, /runner '.*' started/, 'it started');
      const client = createClient({ baseUrl: url, token: adminToken });
      const submitted = await client.submitRun(
        'tasks:\n  hello:\n    run: echo "hello from the installed runner"\n',
      );
      const result = await waitForRun(client, submitted.id);
      expect(result.status).toBe('succeeded');
      expect(await client.taskLog(submitted.id, 'hello')).toContain('hello from the installed runner');

      // deploy/systemd units, checked by systemd itself against this root (its /usr/local/bin/baton is real).
      const units = join(root, 'etc/systemd/system');
      mkdirSync(units, { recursive: true });
      cpSync('/lib/systemd/system', join(root, 'usr/lib/systemd/system'), {
        recursive: true,
        dereference: false,
      });
      for (const unit of ['baton-server.service', 'baton-runner.service']) {
        cpSync(join(ROOT, 'deploy/systemd', unit), join(units, unit));
        const v = await run('systemd-analyze', [
          'verify',
          `--root=${root}`,
          `/etc/systemd/system/${unit}`,
        ]).catch((e: { code: number; stdout: string; stderr: string }) => e);
        expect({ unit: basename(unit), code: 'code' in v ? v.code : 0, output: v.stdout + v.stderr }).toEqual(
          {
            unit,
            code: 0,
            output: '',
          },
        );
      }
    },
  );
});
