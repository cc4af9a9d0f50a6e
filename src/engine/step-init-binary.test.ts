// The compiled step init (init/baton-init.c, step-init-binary.ts): it is what starts a contained step, it
// leaves nothing behind, a cancel still gets its grace, no task reads another's environment, and no task can
// write the binary or its directory. And the bash chain takes over wherever the init cannot be built or trusted.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { containmentPlan } from './containment.ts';
import { buildStepInit, describeStepInit, setStepInitDir, sweepPrivateDirs } from './step-init-binary.ts';
import { makeTask, processesWith, runCollected } from './test-support.ts';

const asRoot = process.getuid?.() === 0;

/** The runner's state dir, hidden from every step as the agent hides it; the init is kept inside for the file. */
const stateRoot = mkdtempSync(join('/var/tmp', 'baton-init-test-'));
afterAll(() => rmSync(stateRoot, { recursive: true, force: true }));
const state = join(stateRoot, 'state');
const initDir = join(state, 'engine', 'init');
setStepInitDir(initDir);

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A grep pattern for `text` that the grep's own command line does not match. */
const notItself = (text: string): string => `[${text[0]}]${text.slice(1)}`;

describe.runIf(asRoot)('the compiled step init', () => {
  it('is what starts a contained step: pid 1 of its namespace, kept in the hidden state dir', async () => {
    const plan = await containmentPlan('namespace');
    expect(plan.init?.kind, plan.init?.kind === 'shell' ? plan.init.why : '').toBe('compiled');
    const path = plan.init?.kind === 'compiled' ? plan.init.path : '';
    expect(plan.prefix).toEqual([path]);
    expect(path.startsWith(`${initDir}/baton-init-`)).toBe(true);
    expect(describeStepInit(plan.init ?? { kind: 'shell', why: '' })).toBe(
      `step init: the compiled init ${path}`,
    );
    const { outcome, output } = await runCollected(
      makeTask([{ run: 'readlink /proc/1/exe; echo "self=$$"; ls -d /proc/[0-9]* | wc -l' }]),
      { workRoot: tempDir(), hide: [state] },
    );
    expect(outcome.status).toBe('succeeded');
    const [exe, self] = output.trim().split('\n');
    expect(exe).toBe(path);
    expect(self).toBe('self=2');
  });

  it('kills what a step left running when it ends: a background job and a double-forked daemon', async () => {
    const token = `baton-${randomBytes(6).toString('hex')}`;
    const run = [
      // Each says it is up from its own bash: a command line shows the token before the exec is done.
      `bash -c 'echo up > background-up; sleep 600; : ${token}-background' &`,
      // The daemon's parent exits at once: it is reparented to the init, in a session of its own.
      `( setsid bash -c 'echo up > daemon-up; sleep 600; : ${token}-daemon' & ) &`,
      'until [ -s background-up ] && [ -s daemon-up ]; do sleep 0.02; done',
      'mkfifo go',
      'echo "started $PWD"',
      'read -r _ < go',
    ].join('\n');
    let seen: number[] = [];
    const { outcome, output } = await runCollected(makeTask([{ run }]), {
      workRoot: tempDir(),
      onLog: (e) => {
        const started = /^started (.*)$/m.exec(e.text);
        if (started === null) return;
        seen = processesWith(token);
        void writeFile(join(started[1] ?? '', 'go'), 'go\n');
      },
    });
    expect(outcome.status).toBe('succeeded');
    expect(output).toMatch(/^started /);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(processesWith(token)).toEqual([]);
  });

  it('sends a cancel its SIGTERM first, and SIGKILL after the grace to a step that ignores it', async () => {
    const controller = new AbortController();
    const token = `baton-${randomBytes(6).toString('hex')}`;
    const run = [
      `bash -c 'trap "" TERM; sleep 600; : ${token}' &`,
      "trap 'echo caught TERM' TERM",
      'echo started',
      'while true; do sleep 0.05 || true; done',
    ].join('\n');
    const { outcome, output, system } = await runCollected(makeTask([{ run }]), {
      workRoot: tempDir(),
      signal: controller.signal,
      cancelGraceMs: 300,
      onLog: (e) => {
        if (e.text.includes('started')) controller.abort();
      },
    });
    expect(outcome).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
    expect(output).toContain('caught TERM');
    expect(system).toMatch(/sending SIGTERM to process group \d+/);
    expect(system).toMatch(/still running 300 ms after SIGTERM: sending SIGKILL/);
    expect(processesWith(token)).toEqual([]);
  });

  it("keeps one task's environment from another running beside it, and out of the init's own argv and environ", async () => {
    const secret = `VSEC${randomBytes(16).toString('hex')}`;
    const workRoot = tempDir();
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    let victimDir = '';
    const victim = runCollected(
      makeTask(
        [
          {
            run: 'echo "holding $PWD"; i=0; until [ -e release ] || [ $i -ge 600 ]; do sleep 0.05; i=$((i+1)); done',
            env: { KEY: secret },
          },
        ],
        { name: 'victim' },
      ),
      {
        workRoot,
        onLog: (e) => {
          const m = /^holding (.*)$/m.exec(e.text);
          if (m !== null) {
            victimDir = m[1] ?? '';
            holding();
          }
        },
      },
    );
    await held;
    // From outside: no process running the init carries the secret in its argv or environment.
    const plan = await containmentPlan('namespace');
    const path = plan.init?.kind === 'compiled' ? plan.init.path : '';
    const inits = readdirSync('/proc').filter((p) => {
      try {
        return /^\d+$/.test(p) && readlinkSync(`/proc/${p}/exe`) === path;
      } catch {
        return false;
      }
    });
    expect(inits.length).toBeGreaterThanOrEqual(2); // the runner's child and pid 1 of the namespace
    for (const pid of inits) {
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(secret);
      expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain(secret);
    }
    const attacker = await runCollected(
      makeTask(
        [
          {
            run: [
              `for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do grep -qa '${notItself(secret)}' "$f" 2>/dev/null && echo "FOUND $f"; done`,
              `grep -rqa '${notItself(secret)}' ${JSON.stringify(workRoot)} 2>/dev/null && echo "FOUND in the work root"`,
              'echo "processes $(ls -d /proc/[0-9]* | wc -l)"',
            ].join('\n'),
          },
        ],
        { name: 'attacker' },
      ),
      { workRoot },
    );
    writeFileSync(join(victimDir, 'release'), '');
    const { outcome } = await victim;
    expect(outcome.status).toBe('succeeded');
    expect(attacker.outcome.status).toBe('succeeded');
    expect(attacker.output).not.toContain('FOUND');
    // Its own init, bash, a subshell, ls and wc: none of the victim's processes.
    expect(Number(/^processes (\d+)$/m.exec(attacker.output)?.[1])).toBeLessThanOrEqual(6);
  });

  it('keeps its binary and its directory out of reach of a root step', async () => {
    const plan = await containmentPlan('namespace');
    const path = plan.init?.kind === 'compiled' ? plan.init.path : '';
    const before = sha256(path);
    const listed = readdirSync(initDir);
    const run = [
      `cp /bin/true ${JSON.stringify(path)} 2>/dev/null && echo "replaced the binary"`,
      `{ echo x >> ${JSON.stringify(path)}; } 2>/dev/null && echo "appended to the binary"`,
      `touch ${JSON.stringify(join(initDir, 'planted'))} 2>/dev/null && echo "planted a file"`,
      // What the step can still name: its own init through /proc. The kernel refuses writes to a running program.
      '{ echo x >> /proc/1/exe; } 2>/dev/null && echo "wrote through /proc/1/exe"',
      'cat /proc/1/exe > /dev/null && echo "read /proc/1/exe"',
    ].join('\n');
    const { outcome, output } = await runCollected(makeTask([{ run }]), {
      workRoot: tempDir(),
      hide: [state],
    });
    expect(outcome.status).toBe('succeeded');
    expect(output).toBe('read /proc/1/exe\n');
    expect(sha256(path)).toBe(before);
    expect(readdirSync(initDir)).toEqual(listed);
    const file = statSync(path);
    const dir = statSync(initDir);
    expect([file.mode & 0o777, file.uid]).toEqual([0o755, process.getuid?.()]);
    expect([dir.mode & 0o777, dir.uid]).toEqual([0o700, process.getuid?.()]);
  });

  it('reuses the binary built for the same source instead of building again', async () => {
    const plan = await containmentPlan('namespace');
    const path = plan.init?.kind === 'compiled' ? plan.init.path : '';
    const built = statSync(path);
    const again = await buildStepInit(initDir, { compiler: '/nonexistent/gcc' });
    expect(again).toEqual({ kind: 'compiled', path });
    expect(statSync(path).mtimeMs).toBe(built.mtimeMs);
  });
});

