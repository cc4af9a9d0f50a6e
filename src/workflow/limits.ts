// Size limits a workflow must respect; every limit's issue names the limit and the value.

export interface WorkflowLimits {
  /** Bytes of workflow text. Default 1 MiB. */
  maxBytes: number;
  /** Nesting of YAML collections. Default 64. */
  maxDepth: number;
  /** Alias dereferences while reading the document. Default 100 (alias bombs expand exponentially). */
  maxAliases: number;
  /** Tasks per run, counted after matrix expansion. Default 1000. */
  maxTasks: number;
  /** Combinations of one `strategy.matrix`. Default 256 (GitHub's limit per workflow run). */
  maxMatrixSize: number;
  /** Steps per task. Default 100. */
  maxStepsPerTask: number;
  /**
   * Variables one task sets (workflow, task and step env, imports, BATON_ENV). Default 1000: bash imports its
   * environment in time quadratic in the count (measured in docs/workflows.md "Limits": 0.1 s more at 1,000,
   * 2 s at 5,000, 35 s at 20,000).
   */
  maxEnvVars: number;
  /**
   * Bytes of one env value, and of one output or BATON_ENV value (outputs become variables of the tasks that
   * import them). Default 64 KiB: Linux refuses one `NAME=value` string past 128 KiB (MAX_ARG_STRLEN).
   */
  maxEnvValueBytes: number;
  /**
   * Bytes of all env names and values one task sets, workflow env and step env included. Default 1 MiB: Linux
   * allows about 2 MiB of argv and environment together, and the runner's own environment needs room too.
   */
  maxEnvTotalBytes: number;
  /** Bytes of one run input's value (inputs become env through expressions). Default 64 KiB. */
  maxInputValueBytes: number;
  /** Bytes of all of a run's input names and values together. Default 1 MiB. */
  maxInputsTotalBytes: number;
}

export const DEFAULT_WORKFLOW_LIMITS: WorkflowLimits = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxAliases: 100,
  maxTasks: 1000,
  maxMatrixSize: 256,
  maxStepsPerTask: 100,
  maxEnvVars: 1000,
  maxEnvValueBytes: 64 * 1024,
  maxEnvTotalBytes: 1024 * 1024,
  maxInputValueBytes: 64 * 1024,
  maxInputsTotalBytes: 1024 * 1024,
});

export function resolveLimits(given: Partial<WorkflowLimits> | undefined): WorkflowLimits {
  return { ...DEFAULT_WORKFLOW_LIMITS, ...given };
}

/** "1048576 bytes (1 MiB)" — exact for scripts, rounded for people. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0)
    return `${bytes} bytes (${bytes / (1024 * 1024)} MiB)`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes} bytes (${bytes / 1024} KiB)`;
  return `${bytes} bytes`;
}
