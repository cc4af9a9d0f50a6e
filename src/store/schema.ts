// Row types of every table, as Kysely sees them. Times are integers: milliseconds since the epoch (server clock).
import type { Generated } from 'kysely';

export interface RunRow {
  id: string;
  name: string;
  /** The workflow syntax: native, harness, bountyhub or github. */
  dialect: string;
  status: string;
  workflow: string;
  plan: string;
  inputs: string;
  outputs: string;
  cancel_requested: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  /** GitHub-dialect runs: GitHubRunContext as JSON (protocol/github-context.ts); null otherwise. */
  github_context: string | null;
  /** The user token that submitted it: its name, or `token <id>`; null for runs from before it was kept. */
  submitted_by: string | null;
}

export interface TaskRow {
  id: string;
  run_id: string;
  name: string;
  position: number;
  status: string;
  spec: string;
  depends_on: string;
  runs_on: string;
  attempt: number;
  queued_at: number | null;
  exit_code: number | null;
  reason: string | null;
  message: string | null;
  outputs: string;
  runner_id: string | null;
  started_at: number | null;
  finished_at: number | null;
  log_bytes: number;
  log_truncated: number;
  /** JSON list of the latest attempt's steps (StepRecord), NULL until the attempt ends. */
  steps: string | null;
  /** JSON list of output names whose values are confidential. */
  confidential_outputs: string;
  /** Matrix group (the task name as written) for matrix expansions. */
  group_name: string | null;
  /** 1 when the task (or its workflow's env) names a secret: offered only to runners with a public key. */
  names_secrets: number;
  /** 1 when the task declares `isolation: sandbox`: offered only to runners reporting `isolation: 'sandbox'`. */
  needs_sandbox: number;
  /** 1 when the task declares `network: false`: offered only to runners reporting `networkIsolation: true`. */
  needs_network_off: number;
  /** 1 when the task declares `limits`: offered only to runners reporting `limits: true`. */
  needs_limits: number;
  /** A `secret` task's outputs sealed to its importers' runners (JSON relay.ts SealedOutputs), else null. */
  sealed_outputs: string | null;
  /** JSON list of runner ids: only these may take the task (they can open a dependency's sealed outputs). */
  relay_to: string | null;
  /** The cache key the task used (a task declaring `cache:`); null otherwise. */
  cache_key: string | null;
  /** 1 when the task did not execute: its outputs came from the cache. */
  cache_hit: number;
  /** On a hit, how old the cache entry was when the task used it. */
  cache_age_ms: number | null;
  /** JSON list of the annotations its last attempt reported (protocol/annotations.ts), else null. */
  annotations: string | null;
  /** JSON list of its steps' summaries (GITHUB_STEP_SUMMARY) from its last attempt, else null. */
  summaries: string | null;
}

/** A cached task result: the outputs of a succeeded task, per workflow name and key, until expires_at. */
export interface CacheEntryRow {
  workflow: string;
  key: string;
  /** JSON object of the outputs. */
  outputs: string;
  size_bytes: number;
  created_at: number;
  expires_at: number;
}

export interface ArtifactRow {
  id: string;
  run_id: string;
  task_id: string;
  attempt: number;
  name: string;
  blob_key: string;
  size_bytes: number;
  sha256: string;
  created_at: number;
}

/** `state`: offered → running → finished | expired (offer never confirmed) | lost (lease ran out). */
export interface AttemptRow {
  id: string;
  task_id: string;
  run_id: string;
  number: number;
  runner_id: string;
  lease_id: string;
  state: string;
  offered_at: number;
  ack_deadline: number;
  lease_expires_at: number;
  started_at: number | null;
  finished_at: number | null;
  cancel_requested: number;
  result: string | null;
}

export interface LogChunkRow {
  task_id: string;
  attempt: number;
  seq: number;
  offset: number;
  /** The chunk's text for rows stored before migration 22; '' for rows whose bytes are in the log file. */
  data: string;
  /** Bytes of the chunk in the attempt's log file (docs/adr/0021-log-bytes.md); null for older rows. */
  length: number | null;
}

