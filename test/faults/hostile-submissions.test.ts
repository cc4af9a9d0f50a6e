// Fault: hostile submissions (1 MiB workflows dense with mistakes) sent four at a time while a task runs on
// another runner with a short lease. Compiling must not hold the server's event loop: heartbeats keep the
// lease alive, the task succeeds on its first attempt, and every hostile submission gets a small 422.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  registerRunner,
  reportTiming,
  startFaultServer,
  startRunner,
  waitForRunEnd,
  waitForTask,
} from '../helpers/fault-cluster.ts';
import { stepVisibleDir } from '../helpers/temp.ts';

const MiB = 1024 * 1024;

/** Repeats `unit(i)` after `head` while the text stays under 1 MiB (the default workflow size limit). */
function fill(head: string, unit: (i: number) => string): string {
  const parts = [head];
  let size = head.length;
  for (let i = 0; ; i++) {
    const next = unit(i);
    if (size + next.length > MiB - 64) return parts.join('');
    parts.push(next);
    size += next.length;
  }
}

/** The costliest 1 MiB workflows found (docs/performance.md): each is refused, with many issues. */
const HOSTILE = [
  // 70,000 unknown keys in one task.
  fill('tasks:\n  a:\n    steps:\n      - run: x\n', (i) => `    k${i}: 1\n`),
  // Deep but legal nesting: 30 levels per env value, tens of thousands of values that are not strings.
  fill(
    'tasks:\n  a:\n    steps:\n      - run: x\n    env:\n',
    (i) => `      E${i}: ${'['.repeat(30)}${']'.repeat(30)}\n`,
  ),
  // The same keys again and again.
  fill('tasks:\n  a:\n    steps:\n      - run: x\n    env:\n', (i) => `      E${i % 1000}: v\n`),
  // Thousands of tasks with unknown dependencies, bad keys and unknown references.
  fill(
    'tasks:\n',
    (i) =>
      `  t${i}:\n    needs: [zz${i}]\n    stepz: 1\n    steps:\n      - run: \${{ tasks.q${i}.outputs.x }}\n        bad: 1\n`,
  ),
];

async function submitRaw(url: string, token: string, workflow: string) {
  const response = await fetch(`${url}/api/v1/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ workflow }),
  });
  const text = await response.text();
  return {
    status: response.status,
    bytes: Buffer.byteLength(text),
    body: JSON.parse(text) as { error: { code: string; issues?: unknown[] } },
  };
}

describe('hostile submissions during a running task', () => {
  it('four concurrent 1 MiB workflows dense with mistakes, three times: every one gets a small 422 and the task on a short lease succeeds on attempt 1', async () => {
    const server = await startFaultServer({ heartbeatMs: 500, leaseTtlMs: 3_000, sweepMs: 500 });
    const gates = stepVisibleDir('baton-hostile-');
    const gate = join(gates, 'release');
    await startRunner(await registerRunner(server, 'worker'));
    const run = await server.client.submitRun(`
tasks:
  work:
    run: |
      i=0
      while [ ! -f ${gate} ]; do echo "tick $i"; i=$((i+1)); sleep 0.1; done
      echo released
`);
    await waitForTask(server.client, run.id, 'work', (t) => t.status === 'running', 'to run');

    // How long the server takes to answer a cheap request while the hostile ones are compiled.
    let probing = true;
    let worstProbeMs = 0;
    const probe = (async () => {
      while (probing) {
        const started = performance.now();
        await server.client.getRun(run.id);
        worstProbeMs = Math.max(worstProbeMs, performance.now() - started);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    try {
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(
          HOSTILE.map((workflow) => submitRaw(server.url, server.adminToken, workflow)),
        );
        for (const answer of answers) {
          expect(answer.status).toBe(422);
          expect(answer.body.error.code).toBe('invalid_workflow');
          expect(answer.body.error.issues?.length).toBeGreaterThan(0);
          expect(answer.body.error.issues!.length).toBeLessThanOrEqual(101);
        }
        const still = await server.client.getRun(run.id);
        expect(still.results['work']).toMatchObject({ status: 'running', attempt: 1 });
      }
    } finally {
      probing = false;
      await probe;
    }

    writeFileSync(gate, '');
    const result = await waitForRunEnd(server.client, run.id);
    expect(result.results['work']).toMatchObject({ status: 'succeeded', attempt: 1 });
    expect(await server.client.taskLog(run.id, 'work')).toMatch(/released\n$/);
    reportTiming('four concurrent hostile submissions x3', {
      'worst API answer while compiling': worstProbeMs,
    });
    // Twelve 1 MiB compiles take ~40 s on an idle two-core machine: a generous limit for a loaded one.
  }, 300_000);
});
