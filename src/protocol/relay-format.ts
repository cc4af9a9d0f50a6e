// The wire format of the sealed relay (docs/adr/0014): what a `secret` task's runner reports instead of its
// values, and what an importing task's runner receives. Types and limits only, so the UI and the schemas
// (api.ts) can use them without loading libsodium; the sealing itself is relay.ts.

/** At most this many recipients per envelope: each is one runner that may run an importing task. */
export const RELAY_MAX_RECIPIENTS = 1000;
/** Bytes of ciphertext per envelope (base64): a secret task's outputs together (64 outputs × 128 KiB, sealed). */
export const RELAY_MAX_CIPHERTEXT_CHARS = 12 * 1024 * 1024;

/** A runner that may open the envelope: the server chooses them when it assigns the `secret` task. */
export interface RelayRecipient {
  /** The runner's id: the key of its wrap in the envelope. */
  id: string;
  name: string;
  /** X25519 public key, base64 (sealed.ts). */
  publicKey: string;
}

/** What a runner sends in `complete` for a `secret` task instead of its outputs' values (schema in api.ts). */
export interface SealedOutputs {
  v: 1;
  /** The output names (not secret): the server shows them as `***` and passes them on as confidential. */
  names: string[];
  /** Base64 nonce of the secretbox. */
  nonce: string;
  /** Base64 `crypto_secretbox` of the JSON object `{name: value}`. */
  ciphertext: string;
  /** Runner id → the random key sealed to that runner's public key (base64). */
  keys: Record<string, string>;
}

/** One dependency's sealed outputs as the runner of an importing task receives them: only its own wrap. */
export interface RelayedOutputs {
  /** The dependency's task name. */
  from: string;
  nonce: string;
  ciphertext: string;
  /** The random key sealed to this runner's public key. */
  key: string;
}
