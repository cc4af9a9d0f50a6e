// A task's work dir lifecycle: a fresh, private directory per task, the step cwd inside it, removal.
//
// Layout under workRoot, for task "build" with random suffix 1a2b3c4d:
//   build-1a2b3c4d/        the workspace (BATON_WORKSPACE, cwd of steps): empty when the first step starts, or
//                          a copy of the checkout `baton run` was given (RunTaskOptions.seedWorkspace)
//   build-1a2b3c4d.baton/  Baton's files: step scripts, output/env/path/mask files, tmp/ (runner.temp),
//                          upload.zip (the only thing left after the task when it has uploads),
//                          outputs/ (Harness-dialect tasks only: OUTPUT_FILE is outputs/output, and the task may
//                          create outputs/output_<suffix> beside it; harness-outputs.ts reads them)
// Baton's files sit beside the workspace, not in it, so `git clone <url> .` works in a fresh workspace
// and an upload of `.` never carries the output file (which may hold confidential values).

import { randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

export interface WorkDir {
  /** Absolute path of the workspace. */
  workspace: string;
  /** Absolute path of Baton's own files for this task. */
  internal: string;
  outputFile: string;
  envFile: string;
  pathFile: string;
  /** BATON_MASK: values a step wants masked, one per line. */
  maskFile: string;
  /** GITHUB_STATE: `name=value` state for the step's post step (workflow-commands.ts StepCommandEffects). */
  stateFile: string;
  /** GITHUB_STEP_SUMMARY: the step's Markdown summary. */
  summaryFile: string;
  /** A private temp dir for steps (`runner.temp`, RUNNER_TEMP). */
  temp: string;
  /** Where the upload archive is written; removeWorkDir leaves it for the runner. */
  uploadFile: string;
  /**
   * Harness-dialect tasks (TaskSpec.outputFile): OUTPUT_FILE, in a directory of its own that the task may
   * add `${OUTPUT_FILE}_<suffix>` files to.
   */
  harnessOutputFile?: string;
}

/** Task names are already `[A-Za-z0-9_.-]` in plans; this keeps any other name a safe path element. */
export function sanitiseName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
  return /^\.*$/.test(safe) ? `task${safe}` : safe;
}

/**
 * A work dir made before its task is known (while a runner slot waits for an offer), so the offer's path to
 * the first step holds two renames instead of three directories and six files: on a disk where each costs
 * ~0.25 ms, that was the largest part of a task's start on the runner (docs/performance.md). It sits in the
 * work root under a dot name that createWorkDir renames to the task's; nobody else ever gets it.
 */
export interface SpareWorkDir {
  base: string;
  internal: string;
}

/** Names of spare work dirs (and their Baton dirs): a runner that died left these, never a task's. */
export const SPARE_WORK_DIR = /^\.spare-[0-9a-f]{16}(\.baton)?$/;

/**
 * Makes a spare work dir, with synchronous calls like createWorkDir: made while the slot waits, off the dispatch
 * path. The promise calls were dearer on every count: each is a thread-pool round trip whose hand-off cost the
 * event loop more than the call itself (0.30–0.49 ms of the loop and 0.62–1.16 ms of CPU per work dir on the
 * benchmark's VM, against 0.14–0.16 ms for both done in place; docs/performance.md, ninth session). A part
 * made before a failure is removed.
 */
export function makeSpareWorkDir(workRoot: string): SpareWorkDir {
  const root = resolve(workRoot);
  mkdirSync(root, { recursive: true });
  const base = join(root, `.spare-${randomBytes(8).toString('hex')}`);
  const internal = `${base}.baton`;
  try {
    makeDirs(layout(base, internal));
  } catch (error) {
    for (const p of [base, internal]) rmSync(p, { recursive: true, force: true });
    throw error;
  }
  return { base, internal };
}

/** Both directories, the temp dir and the empty command files, private to the runner's user. */
function makeDirs(dir: WorkDir): void {
  // Not recursive: if the name already exists something is wrong, and mkdir says so (EEXIST).
  mkdirSync(dir.workspace, { mode: 0o700 });
  mkdirSync(dir.internal, { mode: 0o700 });
  mkdirSync(dir.temp, { mode: 0o700 });
  for (const f of commandFiles(dir)) writeFileSync(f, '', { mode: 0o600, flag: 'wx' });
}

