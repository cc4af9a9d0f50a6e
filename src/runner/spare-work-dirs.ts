// Work dirs made ahead of their tasks: two per slot (runner/agent.ts), made while the slot waits for an
// offer, taken by the engine (EngineOptions.spareWorkDir) and renamed to the task's name. A task's start then
// costs two renames on the runner's disk instead of creating three directories and six files
// (engine/work-dir.ts SpareWorkDir; docs/performance.md).
import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { makeSpareWorkDir, SPARE_WORK_DIR, type SpareWorkDir } from '../engine/work-dir.ts';

export class SpareWorkDirs {
  #root: string;
  #want: number;
  #ready: SpareWorkDir[] = [];
  #closed = false;
  #onError: (err: unknown) => void;
  /** After a failure (a full disk, a removed work root), none is made again until the next take. */
  #failed = false;

  constructor(root: string, want: number, onError: (err: unknown) => void) {
    this.#root = resolve(root);
    this.#want = want;
    this.#onError = onError;
  }

  /** Removes the spares a runner that stopped without cleaning up left in the work root. */
  async removeLeftovers(): Promise<void> {
    const names = await readdir(this.#root).catch(() => [] as string[]);
    await Promise.all(
      names
        .filter((n) => SPARE_WORK_DIR.test(n))
        .map((n) => rm(join(this.#root, n), { recursive: true, force: true }).catch(() => {})),
    );
  }

  /** Spares made and not taken yet. */
  get ready(): number {
    return this.#ready.length;
  }

  /** Makes spares until `want` are ready (none after a failure, until the next take). */
  fill(): void {
    while (!this.#closed && !this.#failed && this.#ready.length < this.#want) {
      try {
        this.#ready.push(makeSpareWorkDir(this.#root));
      } catch (err) {
        this.#failed = true;
        this.#onError(err);
      }
    }
  }

  /**
   * A spare if one is ready (the engine makes the dir itself otherwise). The next is made at the next fill(),
   * which the runner calls when a slot goes back to waiting: made now, its file system calls would compete
   * with the step's start for the machine.
   */
  take(): SpareWorkDir | undefined {
    this.#failed = false;
    return this.#ready.shift();
  }

  /** Removes the spares not taken; none is made after this. */
  async close(): Promise<void> {
    this.#closed = true;
    const left = this.#ready;
    this.#ready = [];
    await Promise.all(left.map(remove));
  }
}

async function remove(dir: SpareWorkDir): Promise<void> {
  await Promise.all(
    [dir.base, dir.internal].map((p) => rm(p, { recursive: true, force: true }).catch(() => {})),
  );
}
