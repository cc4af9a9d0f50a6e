// Runner secrets (its token, key pair, config) written inside a git work tree could be committed and pushed by
// the next `git add -A`. Registration says so, naming the work tree and the files, unless git ignores them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** The root of the git work tree holding `path` (a `.git` directory or file above it), if any. */
export function gitWorkTreeOf(path: string): string | undefined {
  let dir = resolve(path);
  for (;;) {
    if (existsSync(join(dir, '.git'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * A warning naming the files among `paths` that sit in a git work tree and that git does not ignore, or
 * undefined. When git itself cannot answer (not installed), files in a work tree count as not ignored.
 */
export function secretsInWorkTreeWarning(paths: string[]): string | undefined {
  const exposed: Array<{ root: string; path: string }> = [];
  for (const path of paths) {
    const root = gitWorkTreeOf(path);
    if (root === undefined) continue;
    const check = spawnSync('git', ['-C', root, 'check-ignore', '-q', '--', relative(root, resolve(path))], {
      stdio: 'ignore',
    });
    if (check.status !== 0) exposed.push({ root, path: relative(root, resolve(path)) });
  }
  if (exposed.length === 0) return undefined;
  const roots = [...new Set(exposed.map((e) => e.root))];
  return (
    `warning: the runner's token and key are inside the git work tree ${roots.join(', ')} and git does not ignore ` +
    `${exposed.map((e) => e.path).join(', ')}: a \`git add\` would commit them. Add them to .gitignore, or ` +
    'register with --config (and --state-dir) outside the repository, e.g. --config ~/.config/baton/runner.json'
  );
}
