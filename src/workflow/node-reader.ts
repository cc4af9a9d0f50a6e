// Typed reading of YAML nodes with positions: maps, lists, scalars and aliases, reporting
// every wrong shape as an issue and counting alias uses against the alias limit.

import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { didYouMean, makeIssue, type IssueCode, type Pos, type WorkflowIssue } from './issues.ts';

/** A node with where it is: `at` is the node's position (its key's when the value is empty). */
export interface Located {
  node: Node | null;
  at: Pos;
  path: string;
}

export interface Field extends Located {
  key: string;
  keyAt: Pos;
}

export type ScalarValue = string | number | boolean | null;

export class NodeReader {
  readonly issues: WorkflowIssue[] = [];
  /** Lint findings: probably a mistake, but valid (they never fail validation). */
  readonly warnings: WorkflowIssue[] = [];
  readonly #lineCounter: LineCounter;
  readonly #anchors = new Map<string, Array<{ offset: number; node: Node }>>();
  readonly #maxAliases: number;
  readonly #text: string | undefined;
  #aliasUses = 0;

  /** True once aliases were used past the limit; what was read after that is incomplete. */
  get aliasLimitExceeded(): boolean {
    return this.#aliasUses > this.#maxAliases;
  }

  /** `text` is the document's source, for positions inside a scalar (positionOf). */
  constructor(doc: Document.Parsed, lineCounter: LineCounter, maxAliases: number, text?: string) {
    this.#lineCounter = lineCounter;
    this.#maxAliases = maxAliases;
    this.#text = text;
    this.#collectAnchors(doc.contents);
  }

  /** The document's root as a Located value. */
  root(doc: Document.Parsed): Located {
    return {
      node: this.resolve(doc.contents),
      at: this.position(doc.contents, { line: 1, column: 1 }),
      path: '',
    };
  }

  position(node: Node | null | undefined, fallback: Pos): Pos {
    const offset = node?.range?.[0];
    if (offset === undefined) return fallback;
    const { line, col } = this.#lineCounter.linePos(offset);
    return { line, column: col };
  }

