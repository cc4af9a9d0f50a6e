// The runner config's `isolation` and `network` keys: defaults, the values they take, anything else refused by name.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { loadRunnerConfig, networkProblem, writeRunnerConfig, type RunnerConfigFile } from './config.ts';

function configWith(extra: Record<string, unknown>): string {
  const path = join(tempDir(), 'runner.json');
  const file: RunnerConfigFile = {
    server: 'http://127.0.0.1:1',
    runner_id: 'r1',
    name: 'box',
    token: 'baton_r_x',
    labels: [],
    max_parallel_tasks: 1,
    work_dir: '_work',
  };
  writeRunnerConfig(path, { ...file, ...extra } as RunnerConfigFile);
  return path;
}

describe('runner config isolation', () => {
  it('is host unless the config says sandbox', () => {
    expect(loadRunnerConfig(configWith({})).isolation).toBe('host');
    expect(loadRunnerConfig(configWith({ isolation: 'sandbox' })).isolation).toBe('sandbox');
  });

  it('refuses another value, naming the key, the value and the choices', () => {
    const path = configWith({ isolation: 'vm' });
    expect(() => loadRunnerConfig(path)).toThrow(
      `${path}:9:3: "isolation" must be one of host, sandbox, got "vm"`,
    );
  });
});

describe('runner config network', () => {
  it('is host unless the config says none', () => {
    expect(loadRunnerConfig(configWith({})).network).toBe('host');
    expect(loadRunnerConfig(configWith({ isolation: 'sandbox', network: 'none' })).network).toBe('none');
  });

  it('refuses another value, naming the key, the value and the choices', () => {
    const path = configWith({ network: 'off' });
    expect(() => loadRunnerConfig(path)).toThrow(
      `${path}:9:3: "network" must be one of host, none, got "off"`,
    );
  });

  it('none needs a sandbox that can cut the network, and says so', () => {
    expect(networkProblem('none', 'host', false)).toMatch(/needs isolation 'sandbox'/);
    expect(networkProblem('none', 'sandbox', false)).toMatch(/--unshare-net/);
    expect(networkProblem('none', 'sandbox', true)).toBeUndefined();
    expect(networkProblem('host', 'host', false)).toBeUndefined();
  });
});
