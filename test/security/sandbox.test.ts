// `baton runner start --isolation sandbox` with real server and runner processes and the real bubblewrap:
// a task reaches nothing but its own work dir (not a sibling task's, not the runner's token, key or config),
// writes nowhere else, leaves no process behind, and cannot push keystrokes into a terminal (TIOCSTI).
// And a runner asked for a sandbox it cannot make refuses to start, naming the package to install.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandboxPlan } from '../../src/engine/sandbox.ts';
import { processesWith } from '../../src/engine/test-support.ts';
import { startRunnerProcess, startServerProcess, waitFor, waitForRun } from '../helpers/cluster.ts';
import { processesWithArg, startTracked } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp.ts';

const canRunBwrap = !('error' in (await sandboxPlan()));
const hasGcc = existsSync('/usr/bin/gcc');
const SCRIPT = '/usr/bin/script';
const BIN = new URL('../../bin/baton.js', import.meta.url).pathname;

/** Indents a block for a YAML `run: |` literal. */
const block = (text: string) =>
  text
    .split('\n')
    .map((l) => `          ${l}`)
    .join('\n');

describe.runIf(canRunBwrap)('sandboxed runner (bwrap)', () => {
  it("a sandboxed task cannot read a sibling task's work dir, the runner's token or key, nor write outside its work dir (bwrap)", async () => {
    const server = await startServerProcess();
    const dir = tempDir('baton-runner-sandbox-');
    await startRunnerProcess(server, 'boxed', { dir, parallel: 2, extraArgs: ['--isolation', 'sandbox'] });
    const workRoot = join(dir, '_work');
    const stateRoot = join(dir, '.baton-state');
    const config = join(dir, 'runner.json');
    const token = (JSON.parse(readFileSync(config, 'utf8')) as { token: string }).token;
    const secret = `SIB${randomBytes(16).toString('hex')}`;
    const marker = randomBytes(6).toString('hex');

    const victim = await server.client.submitRun(`
name: victim
tasks:
  victim:
    steps:
      - run: |
          printf '%s' '${secret}' > secret.txt
          touch holding
          i=0; until [ -e release ] || [ $i -ge 600 ]; do sleep 0.1; i=$((i+1)); done
`);
    const victimDir = await waitFor(
      () => {
        const d = readdirSync(workRoot).find((n) => n.startsWith('victim-') && !n.endsWith('.baton'));
        return d !== undefined && existsSync(join(workRoot, d, 'holding')) ? join(workRoot, d) : undefined;
      },
      "the victim's step to hold its secret",
      60_000,
    );

    const targets = ['/usr', '/etc', homedir(), dir, stateRoot, workRoot, '/'];
    const attack = [
      `for d in ${JSON.stringify(workRoot)}/*; do echo "dir: $d"; cat "$d/secret.txt" 2>/dev/null || true; done`,
      `cat ${JSON.stringify(victimDir)}/secret.txt 2>/dev/null || echo "sibling unreadable"`,
      `cat ${JSON.stringify(config)} 2>/dev/null || echo "config unreadable"`,
      `find ${JSON.stringify(stateRoot)} -type f -exec cat {} + 2>/dev/null || echo "state unreadable"`,
      ...targets.map(
        (t) =>
          `if touch ${JSON.stringify(join(t, `pwned-${marker}`))} 2>/dev/null; then echo "wrote ${t}"; else echo "refused ${t}"; fi`,
      ),
      `touch "pwned-here-${marker}" && echo "wrote own work dir"`,
    ].join('\n');
    const attacker = await server.client.submitRun(`
name: attacker
tasks:
  attacker:
    steps:
      - run: |
${block(attack)}
`);
    const attacked = await waitForRun(server.client, attacker.id);
    const log = await server.client.taskLog(attacker.id, 'attacker');
    writeFileSync(join(victimDir, 'release'), '');
    const victimDone = await waitForRun(server.client, victim.id);
    expect(attacked.status, log).toBe('succeeded');
    expect(victimDone.status).toBe('succeeded');

    expect(log).not.toContain(secret);
    expect(log).toContain('sibling unreadable');
    expect(log).toContain('config unreadable');
    expect(log).not.toContain(token);
    expect(log).not.toMatch(/PRIVATE|privateKey|secretKey/i);
    // The work root shows the attacker's own two dirs, never the victim's.
    expect(log).not.toContain(`dir: ${victimDir}`);
    // Nothing reached the host's files. (The runner's dir lies under /tmp in this test: a step's /tmp is its
    // own, so a write to that path lands in the task's private tmp, never in the runner's dir.)
    for (const t of targets) {
      if (!t.startsWith('/tmp/')) expect(log).toContain(`refused ${t}`);
      expect(existsSync(join(t, `pwned-${marker}`))).toBe(false);
    }
    expect(log).toContain('wrote own work dir');
  });

  it('no process of a sandboxed task survives it: nohup and setsid children are gone (bwrap)', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'boxed', { extraArgs: ['--isolation', 'sandbox'] });
    const marker = `m${randomBytes(8).toString('hex')}`;
    const run = await server.client.submitRun(`
name: leaver
tasks:
  leaver:
    steps:
      - run: |
          nohup sh -c 'sleep 600; : ${marker}-nohup' >/dev/null 2>&1 &
          setsid sh -c 'sleep 600; : ${marker}-setsid' >/dev/null 2>&1 < /dev/null &
          i=0; until [ "$(ps -eo args | grep -c '^sh -c sleep 600; : ${marker}')" -ge 2 ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i+1)); done
          echo "children: $(ps -eo args | grep -c '^sh -c sleep 600; : ${marker}')"
`);
    const done = await waitForRun(server.client, run.id);
    const log = await server.client.taskLog(run.id, 'leaver');
    expect(done.status, log).toBe('succeeded');
    // Both started (a forking sh shows twice for a moment, so at least two).
    expect(log).toMatch(/^children: [2-9]$/m);
    // A real scan of every process on the machine: none carries the marker any more.
    await waitFor(() => processesWith(marker).length === 0, 'the nohup and setsid children to be gone');
    expect(processesWith(marker)).toEqual([]);
  });

  it.runIf(hasGcc)(
    "ioctl(TIOCSTI) from a sandboxed step injects nothing into the runner's terminal (bwrap)",
    async () => {
      const server = await startServerProcess();
      // The runner runs in a real terminal (script(1) gives it a pty as its controlling terminal), where a step
      // of its session could push a command line into whatever reads that terminal (CVE-2017-5226).
      const dir = tempDir('baton-runner-tty-');
      const registered = await startRunnerProcess(server, 'boxed', { dir });
      registered.proc.child.kill('SIGTERM');
      await registered.proc.exited;
      const command = [
        process.execPath,
        BIN,
        'runner',
        'start',
        '--config',
        join(dir, 'runner.json'),
        '--isolation',
        'sandbox',
      ]
        .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
        .join(' ');
      const terminal = startTracked(
        'runner in a terminal',
        SCRIPT,
        ['-qfec', command, '/dev/null'],
        {},
        true,
      );
      let screen = '';
      terminal.child.stdout?.on('data', (d: Buffer) => (screen += d.toString()));
      await waitFor(() => /runner '.*' started/.test(screen), 'the runner in its terminal to start');
      // The runner's terminal, by path: a step that could open it could push keystrokes even without sharing
      // its session. (The runner starts each step detached, so /dev/tty is no way in either.)
      const runnerPid = processesWithArg(join(dir, 'runner.json')).find((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(`${process.execPath}\0`),
      );
      const runnerTty = runnerPid === undefined ? '' : readlinkSync(`/proc/${runnerPid}/fd/1`);
      expect(runnerTty).toMatch(/^\/dev\/pts\/\d+$/);
      const source = String.raw`
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <termios.h>
static int push(int fd, const char *where) {
  const char *cmd = "touch /tmp/tiocsti-pwned\n";
  for (const char *p = cmd; *p; p++)
    if (ioctl(fd, TIOCSTI, p) != 0) { printf("%s: refused (%s)\n", where, strerror(errno)); return 0; }
  printf("%s: INJECTED\n", where);
  return 1;
}
int main(int argc, char **argv) {
  int injected = 0;
  injected += push(0, "fd0"); injected += push(1, "fd1"); injected += push(2, "fd2");
  int tty = open("/dev/tty", O_RDWR);
  if (tty < 0) printf("/dev/tty: cannot open (%s)\n", strerror(errno));
  else injected += push(tty, "/dev/tty");
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDWR | O_NOCTTY);
    if (fd < 0) printf("%s: cannot open (%s)\n", argv[i], strerror(errno));
    else injected += push(fd, argv[i]);
  }
  printf("injected %d\n", injected);
  return 0;
}`;
      const run = await server.client.submitRun(`
name: tiocsti
tasks:
  tiocsti:
    steps:
      - run: |
          cat > tiocsti.c <<'C'
${block(source)}
          C
          gcc -o tiocsti tiocsti.c
          ./tiocsti ${JSON.stringify(runnerTty)} /dev/pts/0 /dev/pts/1
`);
      const done = await waitForRun(server.client, run.id);
      const log = await server.client.taskLog(run.id, 'tiocsti');
      expect(done.status, log).toBe('succeeded');
      expect(log).toContain('injected 0');
      expect(log).not.toContain('INJECTED');
      expect(log).toMatch(/^\/dev\/tty: cannot open/m);
      expect(log).toContain(`${runnerTty}: cannot open`);
      expect(screen).not.toContain('touch /tmp/tiocsti-pwned');
    },
  );

  it('a SIGKILLed sandboxed runner leaves no process of its task behind (bwrap)', async () => {
    const server = await startServerProcess();
    const runner = await startRunnerProcess(server, 'boxed', { extraArgs: ['--isolation', 'sandbox'] });
    const marker = `k${randomBytes(8).toString('hex')}`;
    await server.client.submitRun(`
name: orphan
tasks:
  orphan:
    steps:
      - run: |
          setsid sh -c 'sleep 600; : ${marker}-setsid' >/dev/null 2>&1 < /dev/null &
          sh -c 'sleep 600; : ${marker}-main'
`);
    await waitFor(() => processesWith(marker).length >= 2, 'the task to start its processes', 60_000);
    process.kill(runner.proc.pid, 'SIGKILL');
    await runner.proc.exited;
    await waitFor(() => processesWith(marker).length === 0, "the task's processes to die with the runner");
    expect(processesWith(marker)).toEqual([]);
  });
});

