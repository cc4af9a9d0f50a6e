// The compiled plan: what a workflow becomes after parsing and validation, stored with the run,
// and the resolved task a runner receives. Every field is plain JSON.
import type { GitHubRunContext } from './github-context.ts';
import type { RelayedOutputs, RelayRecipient } from './relay-format.ts';

/**
 * One input a workflow declares. `default` is used when the submitter gives none;
 * a `required` input without a value is a submit error.
 */
export interface InputSpec {
  description?: string;
  required: boolean;
  default?: string;
  /** GitHub `workflow_dispatch` input types; absent means a string. */
  type?: InputType;
  /** The values a `choice` input takes. */
  options?: string[];
}

export const INPUT_TYPES = ['string', 'boolean', 'number', 'choice', 'environment'] as const;
export type InputType = (typeof INPUT_TYPES)[number];

/**
 * One script inside an exec task. `run`, `env` values and `if` hold `${{ }}` expressions unevaluated:
 * the runner evaluates them just before the step runs.
 */
export interface StepSpec {
  name: string;
  /** GitHub dialect: the step's `id` as written (GITHUB_ACTION, github.action); absent when it has none. */
  id?: string;
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
  /** Condition (expression text without `${{ }}`); absent means `success()`: every earlier step succeeded. */
  if?: string;
  /** A failure of this step does not fail the task (the step is still recorded as failed). */
  continueOnError?: boolean;
  /**
   * A step of a GitHub action (`uses: ./path`): the action's directory relative to the workspace. The runner sets
   * GITHUB_ACTION_PATH (also `env.GITHUB_ACTION_PATH` for its expressions) and BATON_NODE (its own Node).
   */
  actionPath?: string;
  /**
   * A node action's main and post steps: the steps (its own pre, then main) whose saved state (GITHUB_STATE,
   * `::save-state::`) this step gets as STATE_<name> variables, as GitHub gives an action its own state.
   */
  stateFrom?: string[];
}

/** What a failed attempt may be retried for. */
export const RETRY_ON = ['failed', 'timed_out', 'runner_lost'] as const;
export type RetryOn = (typeof RETRY_ON)[number];

export interface RetryPolicy {
  /** Further attempts after the first (so at most `max + 1` attempts). */
  max: number;
  /** Delay before the first retry; doubles for each later one. */
  backoffMs: number;
  /** Outcomes that are retried; others are final at once. */
  on: RetryOn[];
}

/** A value a task publishes (Harness model). Its value comes from the task's `BATON_OUTPUT` file. */
export interface ExportSpec {
  name: string;
  /** Masked in every log and never shown by the API or the UI. */
  confidential: boolean;
  /** `local`: visible to dependents only; `global`: also in the run result's `outputs`. */
  scope: 'local' | 'global';
}

/** A value a task takes from a dependency's exports, available to it as the env var `as`. */
export interface ImportSpec {
  from: string;
  variable: string;
  as: string;
}

/** A matrix as written, with its `${{ }}` strings unevaluated (see TaskSpec.deferredMatrix). */
export interface DeferredMatrix {
  /** The `strategy.matrix` value as JSON: one `${{ }}` string, or a map whose values may hold them. */
  value: unknown;
  /** `continue-on-error` of the task (no `step`) or of a step, written over `matrix`: decided per combination. */
  flags?: Array<{ text: string; step?: number }>;
  /** `fail-fast` written as an expression (truthy or not); replaces `strategy.failFast`. */
  failFast?: string;
  /** `max-parallel` written as an expression (a whole number of at least 1); replaces `strategy.maxParallel`. */
  maxParallel?: string;
}

/** Matrix strategy shared by the tasks one matrix expanded into. */
export interface MatrixStrategy {
  /** The task name as written; every expansion carries it. */
  group: string;
  /** At most this many of the group's tasks run at once (absent: no limit). */
  maxParallel?: number;
  /** A failure cancels the group's other unfinished tasks (default true). */
  failFast: boolean;
  /** This expansion's place in the group (from 0) and the group's size: GitHub's strategy.job-index, job-total. */
  index?: number;
  total?: number;
}

