// `if:` of GitHub jobs and steps ("Workflow syntax", jobs.<job_id>.if and steps[*].if; "Expressions"): bare text
// is an expression, one `${{ }}` around all of it is the inner expression, and text mixed with `${{ }}` is a
// string template — as actions/runner reads it, `format('text {0}', expr)`, which is truthy when not empty. That
// last form is kept (GitHub runs it) and gets a lint warning, since it is nearly always a mistake.

import type { TemplateRef, TemplateWhere } from './drafts.ts';
import { conditionSource } from './condition.ts';
import { readCondition } from './native-control.ts';
import { parseExpression } from './expression-parser.ts';
import type { Located, NodeReader } from './node-reader.ts';
import { splitTemplate } from './template.ts';

/** Reads a GitHub `if`; a mixed condition becomes its `format(…)` expression, with a warning. */
export function readGitHubCondition(
  reader: NodeReader,
  loc: Located,
  owner: string,
  templates: TemplateRef[],
  where: TemplateWhere,
  earlierSteps?: readonly string[],
): string | undefined {
  return readCondition(reader, loc, owner, templates, where, earlierSteps, (text) => {
    const mixed = mixedConditionSource(text);
    if (mixed === undefined) return conditionSource(text);
    const message = `'if' of ${owner} mixes text and \${{ }}, so it is a string (${mixed}) and true whenever that is not empty, as on GitHub; write the whole condition bare or inside one \${{ }}`;
    reader.warn('suspicious_condition', message, loc.at, loc.path);
    return mixed;
  });
}

/**
 * The expression GitHub evaluates for a condition that mixes text and `${{ }}`: `format(pattern, e1, e2, …)`
 * where the text's braces are doubled and quotes doubled; undefined when the condition is not mixed (bare, or
 * one `${{ }}` around all of it). Throws ExpressionError when a part does not parse.
 */
export function mixedConditionSource(condition: string): string | undefined {
  const trimmed = condition.trim();
  if (!trimmed.includes('${{')) return undefined;
  const parts = splitTemplate(trimmed);
  if (parts.length === 1 && parts[0]?.kind === 'expression') return undefined;
  let pattern = '';
  const args: string[] = [];
  for (const part of parts) {
    if (part.kind === 'text') pattern += part.text.replace(/[{}]/g, (brace) => brace + brace);
    else {
      parseExpression(part.source); // a bad part is reported here, with its own message
      pattern += `{${args.length}}`;
      args.push(part.source.trim() === '' ? "''" : `(${part.source.trim()})`);
    }
  }
  return `format('${pattern.replace(/'/g, "''")}'${args.map((arg) => `, ${arg}`).join('')})`;
}
