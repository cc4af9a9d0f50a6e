// Issue #3's promises end to end: a real server and runner process run the Harness sample, a BountyHub job
// with uploads, and a matrix, exactly as a user would submit them.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import yauzl from 'yauzl';
import { describe, expect, it } from 'vitest';
import { startRunnerProcess, startServerProcess, waitForRun } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/temp.ts';

const example = (name: string) => readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8');

function zipEntries(path: string): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const files = new Map<string, string>();
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('no stream'));
          let text = '';
          stream.on('data', (d: Buffer) => (text += d.toString()));
          stream.on('end', () => {
            files.set(entry.fileName, text);
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(files));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('the workflow language, end to end', () => {
  it('runs the Harness sample: bar sees the confidential password foo exports, and no log or result shows it', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'solo');
    const run = await server.client.submitRun(example('harness-task-group.yml'));
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('succeeded');
    expect(result.results['foo']?.outputs).toEqual({ password: '***' });
    const fooLog = await server.client.taskLog(run.id, 'foo');
    const barLog = await server.client.taskLog(run.id, 'bar');
    expect(fooLog).toContain('fetched a secret: ***');
    expect(barLog).toContain('bar has the password: ***');
    expect(fooLog + barLog + JSON.stringify(result)).not.toMatch(/vault-[0-9a-f]{16}/);
  });

  it('runs a BountyHub job and stores its uploads as a zip holding output.txt', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'solo');
    const run = await server.client.submitRun(example('bountyhub-job.yml'));
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('succeeded');
    const { artifacts } = await server.client.listArtifacts(run.id);
    expect(artifacts).toMatchObject([{ task: 'recon', name: 'uploads' }]);
    const dest = join(tempDir(), 'a.zip');
    await server.client.downloadArtifact(run.id, artifacts[0]!.id, dest);
    const files = await zipEntries(dest);
    expect([...files.keys()]).toEqual(['output.txt']);
    expect(files.get('output.txt')).toBe('host=example.test\nports=80,443\nlines=2\n');
  });

  it("hands a task its dependency's artifact and leaves no download behind", async () => {
    const server = await startServerProcess();
    const runner = await startRunnerProcess(server, 'solo');
    const run = await server.client.submitRun(
      'tasks:\n' +
        '  make: { run: echo built > out.txt, uploads: [out.txt] }\n' +
        '  use: { depends_on: make, artifacts: { from: make }, run: cat out.txt }\n',
    );
    const result = await waitForRun(server.client, run.id);
    expect(result.status, runner.output()).toBe('succeeded');
    expect(await server.client.taskLog(run.id, 'use')).toBe('built\n');
    // The archive was fetched into the work root's .downloads/<lease>/ and removed with the task.
    expect(readdirSync(join(dirname(runner.config), '_work', '.downloads'))).toEqual([]);
  });

  it('fails a job whose upload path is missing, naming the path', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'solo');
    const run = await server.client.submitRun(
      'steps:\n  - run: echo hi > other.txt\nuploads: [report.txt]\n',
    );
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('failed');
    expect(result.results['job']?.message).toMatch(/report\.txt/);
  });

  it('expands a 3×2 matrix with one exclude and one include into exactly the expected tasks, each with its outputs', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'solo', { parallel: 2 });
    const run = await server.client.submitRun(example('matrix.yml'));
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('succeeded');
    const tests = Object.values(result.results).filter((t) => t.name.startsWith('test '));
    expect(tests.map((t) => [t.name, t.outputs.label])).toEqual([
      ['test (linux, 18)', 'linux-node18'],
      ['test (linux, 20)', 'linux-node20'],
      ['test (mac, 18)', 'mac-node18'],
      ['test (mac, 20)', 'mac-node20'],
      ['test (windows, 20)', 'windows-node20'],
      ['test (linux, 22, true)', 'linux-node22'],
    ]);
    expect(await server.client.taskLog(run.id, 'summary')).toBe('all succeeded\n');
  });
});
