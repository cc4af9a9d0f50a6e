// The one-step Baton task an Automn run becomes.

import type { AssignedTask } from '../../protocol/plan.ts';

/**
 * `${{` opens an expression in a Baton step; Automn code is never an expression, so each one is replaced by an
 * expression whose value is the literal text `${{`.
 */
export function literalScript(code: string): string {
  return code.replaceAll('${{', "${{ '${{' }}");
}

export function makeAssignedTask(o: {
  runId: string;
  run: string;
  shell: string;
  timeoutMs: number | undefined;
  mask: string[];
}): AssignedTask {
  const name = 'automn';
  return {
    runId: o.runId,
    taskId: o.runId,
    name,
    attempt: 1,
    workflowEnv: {},
    artifacts: [],
    spec: {
      name,
      type: 'exec',
      env: {},
      dependsOn: [],
      runsOn: [],
      exports: [],
      imports: [],
      uploads: [],
      artifactsFrom: [],
      matrix: {},
      steps: [
        {
          name: 'script',
          run: literalScript(o.run),
          shell: o.shell,
          env: {},
          ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
        },
      ],
    },
    context: {
      inputs: {},
      tasks: {},
      matrix: {},
      run: { id: o.runId, name: 'automn' },
      imports: {},
      mask: o.mask.filter((m) => m !== ''),
    },
  };
}