export interface TaskSpec {
  /** Unique within the run. Matrix expansions are named `group (v1, v2)`. */
  name: string;
  /**
   * `exec` runs `steps`. Any other type is run on the runner by a driver of that name — built in (`expression`,
   * `secret`) or a runner's custom (CGI) driver — with `driverSpec` as its input; such a task has no steps.
   */
  type: string;
  /** A typed task's `spec` (its expressions and templates are evaluated on the runner, as a step's are). */
  driverSpec?: Record<string, unknown>;
  steps: StepSpec[];
  env: Record<string, string>;
  dependsOn: string[];
  /**
   * The task's steps get `OUTPUT_FILE` (Harness dialect): outputs are also read from it and from the files the
   * task creates beside it named `${OUTPUT_FILE}_<suffix>`.
   */
  outputFile?: boolean;
  /**
   * GitHub dialect: the workflow commands that change what a step hands on (::set-output::, ::save-state::,
   * ::set-env::, ::add-path::) are honoured (engine/workflow-commands.ts); in other dialects they are plain text.
   */
  githubCommands?: boolean;
  /** Labels a runner must all carry to take this task. */
  runsOn: string[];
  /**
   * Labels of which a runner must carry at least one (`runs_on: {any: [a, b]}`, native dialect); absent or
   * empty means no such choice. Both may be set: the runner then carries every `runsOn` label and one of these.
   */
  runsOnAny?: string[];
  /** Only the runner with this name may take the task (Harness `forward.to`). */
  forwardTo?: string;
  timeoutMs?: number;
  workingDirectory?: string;
  /** Condition evaluated by the server when the dependencies are final; absent means `success()`. */
  if?: string;
  /** A failure of this task does not fail the run, and its dependents still run. */
  continueOnError?: boolean;
  retries?: RetryPolicy;
  /** Grace between SIGTERM and SIGKILL on cancel or timeout (default 10 s). */
  cancelGraceMs?: number;
  exports: ExportSpec[];
  imports: ImportSpec[];
  /** Paths or globs, relative to the work dir, zipped and uploaded after the steps; a missing one fails the task. */
  uploads: string[];
  /** Dependencies whose uploads are extracted into the work dir before the first step. */
  artifactsFrom: string[];
  /** This expansion's matrix values (empty when the task has no matrix). */
  matrix: Record<string, string | number | boolean>;
  strategy?: MatrixStrategy;
  /**
   * GitHub: a `strategy.matrix` computed from expressions (`${{ fromJSON(needs.a.outputs.m) }}`). The task is one
   * placeholder until its dependencies are final; then the server evaluates this and replaces it with one task
   * per combination (named `group (v1, v2)`, as a written matrix), or fails it when the value is not a matrix.
   */
  deferredMatrix?: DeferredMatrix;
  /** Only a runner with this isolation may take the task (`sandbox`: bubblewrap, see SECURITY.md). */
  isolation?: 'sandbox';
  /** `false`: the task's steps get no network but a loopback of their own (needs a sandboxed runner). */
  network?: boolean;
  /** Resource limits the runner enforces with cgroups; only a runner that reports it can enforce limits takes the task. */
  limits?: TaskLimits;
  /** Reuse a succeeded result of the same workflow with the same key (workflow `cache: {key?, ttl}`). */
  cache?: CacheSpec;
}

/**
 * `cache:` of a task. Without `key` the runner derives one: a hash of the type, the resolved spec (steps'
 * scripts, env and shells; a typed task's resolved driverSpec), the imported values and the driver's version.
 */
export interface CacheSpec {
  /** A template (`${{ }}` evaluated on the runner with the task's contexts) replacing the derived key. */
  key?: string;
  /** How long a stored result is reused. */
  ttlMs: number;
}

/** Per-task resource ceilings (workflow `limits: {memory, pids, cpu}`); each absent field means no limit. */
export interface TaskLimits {
  /** Memory the task's processes may use together, in bytes (cgroup `memory.max`). */
  memoryBytes?: number;
  /** Processes and threads at once (cgroup `pids.max`). */
  pids?: number;
  /** CPUs' worth of time (cgroup `cpu.max`); 1.5 means one and a half CPUs. */
  cpu?: number;
}

export interface Plan {
  /** Workflow name (the file's `name`, or the file name without extension). */
  name: string;
  /** Which syntax the file was written in. */
  dialect: 'native' | 'harness' | 'bountyhub' | 'github';
  env: Record<string, string>;
  inputs: Record<string, InputSpec>;
  /** In the order they appear in the workflow file; the DAG is acyclic. */
  tasks: TaskSpec[];
  /**
   * Custom task types the workflow declares it needs (`drivers:`): accepted at submit even when no registered
   * runner has a driver of that name yet (its tasks wait for one). Absent when it declares none.
   */
  drivers?: string[];
}

/** The values a task's expressions may read, sent with the task to the runner. */
export interface TaskContext {
  inputs: Record<string, string>;
  /** Direct dependencies: their outputs (confidential ones included) and final status. */
  tasks: Record<string, { outputs: Record<string, string>; result: string }>;
  matrix: Record<string, string | number | boolean>;
  run: { id: string; name: string };
  /** Imported values by env var name (`ImportSpec.as`). */
  imports: Record<string, string>;
  /** Values the runner must mask in every log line (confidential imports and outputs of dependencies). */
  mask: string[];
  /** GitHub-dialect runs: `github` facts, `vars` and typed `inputs` (docs/adr/0018-github-context.md). */
  github?: GitHubRunContext;
}

/** An artifact of a dependency to extract into the work dir before the first step. */
export interface ArtifactRef {
  id: string;
  task: string;
  name: string;
  sizeBytes: number;
}

/**
 * What a runner receives for one attempt: the task as compiled, with its expressions still unevaluated,
 * and the context they are evaluated against on the runner.
 */
export interface AssignedTask {
  runId: string;
  taskId: string;
  name: string;
  attempt: number;
  /** Workflow-level env, unevaluated; the task's env overrides it. */
  workflowEnv: Record<string, string>;
  spec: TaskSpec;
  context: TaskContext;
  artifacts: ArtifactRef[];
  /**
   * The secrets this task's expressions name, as a JSON object `{NAME: value}` sealed to the runner's public
   * key (see sealed.ts); absent when the task names none.
   */
  sealedSecrets?: string;
  /**
   * A `secret` task only: the runners that may run the tasks depending on it (docs/adr/0014). Its runner seals
   * the fetched values to them (relay.ts) and reports only that envelope; absent or empty, nobody can open them.
   */
  relayTo?: RelayRecipient[];
  /** Dependencies whose outputs arrived sealed (a `secret` task's): this runner's wrap of each (relay.ts). */
  relayed?: RelayedOutputs[];
}
