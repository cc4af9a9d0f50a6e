// Tokens of the `${{ }}` expression language (the GitHub Actions grammar): literals, names,
// operators, `*` (the object filter) and punctuation, each with its offset.

import { ExpressionError } from './expression-error.ts';
import { parseNumber } from './expression-values.ts';

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
/** Where a number literal ends (actions/runner's token boundaries; '.' does not end a number). */
const NUMBER_END = /[()[\],!><=&|\s]/;
/** Tokens after which '.' starts a number (`.5`) rather than being a property access. */
const BEFORE_VALUE: ReadonlySet<TokenKind> = new Set([
  'comma',
  'lparen',
  'lbracket',
  'not',
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
  'and',
  'or',
]);
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
    // As in GitHub: a digit, '-' or '+' always starts a number; '.' only where a value may stand.
    // The literal runs to the next boundary and must read as a number (NaN is refused).
    if (
      (ch >= '0' && ch <= '9') ||
      ch === '-' ||
      ch === '+' ||
      (ch === '.' && (previous === undefined || BEFORE_VALUE.has(previous)))
    ) {
      let end = i + 1;
      while (end < expression.length && !NUMBER_END.test(expression[end]!)) end++;
      const text = expression.slice(i, end);
      const value = parseNumber(text);
      if (Number.isNaN(value))
        throw new ExpressionError(
          `invalid number '${text}' (numbers are decimal like 1, -2.5 or 1e3, 0x hex, 0o octal, or Infinity)`,
          expression,
          i,
        );
      tokens.push({ kind: 'number', text, value, position: i });
      i = end;
      continue;
    }
    IDENTIFIER.lastIndex = i;
    const word = IDENTIFIER.exec(expression);
    if (word !== null) {
      // NaN and Infinity are number literals (case-sensitive, as in GitHub), except as property names.
      const special = word[0] === 'NaN' ? Number.NaN : word[0] === 'Infinity' ? Infinity : undefined;
      if (special !== undefined && previous !== 'dot')
        tokens.push({ kind: 'number', text: word[0], value: special, position: i });
      else tokens.push({ kind: KEYWORDS.get(word[0]) ?? 'identifier', text: word[0], position: i });
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