function layout(base: string, internal: string): WorkDir {
  return {
    workspace: base,
    internal,
    outputFile: join(internal, 'output'),
    envFile: join(internal, 'env'),
    pathFile: join(internal, 'path'),
    maskFile: join(internal, 'mask'),
    stateFile: join(internal, 'state'),
    summaryFile: join(internal, 'summary'),
    temp: join(internal, 'tmp'),
    uploadFile: join(internal, 'upload.zip'),
  };
}

// The setup on the dispatch path uses synchronous calls: each takes microseconds, where the promise versions
// cost a thread-pool round trip apiece (2.7 ms for a work dir, measured in W1: issue 8).
export async function createWorkDir(
  workRoot: string,
  taskName: string,
  o: { harnessOutputFile?: boolean; spare?: SpareWorkDir } = {},
): Promise<WorkDir> {
  const root = resolve(workRoot);
  const base = join(root, `${sanitiseName(taskName)}-${randomBytes(4).toString('hex')}`);
  const internal = `${base}.baton`;
  const dir = layout(base, internal);
  if (o.spare === undefined || !takeSpare(o.spare, dir)) {
    mkdirSync(root, { recursive: true });
    makeDirs(dir);
  }
  if (o.harnessOutputFile === true) {
    const outputs = join(internal, 'outputs');
    mkdirSync(outputs, { mode: 0o700 });
    dir.harnessOutputFile = join(outputs, 'output');
    writeFileSync(dir.harnessOutputFile, '', { mode: 0o600 });
  }
  return dir;
}

/**
 * Renames a spare into the task's names; false (the spare removed, if anything of it is left) when that
 * failed, and the caller makes the dir afresh. The targets carry a new random suffix: rename(2) would replace
 * an empty directory there, and none can exist.
 */
function takeSpare(spare: SpareWorkDir, dir: WorkDir): boolean {
  // Whatever could not be renamed is of no use to anyone: removed in the background.
  const discard = (...paths: string[]) => {
    for (const p of paths) void rm(p, { recursive: true, force: true }).catch(() => {});
    return false;
  };
  try {
    renameSync(spare.base, dir.workspace);
  } catch {
    return discard(spare.base, spare.internal);
  }
  try {
    renameSync(spare.internal, dir.internal);
    return true;
  } catch {
    return discard(dir.workspace, spare.internal);
  }
}

/** The files a step writes to hand things on (BATON_*, GITHUB_*): writable in a sandbox, each made per task. */
export function commandFiles(dir: WorkDir): string[] {
  return [dir.outputFile, dir.envFile, dir.pathFile, dir.maskFile, dir.stateFile, dir.summaryFile];
}

/** Those emptied before each step (the mask file is not: its values hold for the whole task). */
export function perStepFiles(dir: WorkDir): string[] {
  return [dir.outputFile, dir.envFile, dir.pathFile, dir.stateFile, dir.summaryFile];
}

/**
 * Before the first `node` step: an empty package.json beside its script stops Node's upward lookup, so the
 * .js script is CommonJS or ESM by its own syntax, whatever package.json the work root sits under. Written
 * only when needed: most tasks run no node step, and file creation is the runner's main cost per task.
 */
export function prepareNodeScripts(dir: WorkDir): void {
  const path = join(dir.internal, 'package.json');
  if (!existsSync(path)) writeFileSync(path, '{}\n', { mode: 0o600 });
}

/**
 * The cwd for a step: workspace / task dir / step dir, created if missing. Returns an error sentence
 * when the result would be outside the workspace, also through a symlink a step created — except for an
 * absolute path (GitHub's `working-directory` may be one): inside the workspace it is checked like a relative
 * one; outside, it is used as it is when it is an existing directory, and never created.
 */
export async function stepCwd(
  workspace: string,
  parts: Array<string | undefined>,
): Promise<{ cwd: string } | { error: string }> {
  const given = parts.filter((p): p is string => p !== undefined && p !== '');
  const cwd = resolve(workspace, ...given);
  const shown = given.join(' then ');
  const last = given.at(-1);
  if (last !== undefined && isAbsolute(last) && !inside(workspace, cwd)) return absoluteCwd(cwd);
  if (!inside(workspace, cwd))
    return { error: `working directory '${shown}' is outside the task's work dir` };
  if (cwd === resolve(workspace)) {
    // The workspace itself: no symlink inside it can lead mkdir astray (an earlier step may have removed it).
    mkdirSync(cwd, { recursive: true });
    return { cwd };
  }
  // Check the deepest existing ancestor before creating anything: a symlink made by an earlier step
  // (sub -> /etc) must not let mkdir create directories outside the workspace.
  const realWorkspace = realpathSync(workspace);
  const existing = realpathSync(deepestExisting(cwd));
  if (!inside(realWorkspace, existing)) {
    return { error: `working directory '${shown}' leads outside the task's work dir through a symlink` };
  }
  mkdirSync(cwd, { recursive: true });
  return { cwd };
}

