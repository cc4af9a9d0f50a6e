// Tokens of the `${{ }}` expression language (the GitHub Actions grammar): literals, names,
// operators, `*` (the object filter) and punctuation, each with its offset.

import { ExpressionError } from './expression-error.ts';

export const TOKEN_KINDS = [
  'string',
  'number',
  'identifier',
  'true',
  'false',
  'null',
  'dot',
  'lbracket',
  'rbracket',
  'lparen',
  'rparen',
  'comma',
  'star',
  'not',
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
  'and',
  'or',
  'eof',
] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

export interface Token {
  kind: TokenKind;
  /** Source text of the token. */
  text: string;
  /** Decoded value of string and number literals. */
  value?: string | number;
  /** 0-based offset in the expression. */
  position: number;
}

const OPERATORS: ReadonlyArray<[string, TokenKind]> = [
  ['==', 'eq'],
  ['!=', 'ne'],
  ['<=', 'le'],
  ['>=', 'ge'],
  ['&&', 'and'],
  ['||', 'or'],
  ['<', 'lt'],
  ['>', 'gt'],
  ['!', 'not'],
  ['.', 'dot'],
  ['[', 'lbracket'],
  [']', 'rbracket'],
  ['(', 'lparen'],
  [')', 'rparen'],
  [',', 'comma'],
  ['*', 'star'],
];
const KEYWORDS: ReadonlyMap<string, TokenKind> = new Map([
  ['true', 'true'],
  ['false', 'false'],
  ['null', 'null'],
]);
const NUMBER = /-?(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/y;
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_-]*/y;

export function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const ch = expression[i] ?? '';
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === "'") {
      const token = readString(expression, i);
      tokens.push(token);
      i += token.text.length;
      continue;
    }
    const previous = tokens[tokens.length - 1]?.kind;
    // A '-' starts a number only where a value may stand: the language has no subtraction.
    const valueMayStart =
      previous === undefined ||
      !['identifier', 'rparen', 'rbracket', 'string', 'number', 'true', 'false', 'null'].includes(previous);
    if ((ch >= '0' && ch <= '9') || ((ch === '-' || ch === '.') && valueMayStart)) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(expression);
      if (match !== null && match[0] !== '-') {
        const text = match[0];
        const value = text.replace(/^-/, '').startsWith('0x') ? Number.parseInt(text, 16) : Number(text);
        tokens.push({ kind: 'number', text, value, position: i });
        i += text.length;
        continue;
      }
    }
    IDENTIFIER.lastIndex = i;
    const word = IDENTIFIER.exec(expression);
    if (word !== null) {
      tokens.push({ kind: KEYWORDS.get(word[0]) ?? 'identifier', text: word[0], position: i });
      i += word[0].length;
      continue;
    }
    const operator = OPERATORS.find(([text]) => expression.startsWith(text, i));
    if (operator === undefined) throw new ExpressionError(`unexpected character '${ch}'`, expression, i);
    tokens.push({ kind: operator[1], text: operator[0], position: i });
    i += operator[0].length;
  }
  tokens.push({ kind: 'eof', text: '', position: expression.length });
  return tokens;
}

/** A single-quoted string; '' inside it stands for one quote. */
function readString(expression: string, start: number): Token {
  let value = '';
  let i = start + 1;
  for (;;) {
    const quote = expression.indexOf("'", i);
    if (quote < 0) throw new ExpressionError('unterminated string literal', expression, start);
    value += expression.slice(i, quote);
    if (expression[quote + 1] === "'") {
      value += "'";
      i = quote + 2;
      continue;
    }
    return { kind: 'string', text: expression.slice(start, quote + 1), value, position: start };
  }
}
