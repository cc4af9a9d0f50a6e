// `baton validate` for GitHub workflows: a `${{` in a key, or in a field Baton does not evaluate, would be used as
// literal text (a directory named `${{ matrix.d }}`, a shell called `${{ env.SHELL }}`). Every such place is
// reported with its line:column. The fields that are evaluated are the ones the dialect reader recorded as
// templates or conditions; a place that already has an issue is not reported twice.

import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { WorkflowDraft } from './drafts.ts';
import { makeIssue, type Pos, type WorkflowIssue } from './issues.ts';
import type { NodeReader } from './node-reader.ts';

/** Subtrees that are not read as Baton fields (GitHub hosting keys, or evaluated by the code that reads them). */
const SKIPPED_ROOT = new Set(['on', 'run-name', 'permissions', 'concurrency']);
const SKIPPED_JOB = new Set(['name', 'permissions', 'concurrency', 'environment', 'with', 'secrets']);
const SKIPPED_STEP = new Set(['with']);
/** Shown as written: GitHub evaluates `${{ }}` in a step's name, Baton does not (its name is also its id). */
const DISPLAY_ONLY = 'name';

export interface LiteralFindings {
  issues: WorkflowIssue[];
  warnings: WorkflowIssue[];
}

export function checkLiteralExpressions(
  doc: Document.Parsed,
  reader: NodeReader,
  draft: WorkflowDraft,
  known: readonly WorkflowIssue[],
): LiteralFindings {
  const handled = new Set<string>();
  const key = (at: Pos) => `${at.line}:${at.column}`;
  for (const ref of [...draft.templates, ...draft.tasks.flatMap((task) => task.templates)])
    handled.add(key(ref.at));
  for (const issue of known) handled.add(key(issue));
  const found: LiteralFindings = { issues: [], warnings: [] };

  const visit = (node: unknown, path: string[]): void => {
    if (isAlias(node) || node === null || node === undefined) return;
    if (isMap(node)) {
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const name = isScalar(keyNode) ? String(keyNode.value) : '';
        if (isScalar(keyNode) && typeof keyNode.value === 'string' && keyNode.value.includes('${{')) {
          const at = reader.position(keyNode, { line: 0, column: 0 });
          if (!handled.has(key(at))) {
            const message = `the key '${short(keyNode.value)}' in ${where(path)} holds \${{ }}; keys are never evaluated, so it would be used as written`;
            found.issues.push(makeIssue('literal_expression', message, at, shownPath(path)));
          }
        }
        if (skipped(path, name)) continue;
        visit(pair.value, [...path, name]);
      }
      return;
    }
    if (isSeq(node)) {
      node.items.forEach((item, index) => visit(item, [...path, `[${index}]`]));
      return;
    }
    if (!isScalar(node) || typeof node.value !== 'string' || !node.value.includes('${{')) return;
    const at = reader.position(node as Node, { line: 0, column: 0 });
    if (handled.has(key(at))) return;
    const field = shownPath(path);
    if (isStepField(path, DISPLAY_ONLY)) {
      const message = `'${field}' holds \${{ }}, which Baton does not evaluate in a step's name (GitHub does): the step is named '${short(node.value)}' as written`;
      found.warnings.push(makeIssue('literal_expression', message, at, field));
      return;
    }
    const message = `'${field}' holds \${{ }}, but Baton does not evaluate this field, so '${short(node.value)}' would be used as written; give the value itself`;
    found.issues.push(makeIssue('literal_expression', message, at, field));
  };
  visit(doc.contents, []);
  return found;
}

function skipped(path: string[], name: string): boolean {
  if (path.length === 0) return SKIPPED_ROOT.has(name);
  if (path.length === 2 && path[0] === 'jobs') return SKIPPED_JOB.has(name);
  return isStepPath(path) && SKIPPED_STEP.has(name);
}

/** `jobs.<id>.steps[i]` */
function isStepPath(path: string[]): boolean {
  return path.length === 4 && path[0] === 'jobs' && path[2] === 'steps';
}

function isStepField(path: string[], field: string): boolean {
  return path.length === 5 && isStepPath(path.slice(0, 4)) && path[4] === field;
}

function shownPath(path: string[]): string {
  return path.reduce((all, part) => (part.startsWith('[') || all === '' ? all + part : `${all}.${part}`), '');
}

function where(path: string[]): string {
  return path.length === 0 ? 'the workflow' : `'${shownPath(path)}'`;
}

function short(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 60)}…` : line;
}
