// Builds the task a runner receives for a claimed attempt: the task as compiled, and the context its
// expressions are evaluated against on the runner — inputs, direct dependencies' outputs and results,
// imported values, matrix values — plus the values the runner must mask and the artifacts to extract.
import type { GitHubRunContext } from '../protocol/github-context.ts';
import type { AssignedTask, Plan, TaskSpec } from '../protocol/plan.ts';
import type { Claimed, Store } from '../store/index.ts';
import { BatonError } from '../protocol/errors.ts';
import { carriesLabel } from '../protocol/labels.ts';
import { seal } from '../protocol/sealed.ts';
import { secretNames } from '../protocol/secret-names.ts';
import type { RelayedOutputs, RelayRecipient, SealedOutputs } from '../protocol/relay.ts';
import type { TaskRow } from '../store/schema.ts';
import type { MasterKey } from './master-key.ts';
import { tasksContext } from './tasks-context.ts';

interface RunFacts {
  id: string;
  name: string;
  dialect: string;
  env: Record<string, string>;
  inputs: Record<string, string>;
  github?: GitHubRunContext;
}

/**
 * What a claim needs of its run, parsed once per run: a run's plan, inputs and name never change after it
 * is created, and parsing a 1,000-task plan on every claim made claims cost the size of the run.
 */
const RUN_FACTS_CACHED = 256;
const runFactsCache = new Map<string, RunFacts>();

async function runFacts(store: Store, runId: string): Promise<RunFacts> {
  const hit = runFactsCache.get(runId);
  if (hit) return hit;
  const row = await store.runs.runRow(runId);
  if (!row) throw new Error(`run ${runId} is missing`);
  const facts: RunFacts = {
    id: row.id,
    name: row.name,
    dialect: row.dialect,
    env: (JSON.parse(row.plan) as Plan).env,
    inputs: JSON.parse(row.inputs) as Record<string, string>,
    ...(row.github_context === null ? {} : { github: JSON.parse(row.github_context) as GitHubRunContext }),
  };
  runFactsCache.set(runId, facts);
  if (runFactsCache.size > RUN_FACTS_CACHED) runFactsCache.delete(runFactsCache.keys().next().value!);
  return facts;
}

export interface AssignDeps {
  store: Store;
  masterKey: MasterKey;
}

/** What assignment needs of the runner: a pull runner's row or a push runner's entry. */
export interface AssignedTo {
  /** The runner's id: the key of its wrap in a sealed relay envelope (protocol/relay.ts). */
  id: string;
  name: string;
  /** Its X25519 public key; a runner without one cannot be given a task that names secrets. */
  publicKey: string | null;
}

export async function assignClaimed(
  { store, masterKey }: AssignDeps,
  claimed: Claimed,
  runner: AssignedTo,
): Promise<AssignedTask> {
  const run = await runFacts(store, claimed.task.run_id);
  const spec = JSON.parse(claimed.task.spec) as TaskSpec;
  const mask = new Set<string>();
  const results = [];
  const relayed: RelayedOutputs[] = [];
  // Only the dependencies' rows: a claim must not cost the size of the whole run.
  for (const t of await store.runs.tasksNamed(run.id, spec.dependsOn)) {
    if (t.sealed_outputs !== null)
      relayed.push(relayedTo(t.name, t.sealed_outputs, runner, claimed.task.name));
    const outputs = JSON.parse(t.outputs) as Record<string, string>;
    const group = (JSON.parse(t.spec) as TaskSpec).strategy?.group;
    results.push({ name: t.name, status: t.status, outputs, ...(group ? { group } : {}) });
    for (const name of JSON.parse(t.confidential_outputs) as string[]) {
      const v = outputs[name];
      if (v !== undefined && v !== '') mask.add(v);
    }
  }
  const tasks = tasksContext(results, run.dialect);
  const imports: Record<string, string> = {};
  for (const imp of spec.imports) imports[imp.as] = tasks[imp.from]?.outputs[imp.variable] ?? '';
  const artifacts = (spec.artifactsFrom.length === 0 ? [] : await store.artifacts.ofRun(run.id))
    .filter((a) => spec.artifactsFrom.includes(a.task_name))
    .map((a) => ({ id: a.id, task: a.task_name, name: a.name, sizeBytes: a.size_bytes }));
  const assigned: AssignedTask = {
    runId: run.id,
    taskId: claimed.task.id,
    name: claimed.task.name,
    attempt: claimed.attempt.number,
    workflowEnv: run.env,
    spec,
    context: {
      inputs: run.inputs,
      tasks,
      matrix: spec.matrix,
      run: { id: run.id, name: run.name },
      imports,
      mask: [...mask],
      ...(run.github === undefined ? {} : { github: run.github }),
    },
    artifacts,
    ...(relayed.length === 0 ? {} : { relayed }),
  };
  if (spec.type === 'secret') assigned.relayTo = await relayRecipients(store, claimed.task);
  // The same names the run's store decided `names_secrets` from at submit (a keyless runner is never offered them).
  const wanted = secretNames(JSON.stringify(run.env), claimed.task.spec);
  if (wanted.length > 0) {
    // Only the secrets this task names, only to this runner: sealed to its public key.
    if (!runner.publicKey)
      throw new BatonError(
        'forbidden',
        `runner '${runner.name}' has no public key to receive the secrets task '${claimed.task.name}' names; register it again`,
      );
    const values: Record<string, string> = {};
    for (const row of await store.secrets.get(wanted))
      values[row.name] = masterKey.decrypt(row.name, row.ciphertext);
    assigned.sealedSecrets = await seal(JSON.stringify(values), runner.publicKey);
  }
  return assigned;
}

/** This runner's wrap of a dependency's sealed outputs; the claim offers the task to no runner without one. */
function relayedTo(from: string, envelope: string, runner: AssignedTo, task: string): RelayedOutputs {
  const sealed = JSON.parse(envelope) as SealedOutputs;
  const key = sealed.keys[runner.id];
  if (key === undefined)
    throw new BatonError(
      'forbidden',
      `runner '${runner.name}' cannot open the sealed outputs of '${from}' that task '${task}' needs: it was not registered with a key when '${from}' ran`,
    );
  return { from, nonce: sealed.nonce, ciphertext: sealed.ciphertext, key };
}

/**
 * Who a `secret` task's values are sealed to (docs/adr/0014): every enabled runner with a public key that
 * could take a task depending on it — its `runs_on` labels, its `forward.to` — decided now, when the secret
 * task is assigned. A runner registered later is not among them; "why pending" says so.
 */
async function relayRecipients(store: Store, secretTask: TaskRow): Promise<RelayRecipient[]> {
  const run = await store.runs.get(secretTask.run_id);
  const dependents = (run?.tasks ?? [])
    .map((t) => JSON.parse(t.spec) as TaskSpec)
    .filter((t) => t.dependsOn.includes(secretTask.name));
  if (dependents.length === 0) return [];
  const out: RelayRecipient[] = [];
  for (const r of await store.credentials.listRunners()) {
    if (r.public_key === null || r.disabled === 1) continue;
    const labels = JSON.parse(r.labels) as string[];
    const eligible = dependents.some(
      (t) =>
        t.runsOn.every((l) => carriesLabel(labels, l)) &&
        (t.forwardTo === undefined || t.forwardTo === r.name),
    );
    if (eligible) out.push({ id: r.id, name: r.name, publicKey: r.public_key });
  }
  return out;
}
