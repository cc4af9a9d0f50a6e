// SQLite schema, as numbered forward-only migrations. Never edit an applied migration: add the next one.

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: '0001-create-core-tables',
    sql: `
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  workflow TEXT NOT NULL,
  plan TEXT NOT NULL,
  inputs TEXT NOT NULL,
  outputs TEXT NOT NULL DEFAULT '{}',
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER
);
CREATE INDEX runs_by_created ON runs (created_at DESC, id DESC);
CREATE INDEX runs_by_status ON runs (status, created_at DESC);

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs (id),
  name TEXT NOT NULL,
  position INTEGER NOT NULL,
  status TEXT NOT NULL,
  spec TEXT NOT NULL,
  depends_on TEXT NOT NULL,
  runs_on TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  queued_at INTEGER,
  exit_code INTEGER,
  reason TEXT,
  message TEXT,
  outputs TEXT NOT NULL DEFAULT '{}',
  runner_id TEXT,
  started_at INTEGER,
  finished_at INTEGER,
  log_bytes INTEGER NOT NULL DEFAULT 0,
  log_truncated INTEGER NOT NULL DEFAULT 0,
  UNIQUE (run_id, name)
);
-- The claim query reads queued tasks oldest first: a partial index holds only those.
CREATE INDEX tasks_claim ON tasks (queued_at, id) WHERE status = 'queued';
CREATE INDEX tasks_by_run ON tasks (run_id, position);

CREATE TABLE attempts (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks (id),
  run_id TEXT NOT NULL,
  number INTEGER NOT NULL,
  runner_id TEXT NOT NULL,
  lease_id TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL,
  offered_at INTEGER NOT NULL,
  ack_deadline INTEGER NOT NULL,
  lease_expires_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  result TEXT,
  UNIQUE (task_id, number)
);
CREATE INDEX attempts_live ON attempts (state, lease_expires_at) WHERE state IN ('offered', 'running');
CREATE INDEX attempts_by_runner ON attempts (runner_id, state);

CREATE TABLE log_chunks (
  task_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  "offset" INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (task_id, attempt, seq)
);

CREATE TABLE runners (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  labels TEXT NOT NULL,
  capacity INTEGER NOT NULL,
  version TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  public_key TEXT,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER
);

CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  single_use INTEGER NOT NULL DEFAULT 0,
  used_at INTEGER,
  revoked_at INTEGER
);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`,
  },
  {
    id: 2,
    name: '0002-task-control-and-artifacts',
    sql: `
ALTER TABLE tasks ADD COLUMN confidential_outputs TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tasks ADD COLUMN group_name TEXT;
CREATE INDEX tasks_by_group ON tasks (run_id, group_name, status);

CREATE TABLE artifacts (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs (id),
  task_id TEXT NOT NULL REFERENCES tasks (id),
  attempt INTEGER NOT NULL,
  name TEXT NOT NULL,
  blob_key TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (task_id, attempt, name)
);
CREATE INDEX artifacts_by_run ON artifacts (run_id);
`,
  },
  {
    id: 3,
    name: '0003-run-dialect',
    sql: `ALTER TABLE runs ADD COLUMN dialect TEXT NOT NULL DEFAULT 'native';`,
  },
  {
    id: 4,
    name: '0004-secrets-and-token-scopes',
    sql: `
CREATE TABLE secrets (
  name TEXT PRIMARY KEY,
  ciphertext TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin';
`,
  },
  {
    id: 5,
    name: '0005-runner-status',
    sql: `ALTER TABLE runners ADD COLUMN status_json TEXT NOT NULL DEFAULT '{}';`,
  },
  {
    id: 6,
    name: '0006-attempts-by-runner-finished',
    // A runner's page lists its most recently finished attempts: newest first, without sorting all of them.
    sql: `CREATE INDEX attempts_by_runner_finished ON attempts (runner_id, finished_at DESC, id DESC);`,
  },
  {
    id: 7,
    name: '0007-tasks-name-secrets',
    // A task that names secrets is offered only to a runner with a public key to seal them to. Tasks queued
    // before this column existed are marked when their spec or their run's plan mentions secrets at all: a
    // keyed runner still takes them, and a keyless one is not offered a task it would be refused.
    sql: `
ALTER TABLE tasks ADD COLUMN names_secrets INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET names_secrets = 1
  WHERE status IN ('pending', 'queued')
    AND (spec LIKE '%secrets%' OR run_id IN (SELECT id FROM runs WHERE plan LIKE '%secrets%'));
`,
  },
  {
    id: 8,
    name: '0008-tasks-runner-requirements',
    // What a task needs from its runner (workflow `isolation: sandbox`, `network: false`, `limits`), as columns
    // so the claim passes over a task its runner cannot give without parsing the spec. No task queued before this
    // migration can hold these keys: the workflow reader refused them until now, so every row stays 0.
    sql: `
ALTER TABLE tasks ADD COLUMN needs_sandbox INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN needs_network_off INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN needs_limits INTEGER NOT NULL DEFAULT 0;
`,
  },
  {
    id: 9,
    name: '0009-ephemeral-runners',
    // A pool slot's runner serves one task and is then removed (on unregister, or by the reaper when it dies).
    sql: `ALTER TABLE runners ADD COLUMN ephemeral INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    id: 10,
    name: '0010-push-runners',
    // Push runners (Automn-compatible): the server POSTs tasks to them. Only a salted hash of each secret is kept;
    // what the runner advertises at registration (version, os, runtimes…) is kept whole in info_json.
    sql: `
CREATE TABLE push_runners (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  secret_hash TEXT NOT NULL,
  labels TEXT NOT NULL DEFAULT '[]',
  status_message TEXT,
  endpoint TEXT,
  max_concurrency INTEGER,
  timeout_ms INTEGER,
  info_json TEXT NOT NULL DEFAULT '{}',
  last_seen_at INTEGER,
  disabled_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
`,
  },
  {
    id: 11,
    name: '0011-push-runner-keys',
    // A push runner that is `baton runner serve` sends its public key (tasks' secrets are sealed to it), and the
    // runner's secret is kept sealed under the master key once it registered with it, so every replica (and the
    // server after a restart) can dispatch to it; a rotation clears it until the runner registers again.
    sql: `
ALTER TABLE push_runners ADD COLUMN public_key TEXT;
ALTER TABLE push_runners ADD COLUMN sealed_secret TEXT;
`,
  },
  {
    id: 13,
    name: '0013-sealed-relay',
    // A `secret` task's outputs as the envelope its runner sealed to the importing tasks' runners (never the
    // values), and on each task depending on one, the ids of the runners that can open it: the claim offers
    // the task to no other runner (docs/adr/0014).
    sql: `
ALTER TABLE tasks ADD COLUMN sealed_outputs TEXT;
ALTER TABLE tasks ADD COLUMN relay_to TEXT;
`,
  },
  {
    id: 14,
    name: '0014-cache-entries',
    // Cached task results (issue 16): one entry per (workflow name, key), its outputs as JSON, reused until
    // expires_at; the tasks that used the cache say so (cache_hit, the key, and the entry's age when they did).
    sql: `
CREATE TABLE cache_entries (
  workflow TEXT NOT NULL,
  key TEXT NOT NULL,
  outputs TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (workflow, key)
);
CREATE INDEX cache_entries_expires ON cache_entries (expires_at);
ALTER TABLE tasks ADD COLUMN cache_key TEXT;
ALTER TABLE tasks ADD COLUMN cache_hit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN cache_age_ms INTEGER;
`,
  },
  {
    id: 16,
    name: '0016-webhooks',
    // Webhooks (server ones for run and task events; a runner's own for the start and finish of its tasks) and
    // their deliveries: a pending delivery is a row, so it survives a restart; every attempt is kept for the log.
    sql: `
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  sealed_secret TEXT NOT NULL,
  runner_id TEXT UNIQUE REFERENCES runners(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL
);
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  created_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_of ON webhook_deliveries (webhook_id, created_at);
CREATE TABLE webhook_attempts (
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status_code INTEGER,
  duration_ms INTEGER NOT NULL,
  error TEXT,
  PRIMARY KEY (delivery_id, attempt)
);
`,
  },
  {
    id: 17,
    name: '0017-task-annotations',
    // GitHub workflow commands' annotations and the steps' GITHUB_STEP_SUMMARY Markdown, per task (JSON; null
    // when the task reported none), shown by the API, the CLI and the UI (issue 18).
    sql: `
ALTER TABLE tasks ADD COLUMN annotations TEXT;
ALTER TABLE tasks ADD COLUMN summaries TEXT;
`,
  },
  {
    id: 18,
    name: '0018-run-github-context',
    // GitHub-dialect runs (issue 18, docs/adr/0018-github-context.md): the checkout and event facts, vars and typed
    // inputs the run was submitted with, as JSON; NULL for runs of the other dialects.
    sql: `
ALTER TABLE runs ADD COLUMN github_context TEXT;
`,
  },
  {
    id: 20,
    name: '0020-task-steps',
    // Each step of a task's latest attempt as its runner reported it: status, exit code, times and the byte
    // range of the task log it wrote (issue 19). JSON; NULL until the attempt ends.
    sql: `
ALTER TABLE tasks ADD COLUMN steps TEXT;
`,
  },
  {
    id: 21,
    name: '0021-run-submitter',
    // Who submitted a run: the name of the user token (or "token <id>" for an unnamed one), for the runs list.
    sql: `
ALTER TABLE runs ADD COLUMN submitted_by TEXT;
`,
  },
  {
    id: 22,
    name: '0022-log-bytes',
    // Log chunks' bytes live in one file per attempt in the blob store (docs/adr/0021-log-bytes.md); a row is
    // only the index: its byte length here and '' as data. Rows from before keep their text and a NULL length.
    sql: `
ALTER TABLE log_chunks ADD COLUMN length INTEGER;
`,
  },
  {
    id: 23,
    name: '0023-tasks-by-run-status',
    // A completion asks "what of this run is still pending / unfinished?": without this index each answer read
    // every task row of the run, quadratic in its size (a 1,000-task run: ~0.5 ms of server CPU per completion).
    sql: `
CREATE INDEX tasks_by_run_status ON tasks (run_id, status);
`,
  },
];
