// The runner config's `isolation` key: host by default, sandbox when set, anything else refused by name.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { loadRunnerConfig, writeRunnerConfig, type RunnerConfigFile } from './config.ts';

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
      `${path}: "isolation" must be one of host, sandbox, got "vm"`,
    );
  });
});
