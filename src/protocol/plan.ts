// The compiled plan: what a workflow becomes after parsing and validation, stored with the run,
// and the resolved task a runner receives. Every field is plain JSON.

/**
 * One input a workflow declares. `default` is used when the submitter gives none;
 * a `required` input without a value is a submit error.
 */
export interface InputSpec {
  description?: string;
  required: boolean;
  default?: string;
}

/**
 * One script inside an exec task. `run` and `env` values may still hold `${{ }}` expressions
 * in a plan; in a ResolvedTask they are final strings.
 */
export interface StepSpec {
  name: string;
  run: string;
  /** A known shell name (`bash`, `sh`, `python`, `node`, `pwsh`) or a custom template holding `{0}`. */
  shell: string;
  env: Record<string, string>;
  /**
   * Relative to the task's work dir, with the task's own working directory already joined in;
   * absent means the task's working directory (or the work dir itself).
   */
  workingDirectory?: string;
  timeoutMs?: number;
}

export interface TaskSpec {
  /** Unique within the run; `[A-Za-z0-9_.-]`, at most 100 characters. */
  name: string;
  /** Task type; only `exec` exists in v1. */
  type: 'exec';
  steps: StepSpec[];
  env: Record<string, string>;
  dependsOn: string[];
  /** Labels a runner must all carry to take this task. */
  runsOn: string[];
  timeoutMs?: number;
  workingDirectory?: string;
}

export interface Plan {
  /** Workflow name (the file's `name`, or the file name without extension). */
  name: string;
  env: Record<string, string>;
  inputs: Record<string, InputSpec>;
  /** In the order they appear in the workflow file; the DAG is acyclic. */
  tasks: TaskSpec[];
}

/** A task as delivered to a runner: every expression already evaluated. */
export interface ResolvedTask {
  runId: string;
  taskId: string;
  name: string;
  attempt: number;
  steps: Array<Omit<StepSpec, 'run' | 'env'> & { run: string; env: Record<string, string> }>;
  /** Workflow env merged with task env (task wins). */
  env: Record<string, string>;
  timeoutMs?: number;
  workingDirectory?: string;
}
