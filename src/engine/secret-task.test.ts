// The `secret` task type as the engine runs it, with sources handed in through EngineOptions.secretSources (the
// engine has none of its own: it does no network). In-memory sources here; the runner's real ones (Vault over
// HTTP, Baton's store) are tested in runner/secret-sources/.
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { SecretSourceError } from './secret-task.ts';
import { makeTask, runCollected } from './test-support.ts';
import type { SecretFetchContext, SecretSource } from './types.ts';

const VALUE = 'pw-memory-5c2e91d04b';

function memorySource(seen: Array<Record<string, unknown>> = []): SecretSource {
  return {
    name: 'memory',
    fetch(spec) {
      seen.push(spec);
      if (spec.path !== 'db')
        return Promise.reject(new SecretSourceError(`no secret at '${String(spec.path)}'`));
      return Promise.resolve({ password: VALUE, user: 'app-user' });
    },
  };
}

function run(driverSpec: Record<string, unknown>, o: { sources?: SecretSource[]; timeoutMs?: number } = {}) {
  const task = makeTask([], {
    type: 'secret',
    driverSpec,
    ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
  });
  return runCollected(task, {
    workRoot: tempDir(),
    secrets: { TOKEN: 'tok-1234567890' },
    runnerName: 'edge',
    ...(o.sources === undefined ? {} : { secretSources: new Map(o.sources.map((s) => [s.name, s])) }),
  });
}

describe('secret task with the sources the runner gives', () => {
  it('fails setup_failed naming the source when the runner gives none, or not that one', async () => {
    const none = await run({ source: 'vault', address: 'http://127.0.0.1:1', path: 'db' });
    expect(none.outcome).toMatchObject({ status: 'failed', reason: 'setup_failed', outputs: {} });
    expect(none.outcome.message).toBe(
      "task 'build': the secret source 'vault' is not available on runner 'edge'; it has: none",
    );
    expect(none.system).toContain("the secret source 'vault' is not available");
    const other = await run(
      { source: 'vault', address: 'http://127.0.0.1:1', path: 'db' },
      { sources: [memorySource()] },
    );
    expect(other.outcome.message).toMatch(
      /the secret source 'vault' is not available on runner 'edge'; it has: memory$/,
    );
  });

  it('hands the source the spec with its ${{ }} evaluated and makes each key a confidential, masked output', async () => {
    const seen: Array<Record<string, unknown>> = [];
    const { outcome, system, output } = await run(
      { source: 'memory', path: 'db', auth: { token: '${{ secrets.TOKEN }}' } },
      { sources: [memorySource(seen)] },
    );
    expect(seen).toEqual([{ source: 'memory', path: 'db', auth: { token: 'tok-1234567890' } }]);
    expect(outcome).toMatchObject({ status: 'succeeded', outputs: { password: VALUE, user: 'app-user' } });
    expect([...outcome.confidential].sort()).toEqual(['password', 'user']);
    expect(system).toContain("fetched from memory: outputs 'password', 'user'");
    expect(system + output).not.toContain(VALUE);
  });

  it("reports the source's SecretSourceError as it is, and a source that hangs at the task's timeout", async () => {
    const missing = await run({ source: 'memory', path: 'nope' }, { sources: [memorySource()] });
    expect(missing.outcome).toMatchObject({ status: 'failed', reason: 'setup_failed' });
    expect(missing.outcome.message).toBe("task 'build': no secret at 'nope'");
    const hanging: SecretSource = {
      name: 'memory',
      fetch: (_spec, ctx: SecretFetchContext) =>
        new Promise((_resolve, reject) =>
          ctx.signal.addEventListener('abort', () => reject(new SecretSourceError('aborted')), {
            once: true,
          }),
        ),
    };
    const slow = await run({ source: 'memory', path: 'db' }, { sources: [hanging], timeoutMs: 300 });
    expect(slow.outcome).toMatchObject({ status: 'timed_out', reason: 'timeout' });
    expect(slow.outcome.message).toMatch(/fetching its secret from memory took longer than 300 ms/);
  });
});
