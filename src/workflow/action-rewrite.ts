// A composite action's expressions moved into the calling job: the action's steps become the job's steps at
// compile time, so what the action reads from its own scope is rewritten to what the job can read —
// `inputs.x` to the caller's `with:` value (or the input's default), `steps.s` to the job's step `<caller>/s`,
// and `github.action_path` to the action's directory (env.GITHUB_ACTION_PATH, set by the runner).

import { ExpressionError } from './expression-error.ts';
import { tokenize, type Token } from './expression-lexer.ts';
import { splitTemplate } from './template.ts';

export interface ActionScope {
  /** Input name (lower case) → an expression, in the job's scope, giving the input's value as text. */
  inputs: ReadonlyMap<string, string>;
  /** The names of the action's steps in the job start with this (`caller/`). */
  stepPrefix: string;
}

/** One expression (the text between `${{` and `}}`, or a bare `if`) rewritten for the calling job. */
export function rewriteExpression(source: string, scope: ActionScope): string {
  const tokens = tokenize(source);
  let out = '';
  let cursor = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind !== 'identifier' || tokens[i - 1]?.kind === 'dot' || tokens[i + 1]?.kind === 'lparen')
      continue;
    const root = token.text.toLowerCase();
    if (root !== 'inputs' && root !== 'steps' && root !== 'github') continue;
    const member = readMember(tokens, i + 1);
    let replacement: string;
    if (root === 'github') {
      if (member?.name.toLowerCase() !== 'action_path') continue;
      replacement = 'env.GITHUB_ACTION_PATH';
    } else if (member === undefined) {
      throw new ExpressionError(
        `a composite action reads '${token.text}' one name at a time (${root}.<name>), not as a whole`,
        source,
        token.position,
      );
    } else if (root === 'inputs') replacement = `(${scope.inputs.get(member.name.toLowerCase()) ?? "''"})`;
    else replacement = `steps[${quote(scope.stepPrefix + member.name)}]`;
    out += source.slice(cursor, token.position) + replacement;
    const last = tokens[member?.end ?? i]!;
    cursor = last.position + last.text.length;
    i = member?.end ?? i;
  }
  return out + source.slice(cursor);
}

/** A template (text with `${{ }}` parts) with each expression rewritten. */
export function rewriteTemplate(text: string, scope: ActionScope): string {
  if (!text.includes('${{')) return text;
  return splitTemplate(text)
    .map((part) =>
      part.kind === 'text' ? part.text : `\${{ ${rewriteExpression(part.source, scope).trim()} }}`,
    )
    .join('');
}

/** A template as one expression whose value is the template's text (GitHub passes inputs as strings). */
export function templateExpression(text: string): string {
  const parts = splitTemplate(text);
  const expressions = parts.flatMap((part) => (part.kind === 'expression' ? [part.source] : []));
  if (expressions.length === 0) return quote(text);
  let index = 0;
  const format = parts
    .map((part) =>
      part.kind === 'text' ? part.text.replaceAll('{', '{{').replaceAll('}', '}}') : `{${index++}}`,
    )
    .join('');
  return `format(${quote(format)}, ${expressions.map((source) => `(${source})`).join(', ')})`;
}

/** `.name` or `['name']` at `from`: the name and the index of its last token. */
function readMember(tokens: Token[], from: number): { name: string; end: number } | undefined {
  const first = tokens[from];
  const second = tokens[from + 1];
  if (first?.kind === 'dot' && second !== undefined && /^[A-Za-z_]/.test(second.text))
    return { name: second.text, end: from + 1 };
  if (first?.kind === 'lbracket' && second?.kind === 'string' && tokens[from + 2]?.kind === 'rbracket')
    return { name: String(second.value), end: from + 2 };
  return undefined;
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
