// The environment limits of docs/workflows.md "Limits", checked again on the runner just before a step starts:
// values born at run time — imports of other tasks' outputs, expressions such as format() or toJSON(), BATON_ENV
// lines of earlier steps — can outgrow what the compiler could see. A step over a limit never starts.

import { DEFAULT_WORKFLOW_LIMITS, formatBytes, type WorkflowLimits } from '../workflow/limits.ts';

export type EnvLimits = Pick<WorkflowLimits, 'maxEnvVars' | 'maxEnvValueBytes' | 'maxEnvTotalBytes'>;

/** Where the task's variables of one step come from, lowest precedence first. */
export interface TaskEnvLayers {
  /** Workflow env, task env and imports, evaluated. */
  taskEnv: Record<string, string>;
  imports: Record<string, string>;
  /** BATON_ENV values of earlier steps. */
  exported: ReadonlyMap<string, string>;
  /** The step's own env, evaluated. */
  stepEnv: Record<string, string>;
}

/**
 * The first limit the variables a task sets break (the runner's own environment and Baton's variables are not
 * counted), as a sentence naming the variable, where it came from, its size and the limit; undefined when none.
 */
export function envLimitProblem(
  layers: TaskEnvLayers,
  limits: EnvLimits = DEFAULT_WORKFLOW_LIMITS,
): string | undefined {
  const env: Record<string, string> = {
    ...layers.taskEnv,
    ...Object.fromEntries(layers.exported),
    ...layers.stepEnv,
  };
  const names = Object.keys(env);
  if (names.length > limits.maxEnvVars)
    return `the task sets ${names.length} environment variables; the limit is ${limits.maxEnvVars} per task`;
  let total = 0;
  for (const name of names) {
    const value = env[name] ?? '';
    const bytes = Buffer.byteLength(value, 'utf8');
    total += Buffer.byteLength(name, 'utf8') + bytes + 2;
    if (bytes > limits.maxEnvValueBytes)
      return `env '${name}' (${origin(name, layers)}) is ${bytes} bytes; the limit is ${formatBytes(limits.maxEnvValueBytes)} per value`;
  }
  if (total > limits.maxEnvTotalBytes)
    return `the task's environment variables are ${total} bytes together; the limit is ${formatBytes(limits.maxEnvTotalBytes)} per task`;
  return undefined;
}

function origin(name: string, layers: TaskEnvLayers): string {
  if (Object.hasOwn(layers.stepEnv, name)) return 'from the step env';
  if (layers.exported.has(name)) return 'from BATON_ENV of an earlier step';
  if (Object.hasOwn(layers.imports, name)) return 'imported';
  return 'from the workflow or task env';
}
