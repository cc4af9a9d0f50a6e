// What a step can reach under `host` isolation with namespace containment: its own work dir and a private
// /tmp; not the other tasks' dirs, not the runner's files, not the mounts that hide them. And the hand-over:
// a step whose contained shell did not confirm its start never counts as run; a step whose lease is not
// renewed dies at the deadline without anyone's help.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { containmentPlan, fstabField } from './containment.ts';
import { startStepProcess } from './step-process.ts';
import { makeTask, runCollected } from './test-support.ts';
import type { Deadman } from './types.ts';

const asRoot = process.getuid?.() === 0;

describe.runIf(asRoot)('host isolation under namespace containment', () => {
  it('gives each task a private /tmp, and hides the other tasks and the runner files it is told to', async () => {
    const root = tempDir();
    const workRoot = join(root, 'work root'); // a blank in the path: the mount table escapes it
    const state = join(root, 'state');
    mkdirSync(join(workRoot, 'other-task-1a2b3c4d'), { recursive: true });
    writeFileSync(join(workRoot, 'other-task-1a2b3c4d', 'secret.txt'), 'victim-secret');
    mkdirSync(state);
    writeFileSync(join(state, 'runner-key.json'), 'runner-private-key');
    const config = join(root, 'baton-runner.json');
    writeFileSync(config, '{"token":"runner-token"}');
    const shared = join('/tmp', `baton-isolation-${process.pid}-${Date.now()}`);
    writeFileSync(shared, 'left in the shared tmp');
    const script = [
      `printf 'tmp=[%s]\\n' "$(ls -A /tmp | tr '\\n' ,)"`,
      `test -e ${JSON.stringify(shared)} && echo "shared tmp visible"`,
      `echo mine > /tmp/mine.txt`,
      `ls -A ${JSON.stringify(workRoot)}`,
      `cat ${JSON.stringify(join(workRoot, 'other-task-1a2b3c4d', 'secret.txt'))} 2>/dev/null || echo "no sibling"`,
      `ls -A ${JSON.stringify(state)} | grep -c . || true`,
      `printf 'config=[%s]\\n' "$(cat ${JSON.stringify(config)})"`,
      `umount /tmp 2>/dev/null && echo "unmounted" || echo "umount refused"`,
      `mount -t tmpfs x ${JSON.stringify(state)} 2>/dev/null && echo "mounted" || echo "mount refused"`,
      `pwd`,
    ].join('\n');
    const { outcome, output } = await runCollected(makeTask([{ run: script }], { name: 'mine' }), {
      workRoot,
      hide: [state, config, join(root, 'missing-file')],
      controlDir: tempDir(),
    });
    expect(outcome.status).toBe('succeeded');
    const lines = output.trim().split('\n');
    // The private /tmp starts empty but for the path down to the work root, made again when it lies in /tmp.
    const underTmp = workRoot.startsWith('/tmp/') ? `${workRoot.split('/')[2]},` : '';
    expect(lines[0]).toBe(`tmp=[${underTmp}]`);
    expect(output).not.toContain('shared tmp visible');
    // The work root shows the task's own two dirs and nothing else.
    const listed = lines.slice(1, 3).sort();
    expect(listed).toHaveLength(2);
    expect(listed[0]).toMatch(/^mine-[0-9a-f]{8}$/);
    expect(listed[1]).toMatch(/^mine-[0-9a-f]{8}\.baton$/);
    expect(lines).toContain('no sibling');
    expect(output).not.toContain('victim-secret');
    expect(lines).toContain('config=[]');
    expect(output).not.toContain('runner-private-key');
    expect(lines).toContain('umount refused');
    expect(lines).toContain('mount refused');
    expect(lines.at(-1)).toBe(join(workRoot, listed[0] ?? ''));
    // Nothing leaked to the real /tmp, and the hidden files are untouched.
    expect(() => readFileSync('/tmp/mine.txt')).toThrow();
    expect(readFileSync(join(state, 'runner-key.json'), 'utf8')).toBe('runner-private-key');
  });

  it('keeps the work dir where the runner says it is when the work root lives under /tmp', async () => {
    const workRoot = join(tempDir(), '_work');
    const { outcome, output } = await runCollected(
      makeTask([{ run: 'echo hi > file && cat file && pwd && ls -A /tmp | grep -c . || true' }]),
      { workRoot },
    );
    expect(outcome.status).toBe('succeeded');
    const [hi, pwd] = output.trim().split('\n');
    expect(hi).toBe('hi');
    expect(pwd?.startsWith(`${workRoot}/build-`)).toBe(true);
  });

  it('hides a directory that holds the work root itself (the embedded server data dir)', async () => {
    const data = tempDir();
    writeFileSync(join(data, 'baton.db'), 'all the runs');
    writeFileSync(join(data, 'master.key'), 'the master key');
    const { outcome, output } = await runCollected(
      makeTask([{ run: `ls -A ${JSON.stringify(data)}; echo ok > here; cat here; ls -A /tmp | wc -l` }]),
      { workRoot: join(data, '_work'), hide: [data] },
    );
    expect(outcome.status).toBe('succeeded');
    expect(output.split('\n').slice(0, 2)).toEqual(['_work', 'ok']);
    expect(output).not.toContain('baton.db');
  });

  it('never counts a step as run when its contained shell could not set the step up', async () => {
    const control = tempDir();
    const fstab = join(control, 'bad.fstab');
    writeFileSync(fstab, 'nonsense /nonexistent/target bogusfs defaults 0 0\n');
    const cwd = tempDir();
    mkdirSync(join(cwd, 'tmp'));
    const marker = join(cwd, 'ran');
    const proc = startStepProcess({
      argv: ['/bin/sh', '-c', `touch ${marker}; exit 0`],
      cwd,
      env: { PATH: '/usr/bin:/bin' },
      graceMs: 1000,
      onStdout: () => {},
      onStderr: () => {},
      onSystem: () => {},
      containment: await containmentPlan('namespace'),
      view: { fstab, workspace: cwd, internal: cwd },
    });
    const exit = await proc.done;
    expect(exit.launchError).toMatch(/cannot hide the runner's files/);
    expect(() => readFileSync(marker)).toThrow();
  });

  it('hands the whole environment over the pipe, odd names and large values included', async () => {
    // Two values near the per-value limit (64 KiB): together more than a pipe's 64 KiB buffer.
    const big = 'x'.repeat(60_000);
    const { outcome, output } = await runCollected(
      makeTask([
        {
          run: 'printf "%s|%s|%s\\n" "$(( ${#BIG} + ${#BIG2} ))" "$PLAIN" "$(env | grep -c "^odd.name=")"',
          env: { BIG: big, BIG2: big, PLAIN: 'a b\nc', 'odd.name': 'v' },
        },
      ]),
      { workRoot: tempDir() },
    );
    expect(outcome.status).toBe('succeeded');
    expect(output).toBe('120000|a b\nc|1\n');
  });

  it('kills the whole step tree when the lease is not renewed, without the runner acting', async () => {
    const cwd = tempDir();
    const stamps = join(cwd, 'stamps');
    let notes = '';
    const deadman: Deadman = { deadline: () => performance.now() + 400, onRenew: () => () => {} };
    const t0 = performance.now();
    const proc = startStepProcess({
      argv: [
        '/bin/bash',
        '-c',
        `(setsid sleep 600 &); while :; do date +%s%N >> ${stamps}; sleep 0.05; done`,
      ],
      cwd,
      env: { PATH: '/usr/bin:/bin' },
      graceMs: 60_000,
      onStdout: () => {},
      onStderr: (t) => (notes += t),
      onSystem: () => {},
      containment: await containmentPlan('namespace'),
      deadman,
    });
    const exit = await proc.done;
    const elapsed = performance.now() - t0;
    expect(exit.launchError).toBeUndefined();
    expect(exit.exitCode === null || exit.exitCode !== 0).toBe(true);
    expect(notes).toContain('the lease was not renewed in time');
    // It did not wait for the 60 s grace or the 600 s sleep: the switch fired on its own.
    expect(elapsed).toBeLessThan(30_000);
    const last = readFileSync(stamps, 'utf8').trim().split('\n').length;
    await new Promise((r) => setTimeout(r, 300));
    expect(readFileSync(stamps, 'utf8').trim().split('\n').length).toBe(last);
  });

  it('keeps a step alive past its first deadline while the renewals arrive', async () => {
    const cwd = tempDir();
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
      let notes = '';
      const proc = startStepProcess({
        argv: ['/bin/sleep', '2'],
        cwd,
        env: { PATH: '/usr/bin:/bin' },
        graceMs: 1000,
        onStdout: () => {},
        onStderr: (t) => (notes += t),
        onSystem: () => {},
        containment: await containmentPlan('namespace'),
        deadman,
      });
      const exit = await proc.done;
      expect(exit.exitCode).toBe(0);
      expect(notes).not.toContain('lease');
    } finally {
      clearInterval(renew);
    }
  });
});

describe('fstabField', () => {
  it('escapes blanks and backslashes the way libmount reads them', () => {
    expect(fstabField('/a b\\c\td\ne')).toBe('/a\\040b\\134c\\011d\\012e');
    expect(fstabField('/plain/path')).toBe('/plain/path');
  });
});
