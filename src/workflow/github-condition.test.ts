// A GitHub `if` mixing text and ${{ }} is the string actions/runner builds from it ("Expressions": literals in a
// template become format() text; "{" and "}" in the text are doubled, as format() reads them).
import { describe, expect, it } from 'vitest';
import { evaluateCondition } from './condition.ts';
import { ExpressionError } from './expression-error.ts';
import { mixedConditionSource } from './github-condition.ts';

const passing = { success: true, failure: false, cancelled: false };
const failing = { success: false, failure: true, cancelled: false };
const ctx = { inputs: {}, env: { KIND: 'fast', EMPTY: '' }, tasks: {}, matrix: {} };

describe('mixedConditionSource', () => {
  it('leaves bare conditions and one whole ${{ }} alone', () => {
    expect(mixedConditionSource("env.KIND == 'fast'")).toBeUndefined();
    expect(mixedConditionSource("${{ env.KIND == 'fast' }}")).toBeUndefined();
    expect(mixedConditionSource("  ${{ env.KIND == 'fast' }}  ")).toBeUndefined();
  });

  it('turns text with ${{ }} into format() with braces and quotes escaped', () => {
    expect(mixedConditionSource("${{ env.KIND }} == 'slow'")).toBe("format('{0} == ''slow''', (env.KIND))");
    expect(mixedConditionSource('a {b} ${{ env.X }}${{ env.Y }}')).toBe(
      "format('a {{b}} {0}{1}', (env.X), (env.Y))",
    );
  });

  it('is true when the string is not empty and success() holds, as GitHub evaluates it', () => {
    const source = mixedConditionSource("${{ env.KIND }} == 'slow'")!;
    expect(evaluateCondition(source, ctx, { status: passing })).toBe(true);
    // No status function in it: success() && (…) is implied, so it is false after a failure.
    expect(evaluateCondition(source, ctx, { status: failing })).toBe(false);
    // A status function inside a part counts: failure() is then not implied away.
    const withStatus = mixedConditionSource('${{ failure() }} x')!;
    expect(evaluateCondition(withStatus, ctx, { status: failing })).toBe(true);
    // Text that is only expressions evaluating to '' is an empty string: false.
    const empty = mixedConditionSource('${{ env.EMPTY }}${{ env.EMPTY }}')!;
    expect(evaluateCondition(empty, ctx, { status: passing })).toBe(false);
  });

  it('throws for a part that does not parse', () => {
    expect(() => mixedConditionSource('x ${{ env. }}')).toThrow(ExpressionError);
  });
});
