// Recursive-descent parser for `${{ }}` expressions: tokens in, a small AST out.
// Precedence, loosest first: ||, &&, == !=, < <= > >=, !, then property/index access.

import { ExpressionError } from './expression-error.ts';
import { tokenize, type Token, type TokenKind } from './expression-lexer.ts';

export type Literal = string | number | boolean | null;
export type BinaryOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type Expr =
  | { kind: 'literal'; value: Literal; position: number }
  | { kind: 'context'; name: string; position: number }
  | { kind: 'property'; object: Expr; name: string; position: number }
  | { kind: 'index'; object: Expr; index: Expr; position: number }
  | { kind: 'not'; operand: Expr; position: number }
  | { kind: 'compare'; operator: BinaryOperator; left: Expr; right: Expr; position: number }
  | { kind: 'logical'; operator: '&&' | '||'; left: Expr; right: Expr; position: number };

/** Parentheses, `!` and `[ ]` may nest this deep; deeper input is refused instead of overflowing the stack. */
export const MAX_EXPRESSION_DEPTH = 64;

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
    let left = operand();
    const kind = level === 'or' ? 'or' : 'and';
    while (this.#peek().kind === kind) {
      const token = this.#next();
      left = {
        kind: 'logical',
        operator: level === 'or' ? '||' : '&&',
        left,
        right: operand(),
        position: token.position,
      };
    }
    return left;
  }

  #equality(): Expr {
    let left = this.#comparison();
    for (let op = this.#peek(); op.kind === 'eq' || op.kind === 'ne'; op = this.#peek()) {
      this.#next();
      left = {
        kind: 'compare',
        operator: COMPARE[op.kind]!,
        left,
        right: this.#comparison(),
        position: op.position,
      };
    }
    return left;
  }

  #comparison(): Expr {
    let left = this.#unary();
    for (
      let op = this.#peek();
      op.kind === 'lt' || op.kind === 'le' || op.kind === 'gt' || op.kind === 'ge';
      op = this.#peek()
    ) {
      this.#next();
      left = {
        kind: 'compare',
        operator: COMPARE[op.kind]!,
        left,
        right: this.#unary(),
        position: op.position,
      };
    }
    return left;
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
    let expr = this.#primary();
    for (;;) {
      const token = this.#peek();
      if (token.kind === 'dot') {
        this.#next();
        const name = this.#next();
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
      } else if (token.kind === 'lbracket') {
        this.#next();
        const index = this.#nested(token, () => this.#logical('or'));
        this.#expect('rbracket', "']'");
        expr = { kind: 'index', object: expr, index, position: token.position };
      } else {
        return expr;
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
        if (this.#peek().kind === 'lparen')
          throw this.#error(`function '${token.text}()' is not supported yet`, token);
        return { kind: 'context', name: token.text, position: token.position };
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
