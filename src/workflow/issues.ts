// Workflow problems as data: the issue shape every validator reports, its stable codes,
// and the "did you mean" suggestion used for misspelt keys and names.

export const ISSUE_CODES = [
  'yaml_syntax',
  'duplicate_key',
  'unknown_key',
  'missing_field',
  'invalid_type',
  'invalid_value',
  'dependency_cycle',
  'unknown_dependency',
  'self_dependency',
  'duplicate_task',
  'invalid_name',
  'limit_exceeded',
  'invalid_expression',
  'unknown_shell',
  'unknown_reference',
  'invalid_path',
  'unknown_input',
  'missing_input',
  'literal_expression',
  'suspicious_condition',
] as const;
export type IssueCode = (typeof ISSUE_CODES)[number];

/**
 * One problem in a workflow. `line` and `column` are 1-based; 0 when no source position applies. The same shape
 * carries a lint warning (CompileResult `warnings`): valid, but probably a mistake; it never fails validation.
 */
export interface WorkflowIssue {
  message: string;
  line: number;
  column: number;
  /** Where in the document, e.g. `tasks.build.steps[0].run`; '' for the whole document. */
  path: string;
  code: IssueCode;
}

export interface Pos {
  line: number;
  column: number;
}

export const START: Pos = { line: 1, column: 1 };

export function makeIssue(code: IssueCode, message: string, at: Pos, path: string): WorkflowIssue {
  return { message, line: at.line, column: at.column, path, code };
}

/** Issues in document order, so a user reads them top to bottom. */
export function sortIssues(issues: WorkflowIssue[]): WorkflowIssue[] {
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => a.issue.line - b.issue.line || a.issue.column - b.issue.column || a.index - b.index)
    .map((entry) => entry.issue);
}

/** Levenshtein distance, stopping early once it exceeds `max` (names are short; this stays cheap). */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > max) return max + 1;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The closest candidate within 2 edits (case-insensitive), or undefined. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase(), 2);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** "; did you mean 'x'?" or '' — appended to messages about unknown names. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = suggest(word, candidates);
  return match === undefined ? '' : `; did you mean '${match}'?`;
}
