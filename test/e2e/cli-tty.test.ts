// Issue 19, "Progress and interruption", in a real pseudo-terminal (tmux): `baton run` shows a live timer on a
// running task, Ctrl-C cancels it (SIGTERM to its steps, the grace said, what was cancelled printed) and exits;
// `submit --follow` interrupted says the run keeps going and how to cancel it. Piped output has no redraws.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServerProcess, waitFor, waitForRun } from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';
import { inTerminal } from '../helpers/terminal.ts';

const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

/** A step that sleeps for `marker` seconds (a number no other process uses), so the test can find it. */
function slowWorkflow(marker: string): string {
  return `name: slow
tasks:
  slow:
    run: |
      echo "slow started"
      sleep ${marker}
`;
}

/** The same in a task of two steps: a quick one, then `wait`, which is reported (timer at 0.5 s) before it prints. */
function steppedWorkflow(marker: string): string {
  return `name: slow
tasks:
  slow:
    steps:
      - name: prepare
        run: echo prepared
      - name: wait
        run: |
          sleep 1
          echo "slow started"
          sleep ${marker}
`;
}

const uniqueSeconds = () => `300.${process.pid}${Date.now() % 100000}`;

const sleeping = (marker: string) => {
  try {
    return execFileSync('pgrep', ['-f', `sleep ${marker}`], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
};

describe('baton run in a terminal', () => {
  it(
    'a live timer runs while the task does; Ctrl-C cancels it, says what it cancelled, and exits',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      const marker = uniqueSeconds();
      writeFileSync(join(dir, 'slow.yml'), steppedWorkflow(marker));
      const t = inTerminal(
        `'${process.execPath}' '${BIN}' run slow.yml; echo "RUN-EXIT=$?"; sleep 600`,
        { ...process.env, NO_COLOR: '1' },
        dir,
      );
      await t.waitFor(/slow started/, 'the step to start');
      // The timer line redraws in place: two different elapsed times are seen on it.
      const first = (await t.waitFor(/⠋|⠙|⠹|⠸|⠼|⠴|⠦|⠧|⠇|⠏/, 'the live line')).match(
        /running: slow (\S+)/,
      )?.[1];
      await t.waitFor(
        new RegExp(`running: slow (?!${first?.replace('.', '\\.') ?? ''}\\b)\\S+`),
        'the timer to move on',
      );
      // The running step is timed on the live line too, and its log line is indented under its header.
      const withStep = await t.waitFor(/running: slow \S+ › wait \S+/, 'the step timer');
      expect(withStep).toMatch(/slow +\| ● wait\n(.*\n)*slow +\| {3}slow started/);
      expect(sleeping(marker)).toBe(true);
      const pressed = performance.now();
      t.keys('C-c');
      const screen = await t.waitFor(/RUN-EXIT=\d+/, 'baton run to exit after Ctrl-C');
      const exitedAfterMs = Math.round(performance.now() - pressed);
      // Reported for the closing note, not asserted (tests never assert timings).
      console.log(`baton run: Ctrl-C to exit in ${exitedAfterMs} ms (including tmux polling)`);
      expect(screen).toContain(
        'baton: cancelling the run: SIGTERM to the running steps, which have 10 s to exit',
      );
      expect(screen).toMatch(/⊘ slow cancelled/);
      expect(screen).toContain('RUN-EXIT=1');
      // The live line stays where Ctrl-C was pressed (as a record of it) and is not drawn again after.
      expect(screen.slice(screen.indexOf('^C'))).not.toContain('running: slow');
      expect(sleeping(marker)).toBe(false);
    },
  );

  it(
    'submit --follow interrupted leaves the run going and says how to cancel it',
    { timeout: 120_000 },
    async () => {
      const server = await startServerProcess();
      const dir = tempDir();
      const marker = uniqueSeconds();
      writeFileSync(join(dir, 'slow.yml'), slowWorkflow(marker));
      const t = inTerminal(
        `'${process.execPath}' '${BIN}' submit --follow slow.yml; echo "SUBMIT-EXIT=$?"; sleep 600`,
        { ...process.env, BATON_SERVER: server.url, BATON_TOKEN: server.adminToken },
        dir,
      );
      // No runner: the follower says why the task waits instead of waiting silently.
      await t.waitFor(/slow is waiting: no runner is registered/, 'the pending hint');
      t.keys('C-c');
      const screen = await t.waitFor(/SUBMIT-EXIT=\d+/, 'submit to stop following');
      expect(screen).toContain('SUBMIT-EXIT=130');
      const id = /run (\S+) keeps going on the server \(cancel it with: baton runs cancel \1\)/.exec(
        screen.replace(/\n/g, ''),
      )?.[1];
      expect(id, screen).toBeDefined();
      const run = await server.client.getRun(id!);
      expect(run.status).toBe('queued');
      await server.client.cancelRun(id!);
      expect((await waitForRun(server.client, id!)).status).toBe('cancelled');
    },
  );

  it('piped, baton run prints plain lines: no redraws or colours', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'quick.yml'), 'tasks:\n  quick:\n    run: sleep 1; echo done\n');
    const p = startTracked('baton run', process.execPath, [BIN, 'run', 'quick.yml'], { cwd: dir });
    let stdout = '';
    p.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    expect((await p.exited).code).toBe(0);
    expect(stdout).toContain('quick    | done');
    expect(stdout).not.toContain('\u001b');
    expect(stdout).not.toContain('\r');
  });

  it(
    "a GitHub workflow's groups show as a folded header with indented lines in the terminal",
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      writeFileSync(
        join(dir, 'groups.yml'),
        `on: push
jobs:
  build:
    steps:
      - run: |
          echo "::group::Install deps"
          echo "inside-the-group"
          echo "::endgroup::"
          echo "after-the-group"
`,
      );
      const t = inTerminal(
        `'${process.execPath}' '${BIN}' run groups.yml; echo "RUN-EXIT=$?"; sleep 600`,
        process.env,
        dir,
      );
      const screen = await t.waitFor(/RUN-EXIT=\d+/, 'baton run to end');
      expect(screen).toContain('RUN-EXIT=0');
      expect(screen).toMatch(
        /build +\|( *)▸ Install deps\n.*build +\|\1 {2}inside-the-group\n.*build +\|\1after-the-group/,
      );
      expect(screen).not.toContain('::group::');
      expect(screen).not.toContain('##[group]');
    },
  );

  it(
    'runs logs --follow on a task no runner can take says why after a few seconds',
    { timeout: 120_000 },
    async () => {
      const server = await startServerProcess();
      const run = await server.client.submitRun('name: lonely\ntasks:\n  t:\n    run: echo hi\n');
      const p = startTracked(
        'baton runs logs',
        process.execPath,
        [BIN, 'runs', 'logs', run.id, 't', '--follow'],
        {
          env: { ...process.env, BATON_SERVER: server.url, BATON_TOKEN: server.adminToken },
        },
      );
      let stderr = '';
      p.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      await waitFor(
        () => stderr.includes('t is waiting: no runner is registered'),
        'the pending hint',
        60_000,
      );
      p.child.kill('SIGTERM');
      await p.exited;
    },
  );
});
