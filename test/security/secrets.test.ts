// A canary secret, printed every way a leaky script might print it, must appear in plain form nowhere:
// stored logs, API answers, the database file, server and runner logs, runner state files, the runner's own
// environment. Real server and runner processes; the secret reaches the runner sealed to its key.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/client/index.ts';
import { base64Needle } from '../../src/engine/masker.ts';
import { startRunnerProcess, startServerProcess, waitForRun } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/temp.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('secrets', () => {
  it('refuses a secret too short to mask, saying why', async () => {
    const server = await startServerProcess();
    const err = await server.client.setSecret('SHORT', 'abc').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toMatch(/at least 8 characters so they can be masked/);
    expect((await server.client.listSecrets()).secrets).toEqual([]);
  });

  it('a canary secret printed every which way appears in plain form nowhere', async () => {
    const server = await startServerProcess();
    const runnerDir = tempDir('baton-runner-canary-');
    const runner = await startRunnerProcess(server, 'solo', { dir: runnerDir });
    const canary = `canary-${randomBytes(12).toString('hex')}`;
    const pem = `-----BEGIN KEY-----\nline-one-${randomBytes(8).toString('hex')}\nline-two-${randomBytes(8).toString('hex')}\n-----END KEY-----`;
    await server.client.setSecret('CANARY', canary);
    await server.client.setSecret('PEM', pem);
    expect((await server.client.listSecrets()).secrets.map((s) => s.name)).toEqual(['CANARY', 'PEM']);
    const workflow = `
tasks:
  leak:
    env:
      CANARY: \${{ secrets.CANARY }}
      PEM: \${{ secrets.PEM }}
    steps:
      - name: plain
        run: |
          echo "plain: $CANARY"
          printf 'no newline at the end: %s' "$CANARY"
          echo
          for i in $(seq 1 \${#CANARY}); do printf '%s' "\${CANARY:0:$i}"; sleep 0.01; printf '%s|\\n' "\${CANARY:$i}"; done
          for p in "" a ab; do printf '%s' "$p$CANARY" | base64 -w0; echo; done
          python3 -c 'import os, urllib.parse, json; v = os.environ["CANARY"]; print(urllib.parse.quote(v)); print(json.dumps({"v": v + "\\"q"}))'
          echo "$PEM"
          env | grep -E 'CANARY|PEM' || true
          set -x
          : "$CANARY"
          set +x
          echo "out=$CANARY" >> "$BATON_OUTPUT"
      - name: direct
        run: echo "direct \${{ secrets.CANARY }}"
`;
    const run = await server.client.submitRun(workflow);
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('succeeded');
    const log = await server.client.taskLog(run.id, 'leak');
    expect(log).toContain('plain: ***');
    expect(log).toContain('direct ***');
    const forms = [
      canary,
      ...[0, 1, 2].map((o) => base64Needle(canary, o as 0 | 1 | 2)),
      ...pem.split('\n').filter((l) => l.length > 20),
    ];
    const places: Record<string, string> = {
      'stored log': log,
      'run result': JSON.stringify(result),
      'runs list': JSON.stringify(await server.client.listRuns()),
      'server output': server.output(),
      'runner output': runner.output(),
    };
    for (const f of filesUnder(server.dataDir))
      places[`server file ${f}`] = readFileSync(f).toString('latin1');
    for (const f of filesUnder(runnerDir)) places[`runner file ${f}`] = readFileSync(f).toString('latin1');
    places['runner environment'] = readFileSync(`/proc/${runner.proc.pid}/environ`).toString('latin1');
    const leaks: string[] = [];
    for (const [where, text] of Object.entries(places))
      for (const f of forms) if (text.includes(f)) leaks.push(`${where} holds ${f.slice(0, 12)}…`);
    expect(leaks).toEqual([]);
    expect(Object.keys(places).filter((p) => p.startsWith('server file')).length).toBeGreaterThan(0);
  });
});
