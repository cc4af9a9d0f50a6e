import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { loadRunnerConfig } from './config.ts';

function configWith(limits: unknown): string {
  const path = join(tempDir(), 'runner.json');
  writeFileSync(
    path,
    JSON.stringify({ server: 'http://x', runner_id: 'r', name: 'n', token: 't', labels: [], limits }),
  );
  return path;
}

describe('runner config "limits"', () => {
  it('reads memory, pids and cpu', () => {
    expect(loadRunnerConfig(configWith({ memory: '512M', pids: 256, cpu: 1.5 })).limits).toEqual({
      memoryBytes: 512 * 1024 * 1024,
      pids: 256,
      cpu: 1.5,
    });
    expect(loadRunnerConfig(configWith(undefined)).limits).toBeUndefined();
  });

  it('refuses a bad value or an unknown key, naming the file, the key and the value', () => {
    const path = configWith({ memory: '12Q' });
    expect(() => loadRunnerConfig(path)).toThrow(`${path}:1:73: "limits.memory": "12Q" is not a memory size`);
    expect(() => loadRunnerConfig(configWith({ memroy: '1G' }))).toThrow(
      '"limits" has unknown key(s) "memroy"; it takes memory, pids and cpu',
    );
    expect(() => loadRunnerConfig(configWith('1G'))).toThrow('"limits" must be an object');
  });
});
