// YAML text to a YAML document with positions, refusing hostile nesting before the
// (recursive) composer sees it, and turning YAML errors into issues.

import { Composer, CST, Lexer, LineCounter, Parser, type Document } from 'yaml';
import { makeIssue, type IssueCode, type WorkflowIssue } from './issues.ts';

export type LoadResult =
  | { ok: true; doc: Document.Parsed; lineCounter: LineCounter; issues: WorkflowIssue[] }
  | { ok: false; issues: WorkflowIssue[] };

export function loadYaml(text: string, maxDepth: number): LoadResult {
  const lineCounter = new LineCounter();
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const tooDeep = (offset: number, depth: string) =>
    makeIssue('limit_exceeded', `workflow nests collections ${depth} levels deep; the limit is ${maxDepth} levels`, at(offset), '');

  // The CST parser slows down on very deep flow nesting (seconds for 1 MiB of '['), so a
  // linear lexer pass refuses the obvious cases first.
  const quick = lexerDepth(text, maxDepth);
  if (quick !== undefined) {
    // The line counter learns line starts while the parser runs; here the parser never runs.
    lineCounter.addNewLine(0);
    for (let i = text.indexOf('\n'); i >= 0 && i < quick.offset; i = text.indexOf('\n', i + 1)) lineCounter.addNewLine(i + 1);
    return { ok: false, issues: [tooDeep(quick.offset, `at least ${quick.depth}`)] };
  }
  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  const deep = cstDepth(tokens, maxDepth);
  if (deep !== undefined) return { ok: false, issues: [tooDeep(deep.offset, String(deep.depth))] };

  let doc: Document.Parsed | undefined;
  const issues: WorkflowIssue[] = [];
  for (const next of new Composer({ uniqueKeys: true }).compose(tokens, true, text.length)) {
    if (doc !== undefined) {
      issues.push(makeIssue('yaml_syntax', 'workflow holds more than one YAML document; keep one (remove the second ---)', at(next.range[0]), ''));
      break;
    }
    doc = next;
  }
  if (doc === undefined) return { ok: false, issues }; // compose(…, forceDoc) always yields one; kept for the type
  const seen = new Set<string>();
  for (const error of doc.errors) {
    const code: IssueCode = error.code === 'DUPLICATE_KEY' ? 'duplicate_key' : 'yaml_syntax';
    const message = code === 'duplicate_key' ? duplicateKeyMessage(text, error.pos[0]) : `YAML syntax error: ${error.message}`;
    const key = `${error.pos[0]}:${message}`;
    if (!seen.has(key)) issues.push(makeIssue(code, message, at(error.pos[0]), ''));
    seen.add(key);
  }
  if (issues.some((issue) => issue.code === 'yaml_syntax')) return { ok: false, issues };
  return { ok: true, doc, lineCounter, issues };
}

function duplicateKeyMessage(text: string, offset: number): string {
  const match = /^(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\n]|'')*)'|([^\n,{}[\]]*?))\s*:(?:\s|$)/.exec(text.slice(offset, offset + 200));
  const key = match?.[1] ?? match?.[2]?.replaceAll("''", "'") ?? match?.[3];
  return key === undefined
    ? 'duplicate key; each key may appear only once in a map'
    : `duplicate key '${key}'; each key may appear only once in a map`;
}

/** A lower bound of the nesting depth from lexer tokens: flow brackets, plus `- - -` chains on one line. */
function lexerDepth(text: string, maxDepth: number): { depth: number; offset: number } | undefined {
  let offset = 0;
  let flow = 0;
  let chain = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (token === CST.DOCUMENT || token === CST.FLOW_END || token === CST.SCALAR) continue;
    if (type === 'flow-seq-start' || type === 'flow-map-start') flow++;
    else if (type === 'flow-seq-end' || type === 'flow-map-end') flow = Math.max(0, flow - 1);
    else if (flow === 0 && (type === 'seq-item-ind' || type === 'explicit-key-ind')) chain++;
    else if (type === 'newline') chain = 0;
    else if (type !== 'space') chain = flow === 0 ? 0 : chain;
    if (flow + chain > maxDepth) return { depth: flow + chain, offset };
    offset += token.length;
  }
  return undefined;
}

/** Exact nesting depth of the CST, walked with an explicit stack (never recursion). */
function cstDepth(tokens: CST.Token[], maxDepth: number): { depth: number; offset: number } | undefined {
  const stack: Array<{ token: CST.Token; depth: number }> = tokens.map((token) => ({ token, depth: 0 }));
  let worst: { depth: number; offset: number } | undefined;
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!;
    if (token.type === 'document') {
      if (token.value !== undefined) stack.push({ token: token.value, depth });
      continue;
    }
    if (!CST.isCollection(token)) continue;
    const inner = depth + 1;
    if (inner > maxDepth) {
      // Report the deepest level, at the earliest collection past the limit.
      worst = { depth: Math.max(inner, worst?.depth ?? 0), offset: Math.min(token.offset, worst?.offset ?? token.offset) };
    }
    for (const item of token.items) {
      if (item.key) stack.push({ token: item.key, depth: inner });
      if (item.value) stack.push({ token: item.value, depth: inner });
    }
  }
  return worst;
}
