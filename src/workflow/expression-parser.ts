// Recursive-descent parser for `${{ }}` expressions: tokens in, a small AST out.
// Precedence, loosest first: ||, &&, == !=, < <= > >=, !, then calls, property/index access and `*`.

import { ExpressionError } from './expression-error.ts';
import { FUNCTIONS } from './expression-functions.ts';
import { tokenize, type Token, type TokenKind } from './expression-lexer.ts';

export type Literal = string | number | boolean | null;
export type BinaryOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type Expr =
  | { kind: 'literal'; value: Literal; position: number }
  /** `name` is lower-cased: context names are case-insensitive, as in GitHub Actions. */
  | { kind: 'context'; name: string; position: number }
  | { kind: 'property'; object: Expr; name: string; position: number }
  | { kind: 'index'; object: Expr; index: Expr; position: number }
  /** `object.*` or `object[*]`: the values of an array or object, as a filtered array. */
  | { kind: 'filter'; object: Expr; position: number }
  | { kind: 'not'; operand: Expr; position: number }
  | { kind: 'compare'; operator: BinaryOperator; left: Expr; right: Expr; position: number }
  /** `a || b || c` is one node with three operands (no deep left spine to recurse down). */
  | { kind: 'logical'; operator: '&&' | '||'; operands: Expr[]; position: number }
  /** `name` is the function's canonical spelling (`toJSON`), whatever case the source used. */
  | { kind: 'call'; name: string; args: Expr[]; position: number };

/** Parentheses, `!`, `[ ]` and call arguments may nest this deep (the parser recurses on them). */
export const MAX_EXPRESSION_DEPTH = 64;
/**
 * The parse tree may be this deep, counting comparison chains and property chains too: the
 * evaluator recurses on it, and a deeper tree could overflow the stack.
 */
export const MAX_TREE_DEPTH = 256;

const COMPARE: Partial<Record<TokenKind, BinaryOperator>> = {
  eq: '==',
  ne: '!=',
  lt: '<',
  le: '<=',
  gt: '>',
  ge: '>=',
};

export function parseExpression(expression: string): Expr {
  const parser = new ExpressionParser(expression, tokenize(expression));
  return parser.parseAll();
}

class ExpressionParser {
  readonly #source: string;
  readonly #tokens: Token[];
  #index = 0;
  #depth = 0;

  constructor(source: string, tokens: Token[]) {
    this.#source = source;
    this.#tokens = tokens;
  }

  parseAll(): Expr {
    if (this.#peek().kind === 'eof') throw this.#error('empty expression', this.#peek());
    const expr = this.#logical('or');
    const rest = this.#peek();
    if (rest.kind !== 'eof') throw this.#error(`unexpected '${rest.text}'`, rest);
    const deepest = deepestNode(expr);
    if (deepest !== undefined) {
      const reason = `expression is more than ${MAX_TREE_DEPTH} operators and property accesses deep; split it up`;
      throw new ExpressionError(reason, this.#source, deepest.position);
    }
    return expr;
  }

  #peek(): Token {
    // The lexer always ends with 'eof', and #next never moves past it.
    return this.#tokens[this.#index] ?? this.#tokens[this.#tokens.length - 1]!;
  }

  #next(): Token {
    const token = this.#peek();
    if (token.kind !== 'eof') this.#index++;
    return token;
  }

  #error(reason: string, token: Token): ExpressionError {
    return new ExpressionError(reason, this.#source, token.position);
  }

  #logical(level: 'or' | 'and'): Expr {
    const operand = (): Expr => (level === 'or' ? this.#logical('and') : this.#equality());
    const first = operand();
    const kind = level === 'or' ? 'or' : 'and';
    if (this.#peek().kind !== kind) return first;
    const position = this.#peek().position;
    const operands = [first];
    while (this.#peek().kind === kind) {
      this.#next();
      operands.push(operand());
    }
    return { kind: 'logical', operator: level === 'or' ? '||' : '&&', operands, position };
  }

  #chain(next: () => Expr, kinds: readonly TokenKind[]): Expr {
    let left = next();
    for (let op = this.#peek(); kinds.includes(op.kind); op = this.#peek()) {
      this.#next();
      left = { kind: 'compare', operator: COMPARE[op.kind]!, left, right: next(), position: op.position };
    }
    return left;
  }

