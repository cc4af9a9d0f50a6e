// GitHub's job `outputs:` as a final hidden step: each output expression is evaluated by the
// runner into an env var, and the step writes it to $BATON_OUTPUT.

import type { StepSpec } from '../protocol/plan.ts';
import { shellQuote } from './dialect-harness.ts';

/** The hidden step's name; a user step may not use it. */
export const OUTPUTS_STEP = '__outputs';

/**
 * The values travel through env vars, not through the script text: a value holding the heredoc
 * delimiter, quotes or `$(…)` then cannot end the heredoc early or run as shell. The delimiter
 * is drawn at run time from /dev/urandom, so no value can guess it.
 */
export function outputsStep(outputs: Array<[name: string, expression: string]>): StepSpec {
  const env: Record<string, string> = {};
  const lines = [
    "# Added by Baton: the job's outputs (GitHub Actions `outputs:`).",
    '__baton_output() {',
    '  local eof="BATON_EOF_$(od -An -N16 -tx1 /dev/urandom | tr -d \' \\n\')"',
    '  printf \'%s<<%s\\n%s\\n%s\\n\' "$1" "$eof" "$2" "$eof" >> "$BATON_OUTPUT"',
    '}',
  ];
  outputs.forEach(([name, expression], index) => {
    const variable = `BATON_JOB_OUTPUT_${index + 1}`;
    env[variable] = expression;
    lines.push(`__baton_output ${shellQuote(name)} "$${variable}"`);
  });
  return { name: OUTPUTS_STEP, run: `${lines.join('\n')}\n`, shell: 'bash', env, if: 'always()' };
}
