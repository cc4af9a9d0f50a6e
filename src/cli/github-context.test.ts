import { describe, expect, it } from 'vitest';
import { repositoryOf, workflowTriggers } from './github-context.ts';

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
});
