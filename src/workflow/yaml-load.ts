// YAML text to a YAML document with positions, refusing hostile nesting before the
// (recursive) composer sees it, and turning YAML errors into issues.

import { Composer, CST, isMap, isScalar, isSeq, Lexer, LineCounter, Parser, type Document } from 'yaml';
import { makeIssue, type Pos, type WorkflowIssue } from './issues.ts';

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
    makeIssue(
      'limit_exceeded',
      `workflow nests collections ${depth} levels deep; the limit is ${maxDepth} levels`,
      at(offset),
      '',
    );

  // The CST parser slows down on very deep flow nesting (seconds for 1 MiB of '['), so a
  // linear lexer pass refuses the obvious cases first.
  const quick = lexerDepth(text, maxDepth);
  if (quick !== undefined) {
    // The line counter learns line starts while the parser runs; here the parser never runs.
    lineCounter.addNewLine(0);
    for (let i = text.indexOf('\n'); i >= 0 && i < quick.offset; i = text.indexOf('\n', i + 1))
      lineCounter.addNewLine(i + 1);
    return { ok: false, issues: [tooDeep(quick.offset, `at least ${quick.depth}`)] };
  }
  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  const deep = cstDepth(tokens, maxDepth);
  if (deep !== undefined) return { ok: false, issues: [tooDeep(deep.offset, String(deep.depth))] };

  let doc: Document.Parsed | undefined;
  const issues: WorkflowIssue[] = [];
  // uniqueKeys is off: the composer compares every new key with all earlier ones, quadratic in
  // the keys of a map (minutes for 100,000 keys). findDuplicateKeys does it with one Set per map.
  for (const next of new Composer({ uniqueKeys: false }).compose(tokens, true, text.length)) {
    if (doc !== undefined) {
      issues.push(
        makeIssue(
          'yaml_syntax',
          'workflow holds more than one YAML document; keep one (remove the second ---)',
          at(next.range[0]),
          '',
        ),
      );
      break;
    }
    doc = next;
  }
  if (doc === undefined) return { ok: false, issues }; // compose(…, forceDoc) always yields one; kept for the type
  const seen = new Set<string>();
  for (const error of doc.errors) {
    const message = `YAML syntax error: ${error.message}`;
    const key = `${error.pos[0]}:${message}`;
    if (!seen.has(key)) issues.push(makeIssue('yaml_syntax', message, at(error.pos[0]), ''));
    seen.add(key);
  }
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    doc,
    lineCounter,
    issues: [...findForeignTags(doc.contents, at), ...findDuplicateKeys(doc.contents, at)],
  };
}

const CORE_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'seq', 'map'].map((t) => `tag:yaml.org,2002:${t}`),
);

/**
 * Explicit tags outside the YAML core schema (`!!js/function`, `!!binary`, `!custom`): refused, not
 * read as a string or bytes. The non-specific `!` (a plain string) is core YAML and allowed.
 */
function findForeignTags(root: unknown, at: (offset: number) => Pos): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isSeq(node)) stack.push(...node.items);
    else if (isMap(node)) for (const pair of node.items) stack.push(pair.key, pair.value);
    if (!(isScalar(node) || isSeq(node) || isMap(node))) continue;
    const tag = node.tag;
    if (tag === undefined || tag === null || tag === '!' || CORE_TAGS.has(tag)) continue;
    const shown = tag.startsWith('tag:yaml.org,2002:') ? `!!${tag.slice('tag:yaml.org,2002:'.length)}` : tag;
    const message = `YAML tag '${shown}' is not allowed; only the core schema's tags (!!str, !!int, !!float, !!bool, !!null, !!seq, !!map) may be used: remove the tag`;
    issues.push(makeIssue('invalid_value', message, at(node.range?.[0] ?? 0), ''));
  }
  return issues;
}

/** Keys repeated within one map (rejected, not last-wins), found with an explicit stack. */
function findDuplicateKeys(root: unknown, at: (offset: number) => Pos): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isSeq(node)) for (const item of node.items) stack.push(item);
    if (!isMap(node)) continue;
    const first = new Map<unknown, number>();
    for (const pair of node.items) {
      stack.push(pair.value);
      if (!isScalar(pair.key)) continue;
      const offset = pair.key.range?.[0] ?? 0;
      const earlier = first.get(pair.key.value);
      if (earlier === undefined) {
        first.set(pair.key.value, offset);
        continue;
      }
      const message = `duplicate key '${String(pair.key.value)}'; each key may appear only once in a map (the first is at line ${at(earlier).line})`;
      issues.push(makeIssue('duplicate_key', message, at(offset), ''));
    }
  }
  return issues;
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
      worst = {
        depth: Math.max(inner, worst?.depth ?? 0),
        offset: Math.min(token.offset, worst?.offset ?? token.offset),
      };
    }
    for (const item of token.items) {
      if (item.key) stack.push({ token: item.key, depth: inner });
      if (item.value) stack.push({ token: item.value, depth: inner });
    }
  }
  return worst;
}
