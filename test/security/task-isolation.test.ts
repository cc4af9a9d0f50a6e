// Two runs of two users on one runner (max_parallel_tasks 2): the victim's task holds a secret in its
// environment, its work dir and its /tmp; the attacker's task names no secret and scans every path it can
// reach — /tmp and the other shared temp dirs, every /proc/*/environ, cmdline and fd, the runner's state dir,
// config and work root — for the victim's secret, and writes into every pipe it finds. It must find nothing
// and reach nothing, and the victim's steps must run, each of them, with what they were given.
// Real server and runner processes; the runner runs as root with namespace containment (as CI does), and
// again with --isolation sandbox (bubblewrap), where the same attack must find as little.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandboxPlan } from '../../src/engine/sandbox.ts';
import { startRunnerProcess, startServerProcess, waitFor, waitForRun } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/temp.ts';

// The scanner looks for `VSEC` + 32 hex digits, spelled so that its own script, argv and environment do not
// contain the prefix. It plants a canary of its own first, to show it finds what is there to find.
const SCANNER = String.raw`
import os, re, select, stat, sys
prefix = 'V' + 'SEC'
pat = re.compile(prefix.encode() + rb'[0-9a-f]{32}')
me = os.readlink('/proc/self/ns/pid')
found, fifos, scanned = [], [], 0
def check(where, data):
    for m in sorted(set(pat.findall(data))):
        found.append((where, m.decode()))
def read_fifo(p):
    global scanned
    fifos.append(p)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
        ready, _, _ = select.select([fd], [], [], 0.3)
        data = os.read(fd, 1 << 20) if ready else b''
        os.close(fd)
        scanned += 1
        check(p, data)
    except OSError:
        pass
    try:
        fd = os.open(p, os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, ('touch /tmp/INJECTED-' + sys.argv[1] + '\n').encode())
        os.close(fd)
    except OSError:
        pass
def read_path(p, fifo_ok=True):
    global scanned
    try:
        st = os.stat(p)
    except OSError:
        return
    if stat.S_ISFIFO(st.st_mode):
        if fifo_ok:
            read_fifo(p)
    elif stat.S_ISREG(st.st_mode):
        try:
            with open(p, 'rb') as f:
                data = f.read(8 << 20)
            scanned += 1
            check(p, data)
        except OSError:
            pass
def walk(root):
    if os.path.isfile(root):
        read_path(root)
    for d, dirs, files in os.walk(root):
        for n in files:
            read_path(os.path.join(d, n))
with open('/tmp/own-canary', 'w') as f:
    f.write(prefix + '0' * 32)
for root in ['/tmp', '/var/tmp', '/dev/shm'] + sys.argv[2:]:
    walk(root)
for pid in os.listdir('/proc'):
    if not pid.isdigit():
        continue
    for name in ('environ', 'cmdline'):
        read_path('/proc/%s/%s' % (pid, name))
    try:
        own = os.readlink('/proc/%s/ns/pid' % pid) == me
        fds = os.listdir('/proc/%s/fd' % pid)
    except OSError:
        continue
    for fd in fds:
        # Our own namespace's pipes are our own log: reading them would only eat our output.
        read_path('/proc/%s/fd/%s' % (pid, fd), fifo_ok=not own)
for where, m in found:
    print('FOUND', where, m)
for p in fifos:
    print('FIFO', p)
print('SCANNED', scanned)
`;

const canRunBwrap = !('error' in (await sandboxPlan()));

const ISOLATIONS = [
  { isolation: 'host', args: [], runs: true, title: '' },
  { isolation: 'sandbox', args: ['--isolation', 'sandbox'], runs: canRunBwrap, title: ' (bwrap)' },
];

describe.each(ISOLATIONS)('a task reaches nothing but itself: $isolation', ({ args, runs, title }) => {
  it.runIf(runs)(
    `an attacker task on the same runner finds the victim's secret nowhere and cannot touch its steps${title}`,
    async () => {
      const server = await startServerProcess();
      const dir = tempDir('baton-runner-shared-');
      const runner = await startRunnerProcess(server, 'shared', { dir, parallel: 2, extraArgs: args });
      const secret = `VSEC${randomBytes(16).toString('hex')}`;
      await server.client.setSecret('VICTIM_KEY', secret);
      const workRoot = join(dir, '_work');

      const victim = await server.client.submitRun(`
name: victim
tasks:
  victim:
    env:
      KEY: \${{ secrets.VICTIM_KEY }}
    steps:
      - name: holds
        run: |
          printf '%s' "$KEY" > secret.txt
          printf '%s' "$KEY" > /tmp/victim-secret.txt
          printf '%s' "$KEY" > "$RUNNER_TEMP/victim-secret.txt"
          touch holding
          i=0; until [ -e release ] || [ $i -ge 600 ]; do sleep 0.1; i=$((i+1)); done
      - name: second
        run: |
          echo "second step ran with a key of \${#KEY} characters"
          echo "ran=yes" >> "$BATON_OUTPUT"
`);
      // The victim holds its secret in every place before the attacker starts.
      const victimDir = await waitFor(
        () => {
          const d = readdirSync(workRoot).find((n) => n.startsWith('victim-') && !n.endsWith('.baton'));
          return d !== undefined && existsSync(join(workRoot, d, 'holding')) ? join(workRoot, d) : undefined;
        },
        "the victim's first step to hold its secret",
        60_000,
      );

      const marker = randomBytes(6).toString('hex');
      const attacker = await server.client.submitRun(`
name: attacker
tasks:
  attacker:
    steps:
      - name: scan
        run: |
          python3 - ${marker} ${JSON.stringify(dir)} ${JSON.stringify(workRoot)} ${JSON.stringify(join(dir, '.baton-state'))} ${JSON.stringify(join(dir, 'runner.json'))} <<'PY'
${SCANNER.split('\n')
  .map((l) => `          ${l}`)
  .join('\n')}
          PY
`);
      const attacked = await waitForRun(server.client, attacker.id);
      const attackLog = await server.client.taskLog(attacker.id, 'attacker');
      expect(attacked.status, attackLog).toBe('succeeded');
      writeFileSync(join(victimDir, 'release'), '');
      const victimResult = await waitForRun(server.client, victim.id);

      // The scanner worked: it found its own canary and read many files.
      expect(attackLog).toMatch(/^FOUND \/tmp\/own-canary VSEC0{32}$/m);
      expect(Number(/^SCANNED (\d+)$/m.exec(attackLog)?.[1])).toBeGreaterThan(5);
      // And found nothing else: not the secret, and no pipe of anyone else's to read or write.
      // (Its canary shows up twice: at /tmp, and through its own work dir, where its private /tmp lives.)
      const foundLines = attackLog
        .split('\n')
        .filter(
          (l) => (l.startsWith('FOUND ') && !l.endsWith(' VSEC' + '0'.repeat(32))) || l.startsWith('FIFO '),
        );
      expect(foundLines).toEqual([]);
      expect(attackLog).not.toContain(secret);
      expect(existsSync(`/tmp/INJECTED-${marker}`)).toBe(false);

      // The victim ran both its steps, with its secret, and says so honestly.
      const victimLog = await server.client.taskLog(victim.id, 'victim');
      expect(victimResult.status, victimLog).toBe('succeeded');
      expect(victimLog).toContain(`second step ran with a key of ${secret.length} characters`);
      expect(victimResult.results['victim']?.outputs).toMatchObject({ ran: 'yes' });
      expect(runner.output()).not.toContain(secret);
    },
  );
});
