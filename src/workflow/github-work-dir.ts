// `working-directory` of GitHub steps and `defaults.run` ("Workflow syntax", jobs.<job_id>.steps[*].working-directory
// and defaults.run): literal text, `${{ }}` evaluated on the runner just before the step runs (with the step's
// contexts), or an absolute path. A literal relative path may not climb out of the work dir; the runner checks
// every path again once evaluated (src/engine/work-dir.ts stepCwd).

import { addTemplate, type TemplateRef, type TemplateWhere } from './drafts.ts';
import { readShell, type ReadContext } from './native-steps.ts';
import type { Located, NodeReader } from './node-reader.ts';
import { joinWorkDir } from './static-values.ts';

/** The working directory as the step will get it: normalised relative, absolute, or a template kept whole. */
export function readGitHubWorkDir(
  reader: NodeReader,
  loc: Located,
  owner: string,
  templates: TemplateRef[],
  earlierSteps?: readonly string[],
  where: TemplateWhere = 'step',
): string | undefined {
  const text = reader.string(loc, `'working-directory' of ${owner}`, { convert: true });
  if (text === undefined) return undefined;
  if (text.includes('${{')) {
    addTemplate(templates, text, loc, `'working-directory' of ${owner}`, where, earlierSteps);
    return text;
  }
  if (text.startsWith('/')) return text;
  const joined = joinWorkDir(undefined, text);
  if ('reason' in joined) {
    reader.report('invalid_path', `'working-directory' of ${owner}: ${joined.reason}`, loc.at, loc.path);
    return undefined;
  }
  return joined.path;
}

/**
 * `defaults.run` of the workflow or a job: `shell` and `working-directory` into ctx.defaults. A templated
 * working directory is checked with the contexts of `where` (GitHub: the workflow's defaults read none of a
 * job's; a job's read env, matrix, needs, inputs — never steps).
 */
export function readGitHubDefaults(
  ctx: ReadContext,
  loc: Located,
  owner: string,
  templates: TemplateRef[],
  where: 'workflow' | 'task',
): void {
  const { reader } = ctx;
  const fields = reader.map(loc, owner);
  const run = reader.checkKeys(fields ?? [], ['run'], owner).find((field) => field.key === 'run');
  if (run === undefined || run.node === null) return;
  const what = `'run' of ${owner}`;
  for (const field of reader.checkKeys(reader.map(run, what) ?? [], ['shell', 'working-directory'], what)) {
    if (field.node === null) continue;
    if (field.key === 'shell') ctx.defaults.shell = readShell(reader, field, what, undefined);
    else {
      const dir = readGitHubWorkDir(reader, field, what, templates, undefined, where);
      if (dir !== undefined) ctx.defaults.workingDirectory = dir;
    }
  }
}