export interface RunnerRow {
  id: string;
  name: string;
  labels: string;
  capacity: number;
  version: string;
  token_hash: string;
  public_key: string | null;
  disabled: number;
  created_at: number;
  last_seen_at: number | null;
  /** JSON RunnerStatus the runner last reported (isolation, free disk, why it refuses tasks). */
  status_json: string;
  /** 1 for a pool slot's one-task runner: it takes at most one task and is removed when it ends or dies. */
  ephemeral: number;
}

export interface TokenRow {
  id: string;
  kind: string;
  /** User tokens: `admin`, `submit` or `read` (each includes the ones after it). */
  scope: string;
  name: string | null;
  hash: string;
  created_at: number;
  expires_at: number | null;
  single_use: number;
  used_at: number | null;
  revoked_at: number | null;
}

export interface MigrationRow {
  id: number;
  name: string;
  applied_at: number;
}

export interface SecretRow {
  name: string;
  /** Encrypted with the server's master key (see server/master-key.ts); never the plain value. */
  ciphertext: string;
  created_at: number;
  updated_at: number;
}

export interface SettingRow {
  key: string;
  value: string;
}

export interface PushRunnerRow {
  id: string;
  name: string;
  /** `scrypt$<salt>$<hash>` of the secret (base64url); the secret itself is never stored. */
  secret_hash: string;
  /** JSON string array: the labels a task's `runs_on` can select it by (besides its name). */
  labels: string;
  status_message: string | null;
  /** The URL the runner last registered (its `/api/run`); null until it registers, and after a rotation. */
  endpoint: string | null;
  max_concurrency: number | null;
  timeout_ms: number | null;
  /** JSON of what it advertised: version, minimumHostVersion, os, platform, arch, uptime, runtimes. */
  info_json: string;
  last_seen_at: number | null;
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
  /** The X25519 public key a `baton runner serve` registered with (null for a real Automn runner). */
  public_key: string | null;
  /**
   * The secret the runner last registered with, encrypted with the server's master key (server/master-key.ts):
   * what the dispatcher presents to its `/api/run`. Null until it registers, and again after a rotation.
   */
  sealed_secret: string | null;
}

export interface WebhookRow {
  id: string;
  url: string;
  /** JSON string array of the events it receives (`run.finished`, `task.failed`, …; `runner.task` for a runner's). */
  events: string;
  /** The HMAC signing secret, encrypted with the master key under the name `webhook:<id>`. */
  sealed_secret: string;
  /** Set for a runner's own webhook (seed 003: start/finish of its tasks); null for a server webhook. */
  runner_id: string | null;
  created_at: number;
}

export interface WebhookDeliveryRow {
  id: string;
  webhook_id: string;
  event: string;
  /** The exact JSON body sent (and signed) at every attempt. */
  payload: string;
  /** pending (waiting for its next attempt), delivered (a 2xx answer), failed (attempts exhausted). */
  status: string;
  attempts: number;
  /** When the next attempt is due; a sender pushes it forward while it holds the delivery. Null when final. */
  next_attempt_at: number | null;
  created_at: number;
  finished_at: number | null;
}

export interface WebhookAttemptRow {
  delivery_id: string;
  attempt: number;
  at: number;
  /** The receiver's HTTP status, or null when none came (refused, timed out). */
  status_code: number | null;
  duration_ms: number;
  error: string | null;
}

export interface Database {
  runs: RunRow;
  tasks: TaskRow;
  attempts: AttemptRow;
  log_chunks: LogChunkRow;
  runners: RunnerRow;
  tokens: TokenRow;
  baton_migrations: MigrationRow;
  settings: SettingRow;
  artifacts: ArtifactRow;
  secrets: SecretRow;
  push_runners: PushRunnerRow;
  cache_entries: CacheEntryRow;
  webhooks: WebhookRow;
  webhook_deliveries: WebhookDeliveryRow;
  webhook_attempts: WebhookAttemptRow;
  _unused?: { id: Generated<number> };
}