describe('private build dirs of processes without a state dir', () => {
  it('sweeps those of processes that are gone, and never one of a live process or a fresh one', async () => {
    const root = tempDir();
    const gone = spawn('/bin/true');
    await new Promise((resolve) => gone.once('exit', resolve));
    const made = (pid: number, suffix: string, ageMs: number): string => {
      const dir = join(root, `baton-init-${pid}-${suffix}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'baton-init-x'), '');
      const at = (Date.now() - ageMs) / 1000;
      utimesSync(dir, at, at);
      return dir;
    };
    const stale = made(gone.pid ?? 0, 'aaaaaa', 3_600_000);
    const live = made(process.pid, 'bbbbbb', 3_600_000);
    const fresh = made(gone.pid ?? 0, 'cccccc', 0);
    mkdirSync(join(root, 'baton-init-other'));
    expect(sweepPrivateDirs(root)).toBe(1);
    expect(readdirSync(root).sort()).toEqual(['baton-init-other', basename(fresh), basename(live)].sort());
    expect(readdirSync(root)).not.toContain(basename(stale));
  });
});

describe.runIf(asRoot)('the bash chain, where the compiled init cannot be used', () => {
  it('takes over when gcc cannot build the init, and says why', async () => {
    const dir = join(tempDir(), 'init');
    const init = await buildStepInit(dir, { compiler: '/nonexistent/gcc' });
    expect(init.kind).toBe('shell');
    expect(init.kind === 'shell' ? init.why : '').toMatch(/^gcc could not build the init: .*ENOENT/);
    expect(describeStepInit(init)).toMatch(
      /^step init: the bash chain \(setpriv, unshare, bash, mount\), because gcc/,
    );
    expect(readdirSync(dir)).toEqual([]); // no half-built binary left
  });

  it('refuses a directory or a binary another user could write', async () => {
    const dir = join(tempDir(), 'init');
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o777);
    const open = await buildStepInit(dir);
    expect(open).toEqual({ kind: 'shell', why: `${dir} is writable by others (mode 777)` });
    chmodSync(dir, 0o700);
    const built = await buildStepInit(dir);
    expect(built.kind).toBe('compiled');
    const path = built.kind === 'compiled' ? built.path : '';
    chmodSync(path, 0o775);
    expect(await buildStepInit(dir)).toEqual({
      kind: 'shell',
      why: `${path} is writable by others (mode 775)`,
    });
  });

  it('runs steps under the same guarantees: the mount table hides the state dir, nothing is left behind', async () => {
    process.env.BATON_STEP_INIT = 'shell';
    try {
      const plan = await containmentPlan('namespace');
      expect(plan.init).toEqual({ kind: 'shell', why: 'BATON_STEP_INIT=shell asks for it' });
      expect(plan.prefix[0]).toMatch(/setpriv$/);
      const token = `baton-${randomBytes(6).toString('hex')}`;
      const { outcome, output } = await runCollected(
        makeTask([
          {
            run: [
              `( setsid bash -c 'echo up > up; sleep 600; : ${token}' & ) &`,
              'until [ -s up ]; do sleep 0.02; done',
              'readlink /proc/1/exe',
              `ls -A ${JSON.stringify(state)} | wc -l`,
            ].join('\n'),
          },
        ]),
        { workRoot: tempDir(), hide: [state] },
      );
      expect(outcome.status).toBe('succeeded');
      expect(output.trim().split('\n')).toEqual([expect.stringMatching(/\/bash$/), '0']);
      expect(processesWith(token)).toEqual([]);
    } finally {
      delete process.env.BATON_STEP_INIT;
    }
  });
});
