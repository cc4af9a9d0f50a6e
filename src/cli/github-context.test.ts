import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { gitFacts, repositoryOf, workflowTriggers } from './github-context.ts';

describe('the GitHub facts the CLI gathers', () => {
  it.each([
    ['https://github.com/octo-org/hello-world.git', 'octo-org/hello-world'],
    ['https://github.com/octo-org/hello-world', 'octo-org/hello-world'],
    ['https://user:pw@github.example.com/octo/repo/', 'octo/repo'],
    ['ssh://git@github.com/octo/repo.git', 'octo/repo'],
    ['git@github.com:octo/repo.git', 'octo/repo'],
    ['git@gitlab.com:group/sub/repo.git', 'sub/repo'],
    ['/srv/git/repo.git', ''],
    ['', ''],
  ])('reads owner/name from the remote %s', (url, repository) => {
    expect(repositoryOf(url).repository).toBe(repository);
  });

  it('lists the events of on: as a name, a list or a map, and nothing for a workflow of another dialect', async () => {
    expect(await workflowTriggers('on: push\njobs: {}\n')).toEqual(['push']);
    expect(await workflowTriggers('on: [push, pull_request]\njobs: {}\n')).toEqual(['push', 'pull_request']);
    expect(await workflowTriggers('on:\n  workflow_dispatch:\n  schedule: []\njobs: {}\n')).toEqual([
      'workflow_dispatch',
      'schedule',
    ]);
    expect(await workflowTriggers('jobs: {}\n')).toEqual([]);
    expect(await workflowTriggers('tasks: {}\n')).toBeUndefined();
    expect(await workflowTriggers('jobs: [\n')).toBeUndefined();
  });

  it('reads a detached HEAD that a tag points at as a tag ref, and a directory outside git as empty facts', () => {
    const dir = tempDir('baton-git-');
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: dir,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'A',
          GIT_AUTHOR_EMAIL: 'a@x',
          GIT_COMMITTER_NAME: 'A',
          GIT_COMMITTER_EMAIL: 'a@x',
        },
      });
    git('init', '-q', '-b', 'main');
    writeFileSync(join(dir, 'f'), 'x');
    git('add', 'f');
    git('commit', '-q', '-m', 'one');
    git('tag', 'v1.0.0');
    git('checkout', '-q', '--detach', 'v1.0.0');
    expect(gitFacts(dir)).toMatchObject({
      ref: 'refs/tags/v1.0.0',
      ref_name: 'v1.0.0',
      ref_type: 'tag',
      repository: '',
    });
    const outside = tempDir('baton-nogit-');
    expect(gitFacts(outside)).toMatchObject({ sha: '', ref: '', ref_name: '', ref_type: '', repository: '' });
  });
});
