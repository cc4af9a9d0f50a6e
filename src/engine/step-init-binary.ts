// The compiled step init (init/baton-init.c): what starts a step under namespace containment when this machine
// can build it, instead of the chain setpriv → unshare → bash (step-init.ts) → mount → setpriv.
//
// Contract: stepInit() resolves, once per directory, to the binary to run or to the reason the bash chain runs
// instead. The binary is built on first use with the machine's gcc (never downloaded), from the source read
// once and fed to gcc on stdin, so what was hashed is what was compiled; its name carries that hash, so a
// changed source builds anew and an old binary is never run for a new source. It is written as a temporary
// file and renamed (a half-written binary is never run), mode 0755, in a directory owned by the runner and
// writable by nobody else: the runner's state dir (setStepInitDir), which the task's mount table covers, or a
// private temp dir of the process (mode 0700, under the host's /tmp, which a contained step never sees).
// Before it is used it must pass a trial run (a contained `true`); a directory or file that another user could
// write, no gcc, a failed build or a failed trial each give the bash chain, with the reason.
// docs/adr/0022-step-init-in-c.md.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOnPath } from './shell.ts';
import { SYSTEM_PATH } from './system-path.ts';

export type StepInit = { kind: 'compiled'; path: string } | { kind: 'shell'; why: string };

/** The C source, beside this module (copied next to the compiled JS by `npm run build`). */
export const STEP_INIT_SOURCE = fileURLToPath(new URL('./init/baton-init.c', import.meta.url));

/** gcc's flags for every build; `-static` is tried first (no dynamic loader on every step's start). */
const FLAGS = ['-O2', '-s', '-Wall', '-x', 'c'];

/** Longer than any gcc run of this one file on a loaded machine; past it the build counts as failed. */
const BUILD_TIMEOUT_MS = 60_000;

let configuredDir: string | undefined;
let ownDir: string | undefined;
const builds = new Map<string, Promise<StepInit>>();

/** Where the binary is kept: a directory no task can see or write (the runner's state dir). Call before use. */
export function setStepInitDir(dir: string): void {
  configuredDir = dir;
}

/** The init for the next step: built (or found) once per directory and process. */
export function stepInit(): Promise<StepInit> {
  // The operator's way back to the chain, should the compiled init ever misbehave on some kernel.
  if (process.env.BATON_STEP_INIT === 'shell')
    return Promise.resolve({ kind: 'shell', why: 'BATON_STEP_INIT=shell asks for it' });
  const dir = configuredDir ?? (ownDir ??= privateDir());
  let build = builds.get(dir);
  if (build === undefined) {
    build = buildStepInit(dir);
    builds.set(dir, build);
  }
  return build;
}

/**
 * A process without a state dir (`baton run`, tests) keeps its build to itself, and removes it on exit. A
 * process killed before it could (SIGKILL) leaves its dir: the next one sweeps those (sweepPrivateDirs).
 */
