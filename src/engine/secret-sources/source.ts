// The plugin interface of the `secret` task type: one module per source (baton.ts, vault.ts), registered in
// index.ts. Adding a source is adding a module and one line there (and its keys in workflow/secret-task.ts).
//
// Contract: fetch() is called once per attempt with the task's spec, every `${{ }}` already evaluated on this
// runner. It resolves with the secret's key/value pairs (strings) or rejects with a SecretSourceError whose
// message a user can act on: what failed, where (the path), and the source's own words — never a value. It
// must stop when `signal` aborts (the task's timeout, the fetch timeout or a cancel) and must not read more
// than `maxResponseBytes` of any answer. It must not log: the engine logs what a user may see.

export interface SecretFetchContext {
  task: string;
  signal: AbortSignal;
  /** No answer body larger than this is read (SECRET_RESPONSE_MAX_BYTES). */
  maxResponseBytes: number;
}

export interface SecretSource {
  /** The `source` a spec names. */
  readonly name: string;
  fetch(spec: Record<string, unknown>, ctx: SecretFetchContext): Promise<Record<string, string>>;
}

/** A failure the task's log shows as it is: the message names the source, the path and the cause. */
export class SecretSourceError extends Error {
  override name = 'SecretSourceError';
}
