// Strings holding `${{ expr }}` placeholders: splitting them into text and expressions, and
// evaluating them into final strings.

import { ExpressionError } from './expression-error.ts';
import { evaluate, stringify, type ExpressionContext } from './expression-eval.ts';
import { MAX_EXPRESSION_STRING, type RuntimeFunctions, type StatusContext } from './expression-functions.ts';
import { parseExpression, type Expr } from './expression-parser.ts';

export type TemplatePart =
  | { kind: 'text'; text: string }
  /** `source` is the text between `${{` and `}}`; `offset` is where it starts in the template. */
  | { kind: 'expression'; source: string; offset: number };

const OPEN = '${{';
const CLOSE = '}}';

export function hasExpressions(template: string): boolean {
  return template.includes(OPEN);
}

/** Splits a template; a `}}` inside a quoted string does not close the expression. */
export function splitTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let cursor = 0;
  for (;;) {
    const open = template.indexOf(OPEN, cursor);
    if (open < 0) break;
    if (open > cursor) parts.push({ kind: 'text', text: template.slice(cursor, open) });
    const start = open + OPEN.length;
    const end = findClose(template, start);
    if (end < 0) throw new ExpressionError("unterminated expression: missing '}}'", template.slice(start), 0);
    parts.push({ kind: 'expression', source: template.slice(start, end), offset: start });
    cursor = end + CLOSE.length;
  }
  if (cursor < template.length) parts.push({ kind: 'text', text: template.slice(cursor) });
  return parts;
}

function findClose(template: string, from: number): number {
  let inString = false;
  for (let i = from; i < template.length; i++) {
    const ch = template[i];
    if (ch === "'")
      inString = !inString; // '' (an escaped quote) toggles twice: still inside
    else if (!inString && ch === '}' && template[i + 1] === '}') return i;
  }
  return -1;
}

/** Every expression of a template, parsed; throws ExpressionError for the first bad one. */
export function parseTemplate(template: string): Array<{ source: string; offset: number; expr: Expr }> {
  const parsed: Array<{ source: string; offset: number; expr: Expr }> = [];
  for (const part of splitTemplate(template)) {
    if (part.kind === 'expression')
      parsed.push({ source: part.source, offset: part.offset, expr: parseExpression(part.source) });
  }
  return parsed;
}

/**
 * Replaces every `${{ expr }}` with its value as text. Throws only ExpressionError: bad syntax, a
 * context name that does not exist, a function failing (bad JSON for fromJSON, hashFiles without
 * `functions.hashFiles`, a status function without `status`). A missing property is ''.
 */
export function evaluateTemplate(
  template: string,
  ctx: ExpressionContext,
  o: { status?: StatusContext; functions?: RuntimeFunctions } = {},
): string {
  if (!hasExpressions(template)) return template;
  let result = '';
  for (const part of splitTemplate(template)) {
    const text =
      part.kind === 'text'
        ? part.text
        : stringify(evaluate(parseExpression(part.source), ctx, part.source, o));
    if (result.length + text.length > MAX_EXPRESSION_STRING) {
      const reason = `the template would make a string of more than ${MAX_EXPRESSION_STRING} characters; the limit is ${MAX_EXPRESSION_STRING} (16 Mi) characters`;
      throw new ExpressionError(reason, part.kind === 'text' ? part.text.slice(0, 40) : part.source, 0);
    }
    result += text;
  }
  return result;
}