function privateDir(): string {
  sweepPrivateDirs();
  const dir = mkdtempSync(join(tmpdir(), `baton-init-${process.pid}-`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Old enough that no process just starting owns it, even in another pid namespace sharing this /tmp. */
const STALE_PRIVATE_DIR_MS = 10 * 60_000;

/**
 * Removes the private dirs (ours, by owner) of processes that are gone and were made long enough ago; returns
 * how many. A live process's dir is never touched: its pid answers a null signal.
 */
export function sweepPrivateDirs(root = tmpdir(), now = Date.now()): number {
  const uid = process.getuid?.();
  let swept = 0;
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return 0;
  }
  for (const name of names) {
    const match = /^baton-init-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
    if (match === null) continue;
    const path = join(root, name);
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (stat === undefined || !stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
    if (now - stat.mtimeMs < STALE_PRIVATE_DIR_MS || alive(Number(match[1]))) continue;
    rmSync(path, { recursive: true, force: true });
    swept++;
  }
  return swept;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** One line for the runner's log: which init starts the steps, and why. */
export function describeStepInit(init: StepInit): string {
  return init.kind === 'compiled'
    ? `step init: the compiled init ${init.path}`
    : `step init: the bash chain (setpriv, unshare, bash, mount), because ${init.why}`;
}

/** Builds (or reuses) the binary in `dir` and tries it; `compiler` names another gcc (tests: a missing one). */
export async function buildStepInit(dir: string, o: { compiler?: string } = {}): Promise<StepInit> {
  const shell = (why: string): StepInit => ({ kind: 'shell', why });
  let source: Buffer;
  try {
    source = readFileSync(STEP_INIT_SOURCE);
  } catch (error) {
    return shell(`the init's source ${STEP_INIT_SOURCE} cannot be read: ${(error as Error).message}`);
  }
  const hash = createHash('sha256').update(FLAGS.join(' ')).update('\0').update(source).digest('hex');
  const path = join(dir, `baton-init-${hash.slice(0, 24)}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    return shell(`cannot make ${dir}: ${(error as Error).message}`);
  }
  const dirProblem = untrusted(dir, 'directory');
  if (dirProblem !== undefined) return shell(dirProblem);
  if (lstatSync(path, { throwIfNoEntry: false }) === undefined) {
    const compiler = o.compiler ?? findOnPath('gcc', SYSTEM_PATH) ?? findOnPath('cc', SYSTEM_PATH);
    if (compiler === undefined)
      return shell(`gcc is not installed (the Debian package 'gcc' builds the init on first use)`);
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    // Static first; a machine without the static C library still gets a dynamic binary.
    let failed = await compile(compiler, [...FLAGS, '-static', '-o', temp, '-'], source);
    if (failed !== undefined) failed = await compile(compiler, [...FLAGS, '-o', temp, '-'], source);
    if (failed !== undefined) {
      rmSync(temp, { force: true });
      return shell(`gcc could not build the init: ${failed}`);
    }
    try {
      chmodSync(temp, 0o755);
      renameSync(temp, path);
    } catch (error) {
      rmSync(temp, { force: true });
      return shell(`cannot install the init at ${path}: ${(error as Error).message}`);
    }
  }
  const fileProblem = untrusted(path, 'file');
  if (fileProblem !== undefined) return shell(fileProblem);
  const trial = await tryInit(path);
  if (trial !== undefined) return shell(`the compiled init ${path} failed its trial run: ${trial}`);
  return { kind: 'compiled', path };
}

/** Why `path` cannot be trusted: not ours, writable by others, or not what it should be (a link). */
function untrusted(path: string, kind: 'directory' | 'file'): string | undefined {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return `${path} is missing`;
  const isKind = kind === 'directory' ? stat.isDirectory() : stat.isFile();
  if (!isKind) return `${path} is not a ${kind}`;
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid)
    return `${path} is owned by uid ${stat.uid}, not the runner's ${uid}`;
  if ((stat.mode & 0o022) !== 0)
    return `${path} is writable by others (mode ${(stat.mode & 0o777).toString(8)})`;
  return undefined;
}

/** Runs gcc with the source on stdin; resolves undefined when it built, else what gcc said. */
function compile(compiler: string, args: string[], source: Buffer): Promise<string | undefined> {
  return new Promise((resolve) => {
    let said = '';
    const child = spawn(compiler, args, {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { PATH: SYSTEM_PATH },
      timeout: BUILD_TIMEOUT_MS,
    });
    child.stdin.on('error', () => {});
    child.stdin.end(source);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (t: string) => (said = (said + t).slice(-1000)));
    child.once('error', (error) => resolve(error.message));
    child.once('exit', (code, signal) =>
      resolve(code === 0 ? undefined : said.trim() || `exit ${code ?? signal ?? 'unknown'}`),
    );
  });
}

/** A contained `true` with an empty environment: the init must say `ready` and exit 0. */
function tryInit(path: string): Promise<string | undefined> {
  const trueCommand = findOnPath('true', SYSTEM_PATH) ?? '/bin/true';
  return new Promise((resolve) => {
    let said = '';
    const child = spawn(path, ['-', '-', '/', '/', '/', trueCommand], {
      stdio: ['pipe', 'ignore', 'ignore', 'ignore', 'pipe'],
      env: { PATH: SYSTEM_PATH },
      cwd: '/',
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end('\0');
    const answers = child.stdio[4] as NodeJS.ReadableStream | null;
    answers?.setEncoding('utf8');
    answers?.on('data', (t: string) => (said += t.slice(0, 1000)));
    child.once('error', (error) => resolve(error.message));
    child.once('close', (code, signal) => {
      if (code === 0 && said.split('\n').includes('ready')) resolve(undefined);
      else resolve(said.trim() || `exit ${code ?? signal ?? 'unknown'}`);
    });
  });
}