  #equality(): Expr {
    return this.#chain(() => this.#comparison(), ['eq', 'ne']);
  }

  #comparison(): Expr {
    return this.#chain(() => this.#unary(), ['lt', 'le', 'gt', 'ge']);
  }

  #nested<T>(token: Token, parse: () => T): T {
    if (++this.#depth > MAX_EXPRESSION_DEPTH)
      throw this.#error(`expression nests deeper than ${MAX_EXPRESSION_DEPTH} levels`, token);
    const result = parse();
    this.#depth--;
    return result;
  }

  #unary(): Expr {
    const token = this.#peek();
    if (token.kind !== 'not') return this.#postfix();
    this.#next();
    return this.#nested(token, () => ({ kind: 'not', operand: this.#unary(), position: token.position }));
  }

  #postfix(): Expr {
    const first = this.#peek().kind;
    let expr = this.#primary();
    // As in GitHub, a bare literal takes no '.' or '[' ('abc'[0] is an error; ('abc')[0] is null).
    const literal = ['string', 'number', 'true', 'false', 'null'].includes(first);
    for (;;) {
      const token = this.#peek();
      if (token.kind !== 'dot' && token.kind !== 'lbracket') return expr;
      if (literal) throw this.#error(`unexpected '${token.text}' after a literal`, token);
      this.#next();
      if (token.kind === 'dot') {
        const name = this.#next();
        if (name.kind === 'star') {
          expr = { kind: 'filter', object: expr, position: name.position };
          continue;
        }
        if (
          name.kind !== 'identifier' &&
          name.kind !== 'true' &&
          name.kind !== 'false' &&
          name.kind !== 'null'
        ) {
          throw this.#error(
            name.kind === 'eof'
              ? "expected a property name after '.'"
              : `expected a property name after '.', found '${name.text}'`,
            name,
          );
        }
        expr = { kind: 'property', object: expr, name: name.text, position: name.position };
      } else if (this.#peek().kind === 'star') {
        this.#next();
        this.#expect('rbracket', "']'");
        expr = { kind: 'filter', object: expr, position: token.position };
      } else {
        const index = this.#nested(token, () => this.#logical('or'));
        this.#expect('rbracket', "']'");
        expr = { kind: 'index', object: expr, index, position: token.position };
      }
    }
  }

  #primary(): Expr {
    const token = this.#next();
    switch (token.kind) {
      case 'string':
      case 'number':
        return { kind: 'literal', value: token.value ?? null, position: token.position };
      case 'true':
      case 'false':
        return { kind: 'literal', value: token.kind === 'true', position: token.position };
      case 'null':
        return { kind: 'literal', value: null, position: token.position };
      case 'identifier':
        if (this.#peek().kind === 'lparen') return this.#call(token);
        return { kind: 'context', name: token.text.toLowerCase(), position: token.position };
      case 'lparen': {
        const inner = this.#nested(token, () => this.#logical('or'));
        this.#expect('rparen', "')'");
        return inner;
      }
      case 'eof':
        throw this.#error('unexpected end of expression', token);
      default:
        throw this.#error(`unexpected '${token.text}'`, token);
    }
  }

  /** A function call; names are case-insensitive (`toJson` is `toJSON`), arity is checked here. */
  #call(name: Token): Expr {
    const fn = FUNCTIONS.get(name.text.toLowerCase());
    if (fn === undefined) {
      const known = [...FUNCTIONS.values()].map((candidate) => candidate.name).join(', ');
      throw this.#error(`unknown function '${name.text}()'; functions are ${known}`, name);
    }
    const open = this.#next();
    const args = this.#nested(open, () => {
      const list: Expr[] = [];
      if (this.#peek().kind === 'rparen') return list;
      for (;;) {
        list.push(this.#logical('or'));
        if (this.#peek().kind !== 'comma') return list;
        this.#next();
      }
    });
    this.#expect('rparen', "')'");
    if (args.length < fn.minArgs || args.length > fn.maxArgs) {
      const expected =
        fn.minArgs === fn.maxArgs
          ? `${fn.minArgs} argument${fn.minArgs === 1 ? '' : 's'}`
          : fn.maxArgs === Infinity
            ? `at least ${fn.minArgs} argument${fn.minArgs === 1 ? '' : 's'}`
            : `${fn.minArgs} to ${fn.maxArgs} arguments`;
      throw this.#error(`${fn.name}() takes ${expected}, not ${args.length}`, name);
    }
    return { kind: 'call', name: fn.name, args, position: name.position };
  }

  #expect(kind: TokenKind, what: string): void {
    const token = this.#next();
    if (token.kind !== kind) {
      throw this.#error(
        token.kind === 'eof'
          ? `expected ${what} before the end of the expression`
          : `expected ${what}, found '${token.text}'`,
        token,
      );
    }
  }
}

/** The first node deeper than MAX_TREE_DEPTH, or undefined. */
function deepestNode(root: Expr): Expr | undefined {
  const pending: Array<[Expr, number]> = [[root, 1]];
  while (pending.length > 0) {
    const [expr, depth] = pending.pop()!;
    if (depth > MAX_TREE_DEPTH) return expr;
    for (const child of childNodes(expr)) pending.push([child, depth + 1]);
  }
  return undefined;
}

function childNodes(expr: Expr): Expr[] {
  switch (expr.kind) {
    case 'property':
    case 'filter':
      return [expr.object];
    case 'index':
      return [expr.object, expr.index];
    case 'not':
      return [expr.operand];
    case 'compare':
      return [expr.left, expr.right];
    case 'logical':
      return expr.operands;
    case 'call':
      return expr.args;
    case 'context':
    case 'literal':
      return [];
  }
}

/** Every node of an expression, found with an explicit stack. */
export function walkExpression(root: Expr, visit: (expr: Expr) => void): void {
  const pending: Expr[] = [root];
  while (pending.length > 0) {
    const expr = pending.pop()!;
    visit(expr);
    for (const child of childNodes(expr)) pending.push(child); // no spread: a chain may hold 100,000 operands
  }
}
