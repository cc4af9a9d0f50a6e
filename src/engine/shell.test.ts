import { describe, expect, it } from 'vitest';
import { findOnPath, resolveShell, scriptExtension, SUPPORTED_SHELLS } from './shell.ts';

const PATH = process.env.PATH ?? '';

describe('shells', () => {
  it('runs bash like GitHub Actions: no profile, no rc, errexit and pipefail', () => {
    const r = resolveShell('bash', '/w/s.sh', PATH);
    expect(r.command).toBe(findOnPath('bash', PATH));
    expect(r.args).toEqual(['--noprofile', '--norc', '-eo', 'pipefail', '/w/s.sh']);
  });

  it('runs sh with -e and python through python3', () => {
    expect(resolveShell('sh', '/w/s.sh', PATH).args).toEqual(['-e', '/w/s.sh']);
    expect(resolveShell('python', '/w/s.py', PATH).command).toMatch(/python3?$/);
  });

  it('runs node scripts with the node found on PATH', () => {
    expect(resolveShell('node', '/w/s.js', PATH)).toEqual({
      command: findOnPath('node', PATH),
      args: ['/w/s.js'],
    });
  });

  it('splits a custom template into argv with {0} replaced, involving no shell', () => {
    const r = resolveShell('perl -w {0} --file={0}', '/w/a b.pl', PATH);
    expect(r).toEqual({ command: findOnPath('perl', PATH), args: ['-w', '/w/a b.pl', '--file=/w/a b.pl'] });
  });

  it('says which shell is missing when it is not installed', () => {
    expect(() => resolveShell('bash', '/w/s.sh', '/nonexistent')).toThrow(/shell 'bash' is not installed/);
    expect(() => resolveShell('no-such-interpreter {0}', '/w/s', PATH)).toThrow(
      /'no-such-interpreter' is not installed/,
    );
  });

  it('refuses an unknown shell name and lists the supported ones', () => {
    expect(() => resolveShell('fish', '/w/s', PATH)).toThrow(
      /unknown shell 'fish': use one of bash, sh, python, node, pwsh/,
    );
    expect(SUPPORTED_SHELLS).toEqual(['bash', 'sh', 'python', 'node', 'pwsh']);
  });

  it('gives each interpreter the script extension it expects', () => {
    expect(['bash', 'sh', 'python', 'node', 'pwsh', 'perl {0}'].map(scriptExtension)).toEqual([
      '.sh',
      '.sh',
      '.py',
      '.js',
      '.ps1',
      '',
    ]);
  });
});
