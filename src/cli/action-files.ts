// The action files a GitHub workflow's `uses: ./…` steps name, read by the CLI (baton run, submit, validate) from
// the repository the workflow lives in and sent with it: the server compiles workflows without the checkout.
// docs/adr/0017-local-actions.md.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import {
  localActionDir,
  MAX_ACTION_FILE_BYTES,
  MAX_ACTION_FILES,
  type ActionFiles,
} from '../workflow/action-files.ts';
import { formatBytes } from '../workflow/limits.ts';
import { CliError } from './common.ts';

/** The git top-level of the workflow file's directory, else the current directory. */
export function repositoryRoot(workflowFile: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], {
      cwd: dirname(resolve(workflowFile)),
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return process.cwd(); // not a git checkout, or no git: GitHub's workspace root is then the current directory
  }
}

/**
 * Every local action the workflow uses, nested composite actions included. An action directory without an
 * action file is left out (the compiler reports it at its `uses:`); a file past a limit, or outside the
 * repository through a symbolic link, is an error naming it.
 */
export function readActionFiles(workflowFile: string, text: string): ActionFiles | undefined {
  const pending = localUses(safeParse(text), 'workflow');
  // No `actions` field at all then: a server from before local actions refuses a body with one.
  if (pending.length === 0) return undefined;
  const root = realpathSync(repositoryRoot(workflowFile));
  const actions: ActionFiles = {};
  const seen = new Set<string>();
  while (pending.length > 0) {
    const uses = pending.shift()!;
    const dir = localActionDir(uses);
    if (typeof dir !== 'string' || seen.has(dir)) continue;
    seen.add(dir);
    const file = ['action.yml', 'action.yaml'].find((name) => existsSync(join(root, dir, name)));
    if (file === undefined) continue;
    if (Object.keys(actions).length >= MAX_ACTION_FILES)
      throw new CliError(
        `the workflow uses more than ${MAX_ACTION_FILES} local actions; the limit is ${MAX_ACTION_FILES} action files per workflow`,
      );
    const path = join(root, dir, file);
    const real = realpathSync(path);
    if (real !== root && !real.startsWith(root + sep))
      throw new CliError(
        `${relative(process.cwd(), path)} leads outside the repository (${real}); an action's files must be in it`,
      );
    const size = statSync(real).size;
    if (size > MAX_ACTION_FILE_BYTES)
      throw new CliError(
        `${relative(process.cwd(), path)} is ${size} bytes; the limit is ${formatBytes(MAX_ACTION_FILE_BYTES)} per action file`,
      );
    const actionText = readFileSync(real, 'utf8');
    actions[dir] = { file, text: actionText };
    const metadata = safeParse(actionText);
    checkScripts(root, dir, file, metadata);
    pending.push(...localUses(metadata, 'action'));
  }
  return actions;
}

function safeParse(text: string): unknown {
  try {
    return parse(text, { maxAliasCount: 100 }) as unknown;
  } catch {
    return undefined; // the compiler reports the YAML error with its line and column
  }
}

/** `uses: ./…` values of a workflow's job steps or a composite action's steps. */
function localUses(doc: unknown, kind: 'workflow' | 'action'): string[] {
  const stepLists =
    kind === 'workflow'
      ? Object.values(record(record(doc).jobs)).map((job) => record(job).steps)
      : [record(record(doc).runs).steps];
  return stepLists
    .flatMap((steps) => (Array.isArray(steps) ? steps : []))
    .map((step) => record(step).uses)
    .filter((uses): uses is string => typeof uses === 'string' && (uses.startsWith('./') || uses === '.'));
}

/** A node action's main, pre and post scripts must be in the repository: the runner runs them from there. */
function checkScripts(root: string, dir: string, file: string, metadata: unknown): void {
  const runs = record(record(metadata).runs);
  if (runs.using !== 'node20' && runs.using !== 'node24') return;
  for (const key of ['main', 'pre', 'post']) {
    const script = runs[key];
    if (typeof script === 'string' && !existsSync(join(root, dir, script)))
      throw new CliError(
        `${join(dir, file)}: 'runs.${key}' names ${join(dir, script)}, which is not in the repository; commit the built script (GitHub runs it from the repository too)`,
      );
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
