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
  /** Bytes of one env value. Default 128 KiB (Linux refuses single arguments/env strings past 128 KiB). */
  maxEnvValueBytes: number;
  /** Bytes of all env names and values one task sees, workflow env and step env included. Default 1 MiB. */
  maxEnvTotalBytes: number;
}

export const DEFAULT_WORKFLOW_LIMITS: WorkflowLimits = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxAliases: 100,
  maxTasks: 1000,
  maxMatrixSize: 256,
  maxStepsPerTask: 100,
  maxEnvValueBytes: 128 * 1024,
  maxEnvTotalBytes: 1024 * 1024,
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
