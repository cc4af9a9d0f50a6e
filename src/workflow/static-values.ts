// Small value grammars of the workflow format: durations, shells, working directories, names.

export const KNOWN_SHELLS = ['bash', 'sh', 'python', 'node', 'pwsh'] as const;

/** Task names: `[A-Za-z0-9_][A-Za-z0-9_.-]*`, at most 100 characters. */
export const TASK_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
export const MAX_TASK_NAME_LENGTH = 100;
export const INPUT_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names of exports (task outputs) and step ids. */
export const OUTPUT_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
export const STEP_ID = OUTPUT_NAME;
/** Secret names as `secrets.<name>` reads them. */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** setTimeout's ceiling (2^31 - 1 ms, about 24.8 days): a longer timer would fire at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration in milliseconds: a number of seconds, or text like "90s", "10m", "1h30m", "500ms".
 * Returns a reason string when the value is not a positive duration within MAX_TIMEOUT_MS.
 */
export function parseDuration(value: string | number): { ms: number } | { reason: string } {
  let ms: number;
  if (typeof value === 'number') {
    ms = Math.round(value * 1000);
  } else {
    const text = value.trim();
    if (/^\d+(\.\d+)?$/.test(text)) {
      ms = Math.round(Number(text) * 1000);
    } else {
      if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(text))
        return {
          reason: 'is not a duration; write seconds as a number, or text like 90s, 10m, 1h30m or 500ms',
        };
      ms = 0;
      for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g))
        ms += Number(amount) * (UNIT_MS[unit ?? 's'] ?? 1000);
      ms = Math.round(ms);
    }
  }
  if (!Number.isFinite(ms) || ms <= 0) return { reason: 'must be more than 0' };
  if (ms > MAX_TIMEOUT_MS)
    return { reason: `is longer than the maximum of ${MAX_TIMEOUT_MS} ms (about 24.8 days)` };
  return { ms };
}

/** Why a shell is refused, or undefined when it is a known shell or a template holding `{0}`. */
export function shellProblem(shell: string): string | undefined {
  if ((KNOWN_SHELLS as readonly string[]).includes(shell) || shell.includes('{0}')) return undefined;
  const example = /^[\w.-]+$/.test(shell) ? ` such as '${shell} {0}'` : '';
  return `unknown shell '${shell}'; use one of ${KNOWN_SHELLS.join(', ')}, or a command template containing {0}${example}`;
}

/**
 * A working directory relative to the task's work dir, normalised ('a/./b/' is 'a/b'; '.' is
 * undefined, the work dir itself). Absolute paths and paths climbing out with '..' are refused.
 */
export function joinWorkDir(
  base: string | undefined,
  relative: string,
): { path: string | undefined } | { reason: string } {
  if (/^([\\/]|[A-Za-z]:)/.test(relative) || relative.startsWith('~')) {
    return { reason: `'${relative}' is absolute; working directories are relative to the task's work dir` };
  }
  const parts: string[] = base === undefined ? [] : base.split('/');
  for (const part of relative.split(/[\\/]/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return { reason: `'${relative}' climbs out of the task's work dir with '..'` };
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  return { path: parts.length === 0 ? undefined : parts.join('/') };
}
