// The host hanging up in the middle of a push run (`baton runner serve`) cancels the run: the script's whole
// process tree, a background grandchild included, is gone within 10 s (upstream keeps it running).
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { frames, PLACEHOLDERS, startServeRunner } from '../helpers/automn-runner.ts';
import { processesWithArg } from '../helpers/processes.ts';

const SECRET = PLACEHOLDERS['{{RUNNER_SECRET}}']!;

async function until(check: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

it('a host disconnect mid-run kills the script and its grandchildren', async () => {
  const r = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET });
  const marker = `automn-disconnect-${randomUUID()}`;
  const abort = new AbortController();
  const res = await fetch(`${r.url}/api/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-automn-runner-secret': SECRET },
    body: JSON.stringify({
      script: {
        language: 'shell',
        timeout: 600,
        code: `(exec -a ${marker} sleep 600) &\necho started\nexec -a ${marker}-main sleep 600`,
      },
    }),
    signal: abort.signal,
  });
  expect(res.status).toBe(200);
  await until(() => processesWithArg(marker).length >= 2, 'the script and its grandchild run', 20_000);
  abort.abort();
  await until(() => processesWithArg(marker).length === 0, 'the process tree is gone', 10_000);
  // The runner is still serving after the cancelled run.
  expect((await fetch(`${r.url}/status`)).status).toBe(200);
});

it('a killed `baton runner serve` takes its running scripts with it (the dead-man switch sees it gone)', async () => {
  const r = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET });
  const marker = `automn-runner-killed-${randomUUID()}`;
  const res = await fetch(`${r.url}/api/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-automn-runner-secret': SECRET },
    body: JSON.stringify({
      script: {
        language: 'shell',
        timeout: 600,
        code: `(exec -a ${marker} sleep 600) &\nexec -a ${marker}-main sleep 600`,
      },
    }),
  });
  expect(res.status).toBe(200);
  // The response stays open (unread): closing it would cancel the run as a host disconnect.
  await until(() => processesWithArg(marker).length >= 2, 'the script and its grandchild run', 20_000);
  r.proc.child.kill('SIGKILL');
  await r.proc.exited;
  await until(() => processesWithArg(marker).length === 0, 'the process tree is gone', 10_000);
});

it('stopping `baton runner serve` (SIGTERM) cancels its runs: each ends with its result, the tree is gone', async () => {
  const r = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET });
  const marker = `automn-runner-stopped-${randomUUID()}`;
  const res = await fetch(`${r.url}/api/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-automn-runner-secret': SECRET },
    body: JSON.stringify({
      script: {
        language: 'shell',
        timeout: 600,
        code: `(exec -a ${marker} sleep 600) &\nexec -a ${marker}-main sleep 600`,
      },
    }),
  });
  expect(res.status).toBe(200);
  await until(() => processesWithArg(marker).length >= 2, 'the script and its grandchild run', 20_000);
  r.proc.child.kill('SIGTERM');
  const last = frames(await res.text()).at(-1)!;
  expect(last.type).toBe('result');
  expect([last.data!.code, last.data!.stderr]).toEqual([1, '\nRun cancelled.']);
  await until(() => processesWithArg(marker).length === 0, 'the process tree is gone', 10_000);
  expect(await r.proc.exited).toEqual({ code: 0, signal: null });
});
