// Work dirs made ahead of their tasks: taken and renamed to the task's name with the same layout as a dir made
// on the spot, made again after a take, removed when left by a dead runner or not taken, and a spare that
// vanished falls back to making the dir.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commandFiles, createWorkDir } from '../engine/work-dir.ts';
import { SpareWorkDirs } from './spare-work-dirs.ts';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function root(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-spare-'));
  made.push(dir);
  return dir;
}
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}
const spares = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.startsWith('.spare-'))
    .sort();

describe('spare work dirs', () => {
  it('a taken spare becomes the task dir, with its files, private modes, and no spare name left', async () => {
    const dir = root();
    const pool = new SpareWorkDirs(dir, 1, (e) => {
      throw e;
    });
    pool.fill();
    await until(() => pool.ready === 1);
    expect(spares(dir)).toHaveLength(2);
    const spare = pool.take();
    expect(spare).toBeDefined();
    const work = await createWorkDir(dir, 'build', { spare: spare! });
    expect(work.workspace).toMatch(/\/build-[0-9a-f]{8}$/);
    expect(readdirSync(work.workspace)).toEqual([]);
    for (const f of commandFiles(work)) expect(statSync(f).size).toBe(0);
    for (const d of [work.workspace, work.internal, work.temp]) expect(statSync(d).mode & 0o777).toBe(0o700);
    for (const f of commandFiles(work)) expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(existsSync(spare!.base)).toBe(false);
    // A new one is made for the next task, under a new name.
    pool.fill();
    await until(() => pool.ready === 1);
    expect(spares(dir)).not.toContain(spare!.base.split('/').pop());
    await pool.close();
    expect(spares(dir)).toEqual([]);
  });

  it('makes the dir itself when the spare is gone, and none is given while none is ready', async () => {
    const dir = root();
    const pool = new SpareWorkDirs(dir, 1, () => {});
    expect(pool.take()).toBeUndefined(); // nothing made yet
    pool.fill();
    await until(() => pool.ready === 1);
    const spare = pool.take()!;
    rmSync(spare.base, { recursive: true });
    const work = await createWorkDir(dir, 'test', { spare, harnessOutputFile: true });
    for (const f of commandFiles(work)) expect(existsSync(f)).toBe(true);
    expect(existsSync(work.harnessOutputFile!)).toBe(true);
    await until(() => !existsSync(spare.internal)); // what was left of it is removed
    await pool.close();
  });

  it('removes the spares a dead runner left, and nothing else', async () => {
    const dir = root();
    mkdirSync(join(dir, '.spare-0123456789abcdef'));
    mkdirSync(join(dir, '.spare-0123456789abcdef.baton'));
    mkdirSync(join(dir, 'build-01234567'));
    mkdirSync(join(dir, '.spare-not-hex'));
    await new SpareWorkDirs(dir, 1, () => {}).removeLeftovers();
    expect(readdirSync(dir).sort()).toEqual(['.spare-not-hex', 'build-01234567']);
  });

  it('reports a failure once and tries again only after the next take', async () => {
    const dir = root();
    const errors: unknown[] = [];
    // The work root is a file: nothing can be made in it.
    writeFileSync(join(dir, 'file'), '');
    const pool = new SpareWorkDirs(join(dir, 'file'), 1, (e) => errors.push(e));
    pool.fill();
    await until(() => errors.length === 1);
    pool.fill();
    await new Promise((r) => setTimeout(r, 50));
    expect(errors).toHaveLength(1);
    expect(pool.take()).toBeUndefined();
    pool.fill();
    await until(() => errors.length === 2);
    await pool.close();
  });
});
