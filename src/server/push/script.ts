// What an Automn-compatible push runner can run of a Baton task, and the Automn script that runs it. An Automn
// runner runs one script in one language with plain environment variables, so a task reaches it only when it
// needs nothing more: no expressions (they are evaluated by Baton's engine on a pull runner), no artifacts,
// uploads, imports, exports or working directories, no per-step conditions. The rest needs a pull runner.
import type { TaskSpec } from '../../protocol/plan.ts';

export interface PushScript {
  language: 'shell' | 'python' | 'node' | 'powershell';
  code: string;
  /** Automn's `variables[]`: each becomes an environment variable of the script. */
  variables: Array<{ envName: string; value: string }>;
  /** Automn's `timeout`, in seconds. */
  timeoutSeconds: number;
}

/** Without a task timeout, a push runner's run is given this long (Baton's own default for a task). */
export const PUSH_DEFAULT_TIMEOUT_S = 3600;

const LANGUAGE: Record<string, PushScript['language']> = {
  bash: 'shell',
  sh: 'shell',
  python: 'python',
  node: 'node',
  pwsh: 'powershell',
};
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The script for `spec`, or why a push runner cannot run it (naming the feature that needs a pull runner). */
export function pushScript(
  spec: TaskSpec,
  workflowEnv: Record<string, string>,
): { script: PushScript } | { unsupported: string } {
  const needsPull = (what: string) => ({ unsupported: `${what} needs a pull runner` });
  if (spec.uploads.length > 0) return needsPull('uploads');
  if (spec.artifactsFrom.length > 0) return needsPull('artifacts_from');
  if (spec.imports.length > 0) return needsPull('imports');
  if (spec.exports.length > 0) return needsPull('exports (a push runner returns one output, returnData)');
  if (spec.workingDirectory !== undefined) return needsPull('working_directory');
  if (spec.steps.length === 0) return { unsupported: 'the task has no steps' };
  const env = { ...workflowEnv, ...spec.env };
  for (const [k, v] of Object.entries(env)) {
    if (!ENV_NAME.test(k))
      return { unsupported: `environment variable name ${JSON.stringify(k)} is not a plain name` };
    if (v.includes('${{')) return needsPull(`the expression in environment variable ${k}`);
  }
  for (const st of spec.steps) {
    const where = `step '${st.name}'`;
    if (st.if !== undefined) return needsPull(`the condition of ${where}`);
    if (st.continueOnError) return needsPull(`continue_on_error of ${where}`);
    if (st.workingDirectory !== undefined) return needsPull(`the working directory of ${where}`);
    if (st.timeoutMs !== undefined) return needsPull(`the timeout of ${where}`);
    if (st.run.includes('${{')) return needsPull(`the expression in ${where}`);
    if (!LANGUAGE[st.shell]) return needsPull(`shell '${st.shell}' of ${where}`);
    for (const [k, v] of Object.entries(st.env)) {
      if (!ENV_NAME.test(k))
        return {
          unsupported: `${where}: environment variable name ${JSON.stringify(k)} is not a plain name`,
        };
      if (v.includes('${{')) return needsPull(`the expression in environment variable ${k} of ${where}`);
    }
  }
  const timeoutSeconds =
    spec.timeoutMs === undefined ? PUSH_DEFAULT_TIMEOUT_S : Math.max(1, Math.ceil(spec.timeoutMs / 1000));
  const variables = Object.entries(env).map(([envName, value]) => ({ envName, value }));
  const first = spec.steps[0]!;
  if (spec.steps.length === 1 && LANGUAGE[first.shell] !== 'shell') {
    // One step in another language: the script is the step, its env joins the task's.
    for (const [envName, value] of Object.entries(first.env)) variables.push({ envName, value });
    return { script: { language: LANGUAGE[first.shell]!, code: first.run, variables, timeoutSeconds } };
  }
  if (spec.steps.some((st) => LANGUAGE[st.shell] !== 'shell'))
    return needsPull('several steps in a language other than bash or sh');
  // Each step in a subshell of its own, failing fast as a bash step does (`-eo pipefail`); the first step that
  // fails ends the script with its exit code. (Not `( … ) || exit`: `set -e` is ignored inside an `||` list.)
  const code = spec.steps
    .map((st) => {
      const exports = Object.entries(st.env)
        .map(([k, v]) => `export ${k}=${quote(v)}\n`)
        .join('');
      const opts = st.shell === 'bash' ? 'set -eo pipefail' : 'set -e';
      return `# step: ${st.name.replace(/\n/g, ' ')}\n(\n${opts}\n${exports}${st.run}\n)\n__baton_rc=$?; [ "$__baton_rc" -eq 0 ] || exit "$__baton_rc"\n`;
    })
    .join('');
  return { script: { language: 'shell', code, variables, timeoutSeconds } };
}
