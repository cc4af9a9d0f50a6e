// The sealed relay of fetched secrets (docs/adr/0014): a `secret` task's outputs leave the runner that
// fetched them only as an envelope the server cannot open. The values are encrypted once under a random key
// (libsodium `crypto_secretbox`, XSalsa20-Poly1305); that key is sealed (`crypto_box_seal`) to each
// recipient runner's X25519 public key. The server stores the envelope and hands each importing task's
// runner its own wrap of the key; it never holds a key that opens the values.
import type { AssignedTask } from './plan.ts';
import type { RelayedOutputs, RelayRecipient, SealedOutputs } from './relay-format.ts';
import { openSealed, openSecretBox, secretBox, seal, type KeyPair } from './sealed.ts';

/** Encrypts `outputs` once and wraps the key for each recipient. */
export async function sealOutputs(
  outputs: Record<string, string>,
  recipients: RelayRecipient[],
): Promise<SealedOutputs> {
  const box = await secretBox(JSON.stringify(outputs));
  const keys: Record<string, string> = {};
  for (const r of recipients) keys[r.id] = await seal(box.key, r.publicKey);
  return { v: 1, names: Object.keys(outputs), nonce: box.nonce, ciphertext: box.ciphertext, keys };
}

/** Opens one relayed envelope with this runner's key pair; throws when it is not a recipient or it was altered. */
export async function openRelayed(relayed: RelayedOutputs, keys: KeyPair): Promise<Record<string, string>> {
  const key = await openSealed(relayed.key, keys);
  const plain = await openSecretBox(relayed.ciphertext, relayed.nonce, key);
  const parsed = JSON.parse(plain) as unknown;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`the sealed outputs of '${relayed.from}' are not an object`);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) if (typeof value === 'string') out[name] = value;
  return out;
}

/**
 * The task with its relayed dependencies' values in place: in `tasks.<from>.outputs`, in the imports that
 * read them, and in the values to mask — exactly where the server puts a dependency's ordinary outputs.
 */
export async function withRelayedValues(
  task: AssignedTask,
  keys: KeyPair | undefined,
): Promise<AssignedTask> {
  const relayed = task.relayed ?? [];
  if (relayed.length === 0) return task;
  if (keys === undefined)
    throw new Error(
      'the task imports sealed secret outputs but this runner has no key pair; register it again',
    );
  const tasks = { ...task.context.tasks };
  const imports = { ...task.context.imports };
  const mask = [...task.context.mask];
  for (const r of relayed) {
    let values: Record<string, string>;
    try {
      values = await openRelayed(r, keys);
    } catch (error) {
      throw new Error(
        `cannot open the sealed outputs of task '${r.from}' with this runner's key: ${(error as Error).message}`,
      );
    }
    const entry = tasks[r.from] ?? { outputs: {}, result: 'succeeded' };
    tasks[r.from] = { ...entry, outputs: { ...entry.outputs, ...values } };
    for (const imp of task.spec.imports)
      if (imp.from === r.from && values[imp.variable] !== undefined) imports[imp.as] = values[imp.variable]!;
    for (const v of Object.values(values)) if (v !== '') mask.push(v);
  }
  return { ...task, relayed: [], context: { ...task.context, tasks, imports, mask } };
}

export type { RelayedOutputs, RelayRecipient, SealedOutputs } from './relay-format.ts';
