// The runner config keys Semaphore/Forge users know (token or token_file, tags, one_off, webhook) and the
// place of every mistake: unknown keys and bad values name the file, the line and the column.
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { loadRunnerConfig, topLevelKeyPlaces, writeRunnerConfig, writeTokenFile } from './config.ts';

const BASE = `{
  "server": "http://127.0.0.1:1",
  "runner_id": "r1",
  "name": "box",
`;

function write(rest: string): string {
  const path = join(tempDir(), 'runner.json');
  writeFileSync(path, BASE + rest);
  return path;
}

describe('runner config keys', () => {
  it('refuses an unknown key, naming it, the file, its line and column', () => {
    const path = write(`  "token": "t",\n  "max_paralel_tasks": 2\n}\n`);
    expect(() => loadRunnerConfig(path)).toThrow(`${path}:6:3: unknown key "max_paralel_tasks"`);
  });

  it('finds keys at the top level only, past strings holding quotes, braces and escapes', () => {
    const text = '{"a": "x\\\\\\"{,\\"b\\": 1", "n": {"b": 2, "c": [{"d": 1}]},\n  "b": 3}';
    const places = topLevelKeyPlaces(text);
    expect([...places.keys()]).toEqual(['a', 'n', 'b']);
    expect(places.get('b')).toEqual({ line: 2, column: 3 });
  });

  it('reads tags as labels, and refuses both', () => {
    expect(loadRunnerConfig(write(`  "token": "t",\n  "tags": ["gpu"]\n}`)).labels).toEqual(['gpu']);
    const path = write(`  "token": "t",\n  "labels": ["a"],\n  "tags": ["b"]\n}`);
    expect(() => loadRunnerConfig(path)).toThrow(`${path}:7:3: give "labels" or "tags"`);
  });

  it('reads the token from token_file, trimmed, and refuses a directory, a missing or empty file, and both keys', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tok'), '  baton_r_abc \n');
    const path = join(dir, 'runner.json');
    writeFileSync(path, BASE + `  "token_file": "tok"\n}`);
    const config = loadRunnerConfig(path);
    expect(config.token).toBe('baton_r_abc');
    expect(config.tokenFile).toBe(join(dir, 'tok'));

    mkdirSync(join(dir, 'adir'));
    writeFileSync(path, BASE + `  "token_file": "adir"\n}`);
    expect(() => loadRunnerConfig(path)).toThrow(
      `${path}:5:3: "token_file" ${join(dir, 'adir')} is a directory`,
    );
    writeFileSync(path, BASE + `  "token_file": "nope"\n}`);
    expect(() => loadRunnerConfig(path)).toThrow(/:5:3: "token_file" .*nope cannot be read: ENOENT/);
    writeFileSync(join(dir, 'empty'), '\n');
    writeFileSync(path, BASE + `  "token_file": "empty"\n}`);
    expect(() => loadRunnerConfig(path)).toThrow(/"token_file" .*empty is empty; register the runner/);
    writeFileSync(path, BASE + `  "token": "t",\n  "token_file": "tok"\n}`);
    expect(() => loadRunnerConfig(path)).toThrow(`${path}:6:3: give "token" or "token_file", not both`);
    writeFileSync(path, BASE + `  "labels": []\n}`);
    expect(() => loadRunnerConfig(path)).toThrow(`${path}: needs "token" or "token_file"`);
  });

  it('one_off must be a boolean', () => {
    expect(loadRunnerConfig(write(`  "token": "t",\n  "one_off": true\n}`)).oneOff).toBe(true);
    const path = write(`  "token": "t",\n  "one_off": "yes"\n}`);
    expect(() => loadRunnerConfig(path)).toThrow(`${path}:6:3: "one_off" must be true or false, got "yes"`);
  });

  it('webhook must be an http(s) URL without credentials, within 2048 characters', () => {
    expect(
      loadRunnerConfig(write(`  "token": "t",\n  "webhook": "https://hooks.example/start"\n}`)).webhook,
    ).toBe('https://hooks.example/start');
    for (const [value, message] of [
      ['ftp://x/y', 'scheme ftp:'],
      ['not a url', 'must be an http or https URL'],
      ['https://u:p@x/', 'must not carry a user name or password'],
      [`https://x/${'a'.repeat(2050)}`, 'the limit is 2048'],
    ]) {
      const path = write(`  "token": "t",\n  "webhook": ${JSON.stringify(value)}\n}`);
      expect(() => loadRunnerConfig(path)).toThrow(`${path}:6:3: "webhook" `);
      expect(() => loadRunnerConfig(path)).toThrow(message);
    }
  });

  it('writes the config and a token file with mode 0600, in a new directory of mode 0700', () => {
    const dir = join(tempDir(), 'new', 'deeper');
    const config = join(dir, 'runner.json');
    writeRunnerConfig(config, {
      server: 'http://x',
      runner_id: 'r',
      name: 'n',
      token_file: 'tok',
      labels: [],
      max_parallel_tasks: 1,
      work_dir: '_work',
    });
    const tok = join(dir, 'tok');
    writeFileSync(tok, 'old\n', { mode: 0o644 });
    chmodSync(tok, 0o644);
    writeTokenFile(tok, 'baton_r_new');
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(statSync(tok).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readFileSync(tok, 'utf8')).toBe('baton_r_new\n');
    expect(() => writeTokenFile(dir, 'x')).toThrow('is a directory');
  });
});
