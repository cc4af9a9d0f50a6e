// Cached task results (issue 16) through real server and runner processes: a second run's cached task does not
// execute (its file gets no second line), the API, the log and the CLI say `cached` with the key and age; a
// changed imported value, another workflow or another explicit key miss; a short ttl expires; `cache clear`
// removes entries; `baton run` with a kept data dir prints the second run's task as cached.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  startRunnerProcess,
  startServerProcess,
  waitFor,
  waitForRun,
  type ServerProcess,
} from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { stepVisibleDir } from '../helpers/temp.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

async function baton(
  server: ServerProcess,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = startTracked(`baton ${args.join(' ')}`, process.execPath, [
    BIN,
    ...args,
    '--server',
    server.url,
    '--token',
    server.adminToken,
  ]);
  let stdout = '';
  let stderr = '';
  proc.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const { code } = await proc.exited;
  return { code, stdout, stderr };
}

/** `work` appends a line to `count` each time it really runs and exports what it was given. */
function workflow(name: string, count: string, cache: string): string {
  return `name: ${name}
inputs:
  v: '1'
tasks:
  produce:
    run: echo "val=\${{ inputs.v }}" >> "$BATON_OUTPUT"
    exports: [val]
  work:
    depends_on: [produce]
    imports: [{ from: produce, variable: val, as: VAL }]
    run: |
      echo ran >> ${count}
      echo "out=got-$VAL" >> "$BATON_OUTPUT"
    exports: [{ name: out, scope: global }]
    cache: ${cache}
`;
}

function lines(path: string): number {
  return existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '').length
    : 0;
}

async function runOnce(server: ServerProcess, text: string, inputs: Record<string, string> = {}) {
  const run = await server.client.submitRun(text, { inputs });
  const result = await waitForRun(server.client, run.id);
  expect(result.status).toBe('succeeded');
  return result;
}

describe('cached task results through a server and a runner', () => {
  it('a second run does not execute the cached task; another input, workflow or key misses; CLI and log say cached', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'cache-runner');
    const dir = stepVisibleDir();
    const count = join(dir, 'count');
    const text = workflow('cache-demo', count, '{ ttl: 1h }');

    const first = await runOnce(server, text);
    expect(first.results.work).toMatchObject({ outputs: { out: 'got-1' } });
    expect(first.results.work?.cached).toBeUndefined();
    expect(first.results.work?.cacheKey).toMatch(/^sha256:[0-9a-f]{64}$/);
    const key = first.results.work!.cacheKey!;

    const second = await runOnce(server, text);
    expect(lines(count)).toBe(1);
    expect(second.results.work).toMatchObject({ cached: true, cacheKey: key, outputs: { out: 'got-1' } });
    expect(second.results.work?.cacheAgeMs).toBeGreaterThanOrEqual(0);
    expect(second.outputs).toEqual({ out: 'got-1' });
    const log = await server.client.taskLog(second.id, 'work');
    expect(log).toContain(`cache hit: key ${key}, age `);

    const shown = await baton(server, ['runs', 'show', second.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`work.*cached \\(key ${key}, age `));

    // A changed imported value is another key: the task runs.
    const changed = await runOnce(server, text, { v: '2' });
    expect(lines(count)).toBe(2);
    expect(changed.results.work).toMatchObject({ outputs: { out: 'got-2' } });
    expect(changed.results.work?.cached).toBeUndefined();
    expect(changed.results.work?.cacheKey).not.toBe(key);

    // The same task in another workflow: entries are scoped to the workflow's name.
    await runOnce(server, workflow('cache-demo-other', count, '{ ttl: 1h }'));
    expect(lines(count)).toBe(3);

    // An explicit key replaces the derived one: a changed input with the same key is a hit.
    const keyed = workflow('cache-keyed', count, "{ key: 'release-${{ run.name }}', ttl: 1h }");
    await runOnce(server, keyed);
    expect(lines(count)).toBe(4);
    const hit = await runOnce(server, keyed, { v: '9' });
    expect(lines(count)).toBe(4);
    expect(hit.results.work).toMatchObject({
      cached: true,
      cacheKey: 'release-cache-keyed',
      outputs: { out: 'got-1' },
    });

    const listed = await baton(server, ['cache', 'list', '--json']);
    expect(listed.code).toBe(0);
    const entries = (JSON.parse(listed.stdout) as { entries: Array<{ workflow: string; key: string }> })
      .entries;
    expect(entries.map((e) => `${e.workflow} ${e.key}`).sort()).toEqual(
      [
        `cache-demo ${key}`,
        `cache-demo ${changed.results.work!.cacheKey!}`,
        'cache-demo-other ' + key,
        'cache-keyed release-cache-keyed',
      ].sort(),
    );
    const human = await baton(server, ['cache', 'list', '--workflow', 'cache-keyed']);
    expect(human.stdout).toContain('release-cache-keyed');
    expect(human.stdout).not.toContain(key);

    // `cache clear --workflow --key` removes exactly that entry: the next run executes again.
    const cleared = await baton(server, [
      'cache',
      'clear',
      '--workflow',
      'cache-keyed',
      '--key',
      'release-cache-keyed',
    ]);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toContain('removed 1 cache entry');
    await runOnce(server, keyed);
    expect(lines(count)).toBe(5);
    const all = await baton(server, ['cache', 'clear']);
    expect(all.stdout).toContain('removed 4 cache entries');
    await runOnce(server, text);
    expect(lines(count)).toBe(6);
  });

  it('an entry past its ttl is a miss: the task runs again', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'cache-expiry');
    const dir = stepVisibleDir();
    const count = join(dir, 'count');
    const text = workflow('cache-expiry', count, '{ ttl: 1s }');
    await runOnce(server, text);
    expect(lines(count)).toBe(1);
    // Wait for the outcome (the server no longer lists the entry), not for a time.
    await waitFor(
      async () => (await server.client.listCache({ workflow: 'cache-expiry' })).entries.length === 0,
      'the cache entry to expire',
    );
    const again = await runOnce(server, text);
    expect(lines(count)).toBe(2);
    expect(again.results.work?.cached).toBeUndefined();
  });

  it('baton run with a kept data dir: the second run prints the task as cached and does not execute it', async () => {
    const dir = stepVisibleDir();
    const count = join(dir, 'count');
    const file = join(dir, 'wf.yml');
    writeFileSync(file, workflow('cache-local', count, '{ ttl: 1h }'));
    const args = ['run', file, '--data-dir', join(dir, 'data')];
    const first = await local(args);
    expect(first.code).toBe(0);
    expect(first.stdout).not.toContain('cached (key');
    const second = await local(args);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/work\s.*succeeded.*cached \(key sha256:[0-9a-f]{64}, age /);
    expect(lines(count)).toBe(1);
  });
});

async function local(args: string[]): Promise<{ code: number | null; stdout: string }> {
  const proc = startTracked(`baton ${args[0]}`, process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stdout = '';
  proc.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.child.stderr?.on('data', (d: Buffer) => (stdout += d.toString()));
  const { code } = await proc.exited;
  return { code, stdout };
}
