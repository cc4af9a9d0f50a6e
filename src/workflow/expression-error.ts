// The one error expressions throw: bad syntax or an unknown context, with where it happened.

export class ExpressionError extends Error {
  /** The expression text (what stands between `${{` and `}}`). */
  readonly expression: string;
  /** 0-based offset into `expression` where the problem starts. */
  readonly position: number;

  constructor(reason: string, expression: string, position: number) {
    // The message counts from the first non-blank character, as the expression is shown trimmed.
    const shown = expression.trim();
    const lead = expression.length - expression.trimStart().length;
    const column = Math.min(Math.max(position - lead, 0), shown.length) + 1;
    super(`${reason} at position ${column} in '${shown}'`);
    this.name = 'ExpressionError';
    this.expression = expression;
    this.position = position;
  }
}
