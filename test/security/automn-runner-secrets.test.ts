// `baton runner serve` never hands its own credentials to a script (upstream leaks its secret and reset token
// into every script's environment) and runs each script in a fresh work dir, not the runner's cwd.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { frames, PLACEHOLDERS, startServeRunner } from '../helpers/automn-runner.ts';

const SECRET = PLACEHOLDERS['{{RUNNER_SECRET}}']!;
const TOKEN = PLACEHOLDERS['{{RESET_TOKEN}}']!;

async function run(url: string, code: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/api/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-automn-runner-secret': SECRET },
    body: JSON.stringify({ script: { language: 'shell', code } }),
  });
  return frames(await res.text()).at(-1)!.data!;
}

it('the secret, the reset token and every BATON_*/AUTOMN_* setting stay out of the script and /status', async () => {
  const r = await startServeRunner({
    AUTOMN_RUNNER_SECRET: SECRET,
    AUTOMN_RUNNER_RESET_TOKEN: TOKEN,
    BATON_SERVE_STATUS_MESSAGE: 'serve-status',
    OTHER_COPY_OF_SECRET: SECRET,
  });
  // The script looks for the values itself and prints only the names of variables holding them, so the
  // runner's masking cannot hide a leak from the test. The values are split so the code does not hold them.
  const half = (v: string) => [v.slice(0, 6), v.slice(6)];
  const [s1, s2] = half(SECRET);
  const [t1, t2] = half(TOKEN);
  const result = await run(
    r.url,
    [
      `for v in "${s1}""${s2}" "${t1}""${t2}"; do env | grep -F -- "$v" | cut -d= -f1 | sed 's/^/LEAK:/'; done`,
      `env | grep -E '^(AUTOMN_RUNNER_|BATON_SERVE_)' | cut -d= -f1 | sed 's/^/LEAK:/'`,
      'echo "run=${AUTOMN_RUN_ID:+set}"',
      'pwd',
    ].join('\n'),
  );
  const lines = String(result.stdout).split('\n');
  expect(lines.filter((l) => l.startsWith('LEAK:'))).toEqual([]);
  expect(lines).toContain('run=set');
  const cwd = lines.at(-1);
  // A fresh work dir per run, never the runner's own working directory.
  expect(cwd).not.toBe(r.dataDir);
  const again = await run(r.url, 'pwd');
  expect(again.stdout).not.toBe(cwd);
  // Printing the secret some other way is masked in the result.
  const printed = await run(r.url, `echo ${SECRET}`);
  expect(printed.stdout).not.toContain(SECRET);
  const status = await (await fetch(`${r.url}/status`)).text();
  expect(status).not.toContain(SECRET);
  expect(status).not.toContain(TOKEN);
});

it('a secret typed into the form stays out of reach: runner-state.json is hidden from scripts', async () => {
  const r = await startServeRunner({}, { stepVisible: true });
  const typed = 'typed-secret-0123456789';
  const form = await fetch(`${r.url}/ui/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ secret: typed }).toString(),
  });
  expect(form.status).toBe(200);
  const stateFile = join(r.dataDir, 'data', 'state', 'runner-state.json');
  expect(readFileSync(stateFile, 'utf8')).toContain(typed);
  const res = await fetch(`${r.url}/api/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-automn-runner-secret': typed },
    body: JSON.stringify({
      script: {
        language: 'shell',
        code: `if grep -rqF -- "${typed.slice(0, 6)}""${typed.slice(6)}" ${r.dataDir} 2>/dev/null; then echo LEAK; else echo hidden; fi`,
      },
    }),
  });
  const result = frames(await res.text()).at(-1)!.data!;
  expect(result.stdout).toBe('hidden');
});
