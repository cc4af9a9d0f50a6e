// The served /openapi.json passes `redocly lint` (redocly.yaml) with no problem at all, and documents every route.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { tempDir } from '../helpers/temp.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const REDOCLY = join(ROOT, 'node_modules/.bin/redocly');

interface Problem {
  ruleId: string;
  severity: string;
  message: string;
  location: Array<{ pointer: string }>;
}

describe('/openapi.json', () => {
  it('gives every route an operationId, a summary and its error answers, and redocly lint finds nothing', async () => {
    const t = await createTestApp();
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { paths: Record<string, Record<string, Record<string, unknown>>> };
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item)) {
        documented.add(`${method.toUpperCase()} ${path}`);
        expect(op.operationId, `${method} ${path}`).toEqual(expect.any(String));
        expect(op.summary, `${method} ${path}`).toEqual(expect.any(String));
        const codes = Object.keys(op.responses as object).map(Number);
        expect(
          codes.some((c) => c >= 400 && c < 500),
          `${method} ${path} has 4xx answers`,
        ).toBe(true);
      }
    // Every API route is in the document (the UI's static files are hidden on purpose).
    for (const r of t.routes) {
      if (!r.url.startsWith('/api/') && !['/healthz', '/readyz', '/openapi.json'].includes(r.url)) continue;
      expect(documented, r.url).toContain(`${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    }

    const file = join(tempDir(), 'openapi.json');
    writeFileSync(file, res.body);
    const out = join(tempDir(), 'lint.json');
    // Exit code 1 means errors; the JSON report says which, and the assertion shows them.
    await promisify(execFile)(
      REDOCLY,
      ['lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format', 'json', '--max-problems', '1000'],
      {
        cwd: ROOT,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        maxBuffer: 64 << 20,
      },
    ).then(
      (r) => writeFileSync(out, r.stdout),
      (err: { stdout?: string }) => writeFileSync(out, err.stdout ?? ''),
    );
    const report = JSON.parse(readFileSync(out, 'utf8')) as { problems: Problem[] };
    const problems = report.problems.map(
      (p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer ?? '?'}: ${p.message}`,
    );
    expect(problems).toEqual([]);
  });
});
