// Issue 17: a user on the system's Node (older than the pinned Node 24 that `npm ci` installs) types the README's
// first command and sees no EBADENGINE or install-script warnings — npm runs on that older Node, Baton never does.
import { execFile } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);
/** The system's npm and Node first, as in a new user's shell (npm test puts node_modules/.bin first). */
const SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin';
/** A new user's shell: none of the npm_* settings `npm test` passes down (its loglevel above all). */
const USER_ENV = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm_|NODE$)/i.test(name))),
  PATH: SYSTEM_PATH,
};

describe('npm on the system Node', () => {
  it('npm ci plans the install without an engine or install-script warning', async () => {
    const dir = tempDir('baton-npm-');
    for (const file of ['package.json', 'package-lock.json', '.npmrc'])
      copyFileSync(join(ROOT, file), join(dir, file));
    const { stdout, stderr } = await run('npm', ['ci', '--dry-run', '--no-audit', '--no-fund'], {
      cwd: dir,
      env: USER_ENV,
      maxBuffer: 16 << 20,
    });
    expect(stdout + stderr).not.toMatch(/EBADENGINE|npm warn/);
  });

  it('npx baton --version prints the version and nothing else', async () => {
    const { stdout, stderr } = await run('npx', ['baton', '--version'], {
      cwd: ROOT,
      env: USER_ENV,
    });
    expect(stderr).toBe('');
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