/**
 * An absolute directory outside the workspace: the step's own process could `cd` there as well, so it is no
 * escape; it is not created (GitHub does not create a missing working directory either).
 */
function absoluteCwd(cwd: string): { cwd: string } | { error: string } {
  let isDir = false;
  try {
    isDir = statSync(cwd).isDirectory();
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? error.code : undefined;
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EACCES') throw error;
  }
  if (isDir) return { cwd };
  return {
    error: `working directory '${cwd}' does not exist or is not a directory; an absolute working directory outside the task's work dir is used as it is and never created`,
  };
}

function deepestExisting(path: string): string {
  for (let p = path; ; p = dirname(p)) {
    if (existsSync(p)) return p;
    if (dirname(p) === p) throw new Error(`no part of ${path} exists`);
  }
}

export function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

/**
 * Removes both directories, except the upload archive when `keepUpload` (the runner sends it, then
 * calls removeUpload). Resolves with the error sentences of what could not be removed.
 */
export async function removeWorkDir(dir: WorkDir, keepUpload = false): Promise<string[]> {
  const doomed = [dir.workspace];
  if (keepUpload) {
    const entries = await readdir(dir.internal).catch(() => []);
    doomed.push(...entries.filter((e) => e !== basename(dir.uploadFile)).map((e) => join(dir.internal, e)));
  } else {
    doomed.push(dir.internal);
  }
  const budget = { left: SYNC_REMOVAL_ENTRIES };
  const results = await Promise.allSettled(
    doomed.map((d) =>
      removedSync(d, budget) ? undefined : rm(d, { recursive: true, force: true, maxRetries: 2 }),
    ),
  );
  return results.flatMap((r) => (r.status === 'rejected' ? [errorText(r.reason)] : []));
}

/**
 * How many entries a work dir's removal deletes with synchronous calls before it leaves the rest to `rm` on
 * the thread pool. Most tasks leave a handful (Baton's own files, a few outputs): removed in place, that is a
 * few syscalls, where the promise `rm` made two thread-pool round trips per entry (~1.6 ms per task on the
 * benchmark's disk, docs/performance.md). A large tree (a checkout, node_modules) holds the event loop for at
 * most this many deletions before the thread pool takes over.
 */
const SYNC_REMOVAL_ENTRIES = 64;

/**
 * Deletes `path` depth first without following links, while `budget` lasts. True when it is gone; false when
 * the budget ran out or a call failed (permissions, a busy mount): then `rm` does the rest and reports why.
 */
function removedSync(path: string, budget: { left: number }): boolean {
  try {
    if (!lstatSync(path, { throwIfNoEntry: false })?.isDirectory()) return unlinkWithin(path, budget, true);
    return removedDirSync(path, budget);
  } catch {
    return false;
  }
}

function removedDirSync(dir: string, budget: { left: number }): boolean {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const gone = entry.isDirectory() ? removedDirSync(path, budget) : unlinkWithin(path, budget, false);
    if (!gone) return false;
  }
  if (budget.left-- <= 0) return false;
  rmdirSync(dir);
  return true;
}

function unlinkWithin(path: string, budget: { left: number }, mayBeMissing: boolean): boolean {
  if (budget.left-- <= 0) return false;
  try {
    unlinkSync(path);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? error.code : undefined;
    if (!(mayBeMissing && code === 'ENOENT')) throw error;
  }
  return true;
}

/** Deletes an upload archive of TaskOutcome.upload and the side dir it was left in, if now empty. */
export async function removeUpload(path: string): Promise<void> {
  await rm(path, { force: true });
  try {
    await rmdir(dirname(path)); // never recursive: a wrong path must not take a directory tree with it
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? error.code : undefined;
    if (code !== 'ENOENT' && code !== 'ENOTEMPTY') throw error;
  }
}

export function errorText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
