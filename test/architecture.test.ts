// The import direction of DESIGN.md, checked on every source file: a module imports only those listed for it.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(new URL('../src', import.meta.url).pathname);

const ALLOWED: Record<string, string[]> = {
  protocol: [],
  workflow: ['protocol'],
  engine: ['protocol', 'workflow'],
  store: ['protocol'],
  client: ['protocol'],
  server: ['protocol', 'workflow', 'store'],
  runner: ['protocol', 'workflow', 'engine', 'client'],
  cli: ['protocol', 'workflow', 'engine', 'store', 'client', 'server', 'runner'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

function moduleOf(file: string): string {
  return relative(SRC, file).split('/')[0] ?? '';
}

describe('architecture', () => {
  it('every module imports only the modules DESIGN.md allows it', () => {
    const violations: string[] = [];
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      if (file.endsWith('.test.ts')) continue;
      const from = moduleOf(file);
      expect(Object.keys(ALLOWED), `unknown module folder src/${from}`).toContain(from);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.[^'"]+)['"]/g)) {
        const target = resolve(dirname(file), m[1]!);
        if (!target.startsWith(SRC)) {
          violations.push(`${relative(SRC, file)} imports ${m[1]} outside src/`);
          continue;
        }
        const to = moduleOf(target);
        if (to !== from && !ALLOWED[from]!.includes(to))
          violations.push(`${relative(SRC, file)} (${from}) imports ${to}: ${m[1]}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('no module reads process.env at import time', () => {
    const offenders = sourceFiles(SRC)
      .filter((f) => !f.endsWith('.test.ts'))
      .filter((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .some((line) => /^(export\s+)?(const|let)\s.*process\.env/.test(line)),
      );
    expect(offenders.map((f) => relative(SRC, f))).toEqual([]);
  });

  it('engine/ does no network: no fetch, no http/https/net/tls/dgram/dns/http2 module, no WebSocket', () => {
    // DESIGN.md: the engine runs one task on this machine. What reaches out (a Vault, the server) is the
    // runner's, handed to the engine through EngineOptions (secretSources, cache, fetchArtifact).
    const NETWORK = [
      /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](?:node:)?(?:http|https|http2|net|tls|dgram|dns|undici)(?:\/[^'"]*)?['"]/,
      /(?<![\w$.])fetch\s*\(/,
      /\bglobalThis\s*\.\s*fetch\b/,
      /\bnew\s+(?:WebSocket|XMLHttpRequest|EventSource)\b/,
    ];
    const offenders = sourceFiles(join(SRC, 'engine'))
      .filter((f) => !f.endsWith('.test.ts'))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .flatMap((line, i) => {
            // A comment, or a method of that name being defined (SecretSource.fetch), is no call.
            if (/^\s*(?:\/\/|\*|\/\*)|^\s*(?:async\s+)?fetch\s*\(.*\)\s*(?::.*)?[{;]\s*$/.test(line))
              return [];
            return NETWORK.some((re) => re.test(line))
              ? [`${relative(SRC, f)}:${i + 1}: ${line.trim()}`]
              : [];
          }),
      );
    expect(offenders).toEqual([]);
  });

  it("a runner's process loads no server, database, schema or YAML code (issue 8: it idles under 80 MiB)", () => {
    // The CLI as `baton runner start` loads it, plus the runner and engine modules it runs tasks with.
    const probe = `
      import module from 'node:module';
      const loaded = new Set();
      module.registerHooks({ resolve(s, c, next) { const r = next(s, c); loaded.add(r.url); return r; } });
      process.argv = [process.argv[0], 'baton', '--version'];
      await import(${JSON.stringify(join(SRC, 'cli/main.ts'))});
      await import(${JSON.stringify(join(SRC, 'runner/index.ts'))});
      const packages = [...loaded].filter((u) => u.includes('/node_modules/'))
        .map((u) => u.split('/node_modules/').at(-1).split('/').slice(0, 2).join('/'));
      process.stderr.write(JSON.stringify([...new Set(packages)]));
    `;
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    const packages = JSON.parse(res.stderr) as string[];
    expect(packages.length).toBeGreaterThan(0);
    const heavy = packages.filter((p) =>
      /^(fastify|@fastify\/|kysely|better-sqlite3|pg\/|@sinclair\/typebox|yaml\/|libsodium)/.test(p),
    );
    expect(heavy).toEqual([]);
  });
});