  /**
   * Where the `nth` (0-based) occurrence of `needle` in a scalar's value stands in the source: found by
   * counting the same text in the node's source (escapes in a quoted scalar never make `{{` or `}}`). Falls
   * back to the node's own position when the source does not hold it as many times.
   */
  positionOf(loc: Located, needle: string, nth: number): Pos {
    const range = loc.node?.range;
    if (this.#text === undefined || range === undefined || range === null) return loc.at;
    let at = range[0] - 1;
    for (let i = 0; i <= nth; i++) {
      at = this.#text.indexOf(needle, at + 1);
      if (at < 0 || at >= range[1]) return loc.at;
    }
    const { line, col } = this.#lineCounter.linePos(at);
    return { line, column: col };
  }

  report(code: IssueCode, message: string, at: Pos, path: string): void {
    this.issues.push(makeIssue(code, message, at, path));
  }

  warn(code: IssueCode, message: string, at: Pos, path: string): void {
    this.warnings.push(makeIssue(code, message, at, path));
  }

  /** Follows an alias to its anchored node. Each use counts against the limit; past it, null. */
  resolve(node: unknown): Node | null {
    if (!isAlias(node)) return isMap(node) || isSeq(node) || isScalar(node) ? node : null;
    this.#aliasUses++;
    if (this.#aliasUses === this.#maxAliases + 1) {
      const message = `workflow uses more than ${this.#maxAliases} aliases; the limit is ${this.#maxAliases} alias uses per workflow`;
      this.report('limit_exceeded', message, this.position(node, { line: 1, column: 1 }), '');
    }
    if (this.#aliasUses > this.#maxAliases) return null;
    // YAML: an alias refers to the latest anchor of that name before it.
    const offset = node.range?.[0] ?? 0;
    const candidates = this.#anchors.get(node.source) ?? [];
    const target = candidates.findLast((candidate) => candidate.offset < offset)?.node;
    return target === undefined ? null : this.resolve(target);
  }

  describe(node: Node | null): string {
    if (node === null) return 'empty';
    if (isMap(node)) return 'a map';
    if (isSeq(node)) return 'a list';
    const value: unknown = isScalar(node) ? node.value : undefined;
    if (value === null || value === undefined) return 'empty';
    if (typeof value === 'string') return 'a string';
    if (typeof value === 'number' || typeof value === 'bigint') return `a number (${String(value)})`;
    if (typeof value === 'boolean') return `a boolean (${String(value)})`;
    return 'an unsupported value';
  }

  /** The entries of a map, keys as strings, or undefined (with an issue) when it is not a map. */
  map(loc: Located, what: string): Field[] | undefined {
    if (!isMap(loc.node)) {
      this.report('invalid_type', `${what} must be a map, not ${this.describe(loc.node)}`, loc.at, loc.path);
      return undefined;
    }
    const fields: Field[] = [];
    for (const pair of loc.node.items) {
      const keyNode = this.resolve(pair.key);
      const keyAt = this.position(isAlias(pair.key) ? pair.key : keyNode, loc.at);
      const key = isScalar(keyNode) ? scalarText(keyNode.value) : undefined;
      if (key === undefined) {
        this.report(
          'invalid_type',
          `keys in ${what} must be strings, not ${this.describe(keyNode)}`,
          keyAt,
          loc.path,
        );
        continue;
      }
      const rawValue = pair.value as unknown;
      const node = this.resolve(rawValue);
      const path = loc.path === '' ? key : `${loc.path}.${key}`;
      fields.push({ key, keyAt, node, at: this.position(isAlias(rawValue) ? rawValue : node, keyAt), path });
    }
    return fields;
  }

  /** The items of a list, or undefined (with an issue) when it is not a list. */
  list(loc: Located, what: string): Located[] | undefined {
    if (!isSeq(loc.node)) {
      this.report('invalid_type', `${what} must be a list, not ${this.describe(loc.node)}`, loc.at, loc.path);
      return undefined;
    }
    return loc.node.items.map((item, index) => {
      const node = this.resolve(item);
      return { node, at: this.position(isAlias(item) ? item : node, loc.at), path: `${loc.path}[${index}]` };
    });
  }

  /** Reports every key not in `allowed`, suggesting the closest allowed one. */
  checkKeys(
    fields: Field[],
    allowed: readonly string[],
    owner: string,
    hints: Record<string, string> = {},
  ): Field[] {
    const known: Field[] = [];
    for (const field of fields) {
      if (allowed.includes(field.key)) {
        known.push(field);
        continue;
      }
      const hint =
        hints[field.key] ?? (didYouMean(field.key, allowed) || `; allowed keys: ${allowed.join(', ')}`);
      this.report('unknown_key', `unknown key '${field.key}' in ${owner}${hint}`, field.keyAt, field.path);
    }
    return known;
  }

  /** A string; with `convert`, numbers and booleans become their text and empty becomes ''. */
  string(loc: Located, what: string, options: { convert?: boolean } = {}): string | undefined {
    const value = isScalar(loc.node) ? (loc.node.value as unknown) : undefined;
    if (typeof value === 'string') return value;
    if (options.convert === true && isScalar(loc.node)) {
      const text = scalarText(value);
      if (text !== undefined) return text;
    }
    this.report('invalid_type', `${what} must be a string, not ${this.describe(loc.node)}`, loc.at, loc.path);
    return undefined;
  }

  /** A string or a list of strings (`depends_on: build` and `depends_on: [build]`). */
  stringList(loc: Located, what: string): Array<{ value: string; at: Pos; path: string }> | undefined {
    const items = isSeq(loc.node) ? this.list(loc, what) : [loc];
    if (items === undefined) return undefined;
    const values: Array<{ value: string; at: Pos; path: string }> = [];
    for (const item of items) {
      const value = this.string(
        item,
        isSeq(loc.node) ? `each entry of ${what}` : `${what} (a string or a list of strings)`,
      );
      if (value !== undefined) values.push({ value, at: item.at, path: item.path });
    }
    return values;
  }

  scalar(loc: Located): ScalarValue | undefined {
    if (!isScalar(loc.node)) return undefined;
    const value: unknown = loc.node.value;
    return value === null ||
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean'
      ? value
      : undefined;
  }

  /** Anchors by name in document order, found with an explicit stack (the AST is already depth-limited). */
  #collectAnchors(root: unknown): void {
    const stack: unknown[] = [root];
    while (stack.length > 0) {
      const node = stack.pop();
      if (isMap(node) || isSeq(node) || isScalar(node)) {
        if (node.anchor !== undefined && node.anchor !== null) {
          const list = this.#anchors.get(node.anchor) ?? [];
          list.push({ offset: node.range?.[0] ?? 0, node });
          this.#anchors.set(node.anchor, list);
        }
      }
      if (isMap(node)) for (const pair of node.items) stack.push(pair.key, pair.value);
      else if (isSeq(node)) for (const item of node.items) stack.push(item);
    }
    for (const list of this.#anchors.values()) list.sort((a, b) => a.offset - b.offset);
  }
}

/** Text of a scalar value as env values and keys see it: null is ''. */
export function scalarText(value: unknown): string | undefined {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return undefined;
}