describe('sandbox isolation needs bubblewrap', () => {
  it('a runner started with --isolation sandbox where bwrap is absent refuses to start and names the package', async () => {
    const server = await startServerProcess();
    const dir = tempDir('baton-runner-nobwrap-');
    // Registered as usual; then started with BATON_BWRAP naming a binary that does not exist.
    const registered = await startRunnerProcess(server, 'nobwrap', { dir });
    registered.proc.child.kill('SIGTERM');
    await registered.proc.exited;
    const proc = startTracked(
      'runner nobwrap',
      process.execPath,
      [BIN, 'runner', 'start', '--config', join(dir, 'runner.json'), '--isolation', 'sandbox'],
      { env: { ...process.env, BATON_BWRAP: join(dir, 'no-such-bwrap') } },
      true,
    );
    let said = '';
    proc.child.stderr?.on('data', (d: Buffer) => (said += d.toString()));
    proc.child.stdout?.on('data', (d: Buffer) => (said += d.toString()));
    const exit = await proc.exited;
    expect(exit.code, said).not.toBe(0);
    expect(said).toContain("isolation 'sandbox'");
    expect(said).toContain('bubblewrap');
    expect(said).not.toMatch(/runner '.*' started/);
  });

  it('--network none (bwrap): no task gets a network, whatever it says; a host runner refuses the flag', async () => {
    const server = await startServerProcess();
    const port = new URL(server.url).port;
    const probe = `if (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; then echo reached; else echo refused; fi`;
    await startRunnerProcess(server, 'offline-box', {
      extraArgs: ['--isolation', 'sandbox', '--network', 'none'],
    });
    const run = await server.client.submitRun(`
tasks:
  quiet:
    run: ${probe}
  asks:
    network: true
    run: ${probe}
`);
    const done = await waitForRun(server.client, run.id);
    expect(done.status).toBe('succeeded');
    expect(await server.client.taskLog(run.id, 'quiet')).toBe('refused\n');
    expect(await server.client.taskLog(run.id, 'asks')).toBe('refused\n');

    const dir = tempDir('baton-runner-hostnet-');
    const registered = await startRunnerProcess(server, 'hostnet', { dir });
    registered.proc.child.kill('SIGTERM');
    await registered.proc.exited;
    const proc = startTracked(
      'runner hostnet',
      process.execPath,
      [BIN, 'runner', 'start', '--config', join(dir, 'runner.json'), '--network', 'none'],
      {},
      true,
    );
    let said = '';
    proc.child.stderr?.on('data', (d: Buffer) => (said += d.toString()));
    proc.child.stdout?.on('data', (d: Buffer) => (said += d.toString()));
    const exit = await proc.exited;
    expect(exit.code, said).not.toBe(0);
    expect(said).toContain("network 'none' needs isolation 'sandbox'");
    expect(said).not.toMatch(/runner '.*' started/);
  });

  it('a bad isolation value is refused naming the flag and the choices', async () => {
    const server = await startServerProcess();
    const dir = tempDir('baton-runner-badiso-');
    const registered = await startRunnerProcess(server, 'badiso', { dir });
    registered.proc.child.kill('SIGTERM');
    await registered.proc.exited;
    const proc = startTracked('runner badiso', process.execPath, [
      BIN,
      'runner',
      'start',
      '--config',
      join(dir, 'runner.json'),
      '--isolation',
      'vm',
    ]);
    let said = '';
    proc.child.stderr?.on('data', (d: Buffer) => (said += d.toString()));
    const exit = await proc.exited;
    expect(exit.code).not.toBe(0);
    expect(said).toContain('--isolation must be one of host, sandbox, got "vm"');
  });
});
