// The `sandbox` containment (bubblewrap) at the engine level: what a step sees and can change, the hand-over
// of its environment, network: false, and a cancel's SIGTERM reaching a step in a session of its own.
// Runs only where bwrap can start a sandbox (the real probe the runner uses); CI installs it.

import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { sandboxPlan } from './sandbox.ts';
import { makeTask, processesWith, runCollected, waitFor } from './test-support.ts';
import type { Deadman } from './types.ts';

const canRunBwrap = !('error' in (await sandboxPlan()));

async function listener(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.end('hello from the host\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

const CONNECT = (port: number) =>
  `python3 -c "import socket; s=socket.create_connection(('127.0.0.1', ${port}), timeout=5); print('got', s.recv(100).decode().strip())" 2>&1 || echo "connect failed"`;

describe.runIf(canRunBwrap)('sandbox containment (bwrap)', () => {
  it('network: false cuts a step off a listener on the host loopback; the default keeps it (bwrap)', async () => {
    const { port } = await listener();
    const workRoot = tempDir();
    const cut = await runCollected(
      makeTask([{ run: CONNECT(port) + '\nip -o link 2>/dev/null | cut -d: -f2 || cat /proc/net/dev' }], {
        network: false,
      }),
      { workRoot, containment: 'sandbox' },
    );
    expect(cut.outcome.status, cut.system).toBe('succeeded');
    expect(cut.output).toContain('connect failed');
    expect(cut.output).not.toContain('hello from the host');

    const open = await runCollected(makeTask([{ run: CONNECT(port) }]), { workRoot, containment: 'sandbox' });
    expect(open.outcome.status, open.system).toBe('succeeded');
    expect(open.output).toContain('got hello from the host');
  });

  it('shows the step its own dirs only, read-only system, private HOME and /tmp, working command files (bwrap)', async () => {
    const root = tempDir();
    const workRoot = join(root, 'work');
    mkdirSync(join(workRoot, 'other-1a2b3c4d'), { recursive: true });
    writeFileSync(join(workRoot, 'other-1a2b3c4d', 'secret.txt'), 'sibling-secret');
    writeFileSync(join(root, 'runner.json'), '{"token":"runner-token"}');
    const script = [
      `ls -A ${JSON.stringify(workRoot)} | sort | tr '\\n' ' '; echo`,
      `cat ${JSON.stringify(join(root, 'runner.json'))} 2>/dev/null || echo "no config"`,
      `touch /usr/baton-probe 2>/dev/null && echo "wrote /usr" || echo "usr read-only"`,
      `touch /etc/baton-probe 2>/dev/null && echo "wrote /etc" || echo "etc read-only"`,
      `test -e /etc/shadow && echo "shadow visible" || echo "no shadow"`,
      `echo "home=$HOME"; touch "$HOME/mine" && echo "home writable"`,
      `touch /tmp/t && echo "tmp writable"`,
      `env | grep -c '^BATON_RUNNER_SECRET' || echo "no runner settings"`,
      `echo "out=yes" >> "$BATON_OUTPUT"`,
      `echo "CARRIED=over" >> "$BATON_ENV"`,
      `rm -f "$BATON_OUTPUT" 2>/dev/null && echo "replaced output file" || echo "output file kept"`,
      `ps -e -o comm= | sort -u | tr '\\n' ' '; echo`,
    ].join('\n');
    const { outcome, output, system } = await runCollected(
      makeTask([{ run: script }, { run: 'echo "carried=$CARRIED"; ls -A "$HOME"' }], { name: 'mine' }),
      {
        workRoot,
        containment: 'sandbox',
        baseEnv: { PATH: process.env.PATH ?? '', BATON_RUNNER_SECRET_X: 'no' },
      },
    );
    expect(outcome.status, output + system).toBe('succeeded');
    expect(output).toMatch(/^mine-[0-9a-f]{8} mine-[0-9a-f]{8}\.baton $/m);
    expect(output).not.toContain('sibling-secret');
    expect(output).toContain('no config');
    expect(output).toContain('usr read-only');
    expect(output).toContain('etc read-only');
    expect(output).toContain('no shadow');
    expect(output).toMatch(/^home=\S+\/mine-[0-9a-f]{8}\.baton\/home$/m);
    expect(output).toContain('home writable');
    expect(output).toContain('tmp writable');
    expect(output).toContain('output file kept');
    expect(output).toContain('no runner settings');
    expect(outcome.outputs).toEqual({ out: 'yes' });
    expect(output).toContain('carried=over');
    expect(output).toMatch(/^mine$/m);
    // The runner's processes are not there: the step sees its own namespace only.
    expect(output).not.toMatch(/\bnode\b|vitest/);
  });

  it("a cancel's SIGTERM reaches a step that has a session of its own, and its trap runs (bwrap)", async () => {
    const workRoot = tempDir();
    const abort = new AbortController();
    let started = false;
    const run = runCollected(
      makeTask([
        {
          run: 'trap \'echo "got TERM"; exit 3\' TERM\necho started\nwhile :; do sleep 0.1; done',
        },
      ]),
      {
        workRoot,
        containment: 'sandbox',
        signal: abort.signal,
        cancelGraceMs: 20_000,
        onLog: (e) => {
          if (e.text.includes('started')) started = true;
        },
      },
    );
    await waitFor(() => started, 'the step to start');
    abort.abort();
    const { outcome, output } = await run;
    expect(outcome.status).toBe('cancelled');
    expect(output).toContain('got TERM');
    expect(outcome.steps[0]?.exitCode).toBe(3);
  });

  it('the dead-man switch kills the whole sandboxed tree when the lease is not renewed (bwrap)', async () => {
    const marker = `dm${randomBytes(6).toString('hex')}`;
    // A runner that never renews: the listener is taken and never called.
    const deadman: Deadman = { deadline: () => performance.now() + 1_000, onRenew: () => () => {} };
    const { outcome, output } = await runCollected(
      makeTask([
        {
          run: `setsid sh -c 'sleep 600; : ${marker}' >/dev/null 2>&1 < /dev/null &\nwhile :; do sleep 0.1; done`,
        },
      ]),
      { workRoot: tempDir(), containment: 'sandbox', deadman, cancelGraceMs: 60_000 },
    );
    expect(outcome.status).toBe('failed');
    expect(output).toContain('the lease was not renewed in time');
    await waitFor(() => processesWith(marker).length === 0, 'the setsid child to be gone');
  });

  it('keeps a sandboxed step alive past its first deadline while the renewals arrive (bwrap)', async () => {
    let deadline = performance.now() + 600;
    const listeners = new Set<(d: number) => void>();
    const deadman: Deadman = {
      deadline: () => deadline,
      onRenew: (l) => (listeners.add(l), () => listeners.delete(l)),
    };
    const renew = setInterval(() => {
      deadline = performance.now() + 600;
      for (const l of listeners) l(deadline);
    }, 100);
    try {
      const { outcome, output } = await runCollected(makeTask([{ run: 'sleep 2; echo done' }]), {
        workRoot: tempDir(),
        containment: 'sandbox',
        deadman,
      });
      expect(outcome.status, output).toBe('succeeded');
      expect(output).not.toContain('lease');
    } finally {
      clearInterval(renew);
    }
  });

  it('a task that asks for more isolation than the runner gives fails before any step runs', async () => {
    const workRoot = tempDir();
    const cut = await runCollected(makeTask([{ run: 'echo ran' }], { network: false }), {
      workRoot,
      containment: 'none',
    });
    expect(cut.outcome.status).toBe('failed');
    expect(cut.outcome.reason).toBe('setup_failed');
    expect(cut.outcome.message).toMatch(/network: false.*isolation is 'host'/);
    expect(cut.output).not.toContain('ran');
    const boxed = await runCollected(makeTask([{ run: 'echo ran' }], { isolation: 'sandbox' }), {
      workRoot,
      containment: 'none',
    });
    expect(boxed.outcome.message).toMatch(
      /requires isolation 'sandbox' but this runner's isolation is 'host'/,
    );
    expect(boxed.output).not.toContain('ran');
  });
});
