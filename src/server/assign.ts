// Builds the task a runner receives for a claimed attempt: the task as compiled, and the context its
// expressions are evaluated against on the runner — inputs, direct dependencies' outputs and results,
// imported values, matrix values — plus the values the runner must mask and the artifacts to extract.
import type { AssignedTask, Plan, TaskSpec } from '../protocol/plan.ts';
import type { Claimed, RunnerRow, Store } from '../store/index.ts';
import { BatonError } from '../protocol/errors.ts';
import { seal } from '../protocol/sealed.ts';
import type { MasterKey } from './master-key.ts';
import { tasksContext } from './tasks-context.ts';

/** Names a task's expressions read from the `secrets` context (`secrets.NAME` or `secrets['NAME']`). */
export function secretNames(...texts: string[]): string[] {
  const names = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(/secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*'([^']+)'\s*\])/g))
      names.add((m[1] ?? m[2])!);
  }
  return [...names];
}

export interface AssignDeps {
  store: Store;
  masterKey: MasterKey;
}

export async function assignClaimed(
  { store, masterKey }: AssignDeps,
  claimed: Claimed,
  runner: RunnerRow,
): Promise<AssignedTask> {
  const loaded = await store.runs.get(claimed.task.run_id);
  if (!loaded) throw new Error(`run ${claimed.task.run_id} of task ${claimed.task.id} is missing`);
  const plan = JSON.parse(loaded.run.plan) as Plan;
  const spec = JSON.parse(claimed.task.spec) as TaskSpec;
  const deps = new Set(spec.dependsOn);
  const mask = new Set<string>();
  const results = [];
  for (const t of loaded.tasks) {
    if (!deps.has(t.name)) continue;
    const outputs = JSON.parse(t.outputs) as Record<string, string>;
    const group = (JSON.parse(t.spec) as TaskSpec).strategy?.group;
    results.push({ name: t.name, status: t.status, outputs, ...(group ? { group } : {}) });
    for (const name of JSON.parse(t.confidential_outputs) as string[]) {
      const v = outputs[name];
      if (v !== undefined && v !== '') mask.add(v);
    }
  }
  const tasks = tasksContext(results, loaded.run.dialect);
  const imports: Record<string, string> = {};
  for (const imp of spec.imports) imports[imp.as] = tasks[imp.from]?.outputs[imp.variable] ?? '';
  const artifacts = (await store.artifacts.ofRun(loaded.run.id))
    .filter((a) => spec.artifactsFrom.includes(a.task_name))
    .map((a) => ({ id: a.id, task: a.task_name, name: a.name, sizeBytes: a.size_bytes }));
  const assigned: AssignedTask = {
    runId: loaded.run.id,
    taskId: claimed.task.id,
    name: claimed.task.name,
    attempt: claimed.attempt.number,
    workflowEnv: plan.env,
    spec,
    context: {
      inputs: JSON.parse(loaded.run.inputs) as Record<string, string>,
      tasks,
      matrix: spec.matrix,
      run: { id: loaded.run.id, name: loaded.run.name },
      imports,
      mask: [...mask],
    },
    artifacts,
  };
  const wanted = secretNames(JSON.stringify(plan.env), claimed.task.spec);
  if (wanted.length > 0) {
    // Only the secrets this task names, only to this runner: sealed to its public key.
    if (!runner.public_key)
      throw new BatonError(
        'forbidden',
        `runner '${runner.name}' has no public key to receive secrets; register it again`,
      );
    const values: Record<string, string> = {};
    for (const row of await store.secrets.get(wanted))
      values[row.name] = masterKey.decrypt(row.name, row.ciphertext);
    assigned.sealedSecrets = await seal(JSON.stringify(values), runner.public_key);
  }
  return assigned;
}
