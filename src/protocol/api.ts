// Request and response schemas of API v1 (TypeBox: JSON Schema that is also the TypeScript type).
import { Type, type Static } from '@sinclair/typebox';
import { RELAY_MAX_CIPHERTEXT_CHARS, RELAY_MAX_RECIPIENTS } from './relay-format.ts';
import { RUN_SHAPES, RUN_STATUSES, OUTCOMES, REASONS, RUNNER_STATUSES, type RunShape } from './status.ts';
import type { AssignedTask } from './plan.ts';
import { GITHUB_FACT_MAX_CHARS, type GitHubFacts } from './github-context.ts';
import { RUN_NAME_FILTER_MAX_CHARS, RUNNER_RECENT_TASKS_DEFAULT, RUNNER_RECENT_TASKS_MAX } from './limits.ts';
import { CompleteCache } from './cache.ts';
import { AnnotationsSchema, StepSummariesSchema } from './annotations.ts';
import { RUNNER_LABEL_MAX_CHARS, RUNNER_LABELS_MAX, RUNNER_REGISTER_LABEL_PATTERN } from './labels.ts';
import {
  CUSTOM_TASK_TYPE_MAX_CHARS,
  CUSTOM_TASK_TYPE_PATTERN,
  DRIVER_VERSION_MAX_CHARS,
  DRIVERS_MAX,
} from './task-types.ts';

export { RUN_NAME_FILTER_MAX_CHARS, RUNNER_RECENT_TASKS_DEFAULT, RUNNER_RECENT_TASKS_MAX };

export const PROTOCOL_VERSION = 1;

const StringMap = Type.Record(Type.String(), Type.String());
const Iso = Type.String({ description: 'ISO 8601 timestamp' });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
/**
 * An integer or null in a request body. The server validates with type coercion, and a union coerces in its
 * first branch: `[Integer, Null]` turned a null exit code (a step that never started) into 0, `[Null, Integer]`
 * turns 0 into null. One `type` list coerces only a value that matches neither (issue 12, finding 8).
 */
const IntegerOrNull = Type.Unsafe<number | null>({ type: ['integer', 'null'] });
const StatusSchema = Type.Union(RUN_STATUSES.map((s) => Type.Literal(s)));

// ---- runs (user API) ----

const Fact = Type.String({ maxLength: GITHUB_FACT_MAX_CHARS });
/** GitHubFacts (github-context.ts) as the submit body takes them. */
const GitHubFactsSchema = Type.Unsafe<GitHubFacts>(
  Type.Object(
    {
      event_name: Fact,
      event: Type.Record(Type.String(), Type.Unknown()),
      sha: Fact,
      ref: Fact,
      ref_name: Fact,
      ref_type: Fact,
      repository: Fact,
      repository_owner: Fact,
      actor: Fact,
      workflow: Type.Optional(Fact),
      workflow_ref: Type.Optional(Fact),
      workflow_sha: Type.Optional(Fact),
    },
    { additionalProperties: false },
  ),
);

export const SubmitRunBody = Type.Object(
  {
    workflow: Type.String({ description: 'The workflow file text, YAML or JSON' }),
    inputs: Type.Optional(StringMap),
    fileName: Type.Optional(Type.String({ maxLength: 255 })),
    /** Run only these jobs (tasks; a matrix by its id) and what they need (`baton run --job`). */
    jobs: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), { maxItems: 1000 })),
    actions: Type.Optional(
      Type.Record(
        Type.String({ maxLength: 1024 }),
        Type.Object(
          { file: Type.String({ maxLength: 255 }), text: Type.String() },
          { additionalProperties: false },
        ),
        {
          description:
            "GitHub dialect: the action.yml of each local action its `uses: ./…` steps name (nested ones too), by the action's directory relative to the repository root ('.github/actions/x'); the CLI sends them",
        },
      ),
    ),
    /** GitHub-dialect runs: the checkout and event facts (docs/adr/0018-github-context.md). */
    github: Type.Optional(GitHubFactsSchema),
    /** GitHub-dialect runs: the `vars` context. */
    vars: Type.Optional(StringMap),
  },
  { additionalProperties: false },
);
export type SubmitRunBody = Static<typeof SubmitRunBody>;

/**
 * One step of an attempt, as the runner reports it with the result: `status` is succeeded, failed, skipped (its
 * `if` was false, or an earlier step failed), cancelled or timed_out. `logStart`/`logEnd`: the byte range of the
 * task log the step wrote (from its first byte to the first byte after it; a log cut at its size limit has a
 * marker where bytes were dropped, so a range past the cut is approximate).
 */
export const StepResult = Type.Object({
  name: Type.String({ maxLength: 1000 }),
  status: Type.String({ maxLength: 32 }),
  exitCode: IntegerOrNull,
  startedAt: Type.Optional(Iso),
  finishedAt: Type.Optional(Iso),
  durationMs: Type.Optional(Type.Number()),
  logStart: Type.Optional(Type.Integer({ minimum: 0 })),
  logEnd: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type StepRecord = Static<typeof StepResult>;

export const TaskResult = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: StatusSchema,
  attempt: Type.Integer(),
  exitCode: Type.Union([Type.Integer(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  message: Type.Union([Type.String(), Type.Null()]),
  outputs: StringMap,
  dependsOn: Type.Array(Type.String()),
  runsOn: Type.Array(Type.String()),
  startedAt: Nullable(Iso),
  finishedAt: Nullable(Iso),
  runner: Type.Union([Type.String(), Type.Null()]),
  logBytes: Type.Integer(),
  logTruncated: Type.Boolean(),
  /** The steps of its latest attempt once it ended (absent before, and for tasks that have none). */
  steps: Type.Optional(Type.Array(StepResult)),
  /** The task did not execute: its outputs came from the cache (issue 16); absent when not. */
  cached: Type.Optional(Type.Boolean()),
  /** The cache key the task used (a task declaring `cache:`), hit or miss. */
  cacheKey: Type.Optional(Type.String()),
  /** On a hit: how old the cached result was when the task used it. */
  cacheAgeMs: Type.Optional(Type.Integer()),
  /** ::error::, ::warning:: and ::notice:: workflow commands of its steps (annotations.ts); absent when none. */
  annotations: Type.Optional(AnnotationsSchema),
  /** What its steps wrote to GITHUB_STEP_SUMMARY (Markdown, masked); absent when none. */
  summaries: Type.Optional(StepSummariesSchema),
});
export type TaskResult = Static<typeof TaskResult>;

export const RunResult = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: StatusSchema,
  createdAt: Iso,
  startedAt: Nullable(Iso),
  finishedAt: Nullable(Iso),
  inputs: StringMap,
  outputs: StringMap,
  results: Type.Record(Type.String(), TaskResult),
});
export type RunResult = Static<typeof RunResult>;

export { RUN_SHAPES, type RunShape };

/**
 * A task's status in the Harness design's words: `success`, `failed` (also cancelled, timed out and runner
 * lost), `skipped`; a task not finished yet is `pending` (pending, queued) or `running`.
 */
export const TASK_GROUP_STATUSES = ['success', 'failed', 'skipped', 'pending', 'running'] as const;
export type TaskGroupStatus = (typeof TASK_GROUP_STATUSES)[number];

/**
 * The run as the Harness design's "Task Group Result": each task's id, name, status and its `global` exports
 * only (a confidential one is `***`).
 */
export const TaskGroupResult = Type.Object({
  id: Type.String(),
  results: Type.Record(
    Type.String(),
    Type.Object({
      name: Type.String(),
      id: Type.String(),
      status: Type.Union(TASK_GROUP_STATUSES.map((s) => Type.Literal(s))),
      outputs: StringMap,
    }),
  ),
});
export type TaskGroupResult = Static<typeof TaskGroupResult>;

export const RunShowQuery = Type.Object({
  shape: Type.Optional(
    Type.String({
      maxLength: 64,
      description: `${RUN_SHAPES.join(' or ')}: \`run\` (default) is the run result, \`task-group\` the Harness task-group result`,
    }),
  ),
});

export const RunSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: StatusSchema,
  createdAt: Iso,
  startedAt: Nullable(Iso),
  finishedAt: Nullable(Iso),
  taskCount: Type.Integer(),
  /** Tasks that have ended (any final status): the run's progress, `tasksDone/taskCount`. */
  tasksDone: Type.Integer(),
  /** The name of the user token that submitted the run (`token <id>` when unnamed); null for older runs. */
  submittedBy: Nullable(Type.String()),
});
export type RunSummary = Static<typeof RunSummary>;

export const ListRunsQuery = Type.Object({
  status: Type.Optional(StatusSchema),
  name: Type.Optional(
    Type.String({
      description: `Only runs whose name contains this text, ignoring case; \`%\` and \`_\` are literal (at most ${RUN_NAME_FILTER_MAX_CHARS} characters)`,
    }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  before: Type.Optional(Type.String({ description: 'Return runs older than this run id (paging)' })),
});
export type ListRunsQuery = Static<typeof ListRunsQuery>;

export const ListRunsResponse = Type.Object({ runs: Type.Array(RunSummary) });
export type ListRunsResponse = Static<typeof ListRunsResponse>;

/** One server-sent event on `GET /api/v1/runs/:id/events`. */
export const RunEvent = Type.Object({
  type: Type.Union([Type.Literal('run'), Type.Literal('task')]),
  runId: Type.String(),
  task: Type.Optional(Type.String()),
  status: StatusSchema,
  attempt: Type.Optional(Type.Integer()),
  runner: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
});
export type RunEvent = Static<typeof RunEvent>;

// ---- runners and tokens ----

export const RegisterRunnerBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_][A-Za-z0-9_.@-]*$' }),
    labels: Type.Array(
      Type.String({
        minLength: 1,
        maxLength: RUNNER_LABEL_MAX_CHARS,
        pattern: RUNNER_REGISTER_LABEL_PATTERN,
      }),
      { maxItems: RUNNER_LABELS_MAX },
    ),
    capacity: Type.Integer({ minimum: 1, maximum: 256 }),
    version: Type.String({ maxLength: 50 }),
    publicKey: Type.Optional(Type.String({ maxLength: 200 })),
    /**
     * A one-task runner of an ephemeral pool: the server offers it at most one task and removes it when it
     * unregisters or dies, so the runner list keeps no dead pool slots.
     */
    ephemeral: Type.Optional(Type.Boolean()),
    /**
     * The runner's webhook (config `webhook`, seed 003): the server POSTs `{action: "start"|"finish", …}` there
     * when it gives this runner a task and when the task ends, signed with a per-runner secret answered once.
     */
    webhook: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  },
  { additionalProperties: false },
);
export type RegisterRunnerBody = Static<typeof RegisterRunnerBody>;

export const RegisterRunnerResponse = Type.Object({
  runnerId: Type.String(),
  token: Type.String(),
  /** The signing secret of the runner's webhook (`X-Baton-Signature`), when it sent one: shown only here. */
  webhookSecret: Type.Optional(Type.String()),
});
export type RegisterRunnerResponse = Static<typeof RegisterRunnerResponse>;

/** `GET /api/v1/runner`: who a runner token belongs to (`baton runner setup` checks a token given to it). */
export const RunnerSelfResponse = Type.Object({
  runnerId: Type.String(),
  name: Type.String(),
  labels: Type.Array(Type.String()),
  capacity: Type.Integer(),
  hasKey: Type.Boolean(),
});
export type RunnerSelfResponse = Static<typeof RunnerSelfResponse>;

/** What a runner says about itself: shown in the fleet list and in "why is this task pending". */
export const RunnerStatusBody = Type.Object(
  {
    /** `host`: tasks run as the runner's user, unsuitable for untrusted code. */
    isolation: Type.Union([Type.Literal('host'), Type.Literal('sandbox')]),
    freeDiskBytes: Type.Integer({ minimum: 0 }),
    minFreeDiskBytes: Type.Integer({ minimum: 0 }),
    /** Why the runner takes no tasks right now (e.g. its disk is nearly full); absent when it does. */
    refusing: Type.Optional(Type.String({ maxLength: 500 })),
    /** The runner was told to stop: it finishes its running tasks and takes no new ones; absent otherwise. */
    draining: Type.Optional(Type.Boolean()),
    /**
     * Whether the runner can run a task declaring `network: false` (only a loopback of its own): true for a
     * sandbox whose bubblewrap can make a network namespace; absent or false otherwise.
     */
    networkIsolation: Type.Optional(Type.Boolean()),
    /** The runner enforces a task's resource limits (cgroups); a task with limits is offered only to such runners. */
    limits: Type.Optional(Type.Boolean()),
    /**
     * The custom task types this runner has a driver for (its drivers directory, docs/drivers.md), each with the
     * driver's version (a hash of the executable); a task of a custom type is offered only to a runner listing it.
     */
    drivers: Type.Optional(
      Type.Array(
        Type.Object(
          {
            type: Type.String({
              minLength: 1,
              maxLength: CUSTOM_TASK_TYPE_MAX_CHARS,
              pattern: CUSTOM_TASK_TYPE_PATTERN,
            }),
            version: Type.String({ maxLength: DRIVER_VERSION_MAX_CHARS }),
          },
          { additionalProperties: false },
        ),
        { maxItems: DRIVERS_MAX },
      ),
    ),
  },
  { additionalProperties: false },
);
export type RunnerStatusBody = Static<typeof RunnerStatusBody>;

/** The answer to a status report: how often to repeat it while waiting for work, and when silence is offline. */
export const RunnerStatusResponse = Type.Object({
  heartbeatIntervalMs: Type.Integer({ minimum: 1 }),
  offlineAfterMs: Type.Integer({ minimum: 1 }),
});
export type RunnerStatusResponse = Static<typeof RunnerStatusResponse>;

export const RunnerView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  labels: Type.Array(Type.String()),
  capacity: Type.Integer(),
  version: Type.String(),
  /** See RUNNER_STATUSES for what each means and which wins when several apply. */
  status: Type.Union(RUNNER_STATUSES.map((s) => Type.Literal(s))),
  activeTasks: Type.Integer(),
  createdAt: Iso,
  lastSeenAt: Nullable(Iso),
  /** A one-task runner of an ephemeral pool (`baton runner pool`); absent for ordinary runners. */
  ephemeral: Type.Optional(Type.Boolean()),
  /** The runner's last report; absent until it sent one. */
  report: Type.Optional(RunnerStatusBody),
});
export type RunnerView = Static<typeof RunnerView>;

/** One attempt of a task on a runner, as its page lists it. */
export const RunnerTask = Type.Object({
  runId: Type.String(),
  runName: Type.String(),
  task: Type.String(),
  attempt: Type.Integer(),
  /** `running` while the runner holds it (`startedAt` is null until it confirms the offer); then how it ended. */
  status: StatusSchema,
  /** Why it ended so (`exit_code`, `timeout`, `runner_lost`, …); null while running or when it succeeded. */
  reason: Type.Union([Type.String(), Type.Null()]),
  exitCode: Type.Union([Type.Integer(), Type.Null()]),
  offeredAt: Iso,
  startedAt: Nullable(Iso),
  finishedAt: Nullable(Iso),
  /** finishedAt − startedAt in ms; null while running. */
  durationMs: Type.Union([Type.Integer(), Type.Null()]),
});
export type RunnerTask = Static<typeof RunnerTask>;

export const RunnerDetailQuery = Type.Object({
  recent: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: RUNNER_RECENT_TASKS_MAX,
      default: RUNNER_RECENT_TASKS_DEFAULT,
      description: 'How many recently finished tasks to list',
    }),
  ),
});
export type RunnerDetailQuery = Static<typeof RunnerDetailQuery>;

/** A runner's page: the runner, the tasks it holds now (oldest first), those it finished (newest first). */
export const RunnerDetail = Type.Object({
  runner: RunnerView,
  current: Type.Array(RunnerTask),
  recent: Type.Array(RunnerTask),
});
export type RunnerDetail = Static<typeof RunnerDetail>;

export const CreateTokenBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('user'), Type.Literal('registration')]),
    name: Type.Optional(Type.String({ maxLength: 100 })),
    expiresInSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
    singleUse: Type.Optional(Type.Boolean()),
    /** User tokens: what they may do (default admin). */
    scope: Type.Optional(Type.Union([Type.Literal('admin'), Type.Literal('submit'), Type.Literal('read')])),
  },
  { additionalProperties: false },
);
export type CreateTokenBody = Static<typeof CreateTokenBody>;

export const CreateTokenResponse = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  token: Type.String(),
  expiresAt: Nullable(Iso),
});
export type CreateTokenResponse = Static<typeof CreateTokenResponse>;

// ---- runner protocol ----

export const AcquireBody = Type.Object(
  {
    capacity: Type.Integer({ minimum: 1, maximum: 256, description: 'Free task slots on the runner' }),
    waitMs: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 30_000, description: 'Long-poll hold; default 25 s' }),
    ),
  },
  { additionalProperties: false },
);
export type AcquireBody = Static<typeof AcquireBody>;

/** The assigned task (see AssignedTask in plan.ts); its shape is owned by the plan types. */
export const AssignedTaskSchema = Type.Unsafe<AssignedTask>(Type.Object({}, { additionalProperties: true }));

export const AcquireResponse = Type.Object({
  lease: Type.String(),
  leaseExpiresAt: Iso,
  /** Confirm with `start` before this, or the offer returns to the queue. */
  ackDeadline: Iso,
  heartbeatIntervalMs: Type.Integer(),
  leaseTtlMs: Type.Integer(),
  task: AssignedTaskSchema,
});
export type AcquireResponse = Static<typeof AcquireResponse>;

export const LeaseResponse = Type.Object({
  leaseExpiresAt: Iso,
  cancel: Type.Boolean(),
});
export type LeaseResponse = Static<typeof LeaseResponse>;

/**
 * Bytes of UTF-8 per log chunk. Checked by the server's handler, not the schema: a schema maxLength counts
 * characters one by one, which cost the server 2 ms per MiB of log (issue 8).
 */
export const MAX_LOG_CHUNK_BYTES = 1_048_576;

export const LogChunk = Type.Object({
  seq: Type.Integer({ minimum: 0 }),
  offset: Type.Integer({ minimum: 0, description: 'Byte offset of this chunk in the attempt log (UTF-8)' }),
  data: Type.String({ description: `At most ${MAX_LOG_CHUNK_BYTES} bytes of UTF-8` }),
});
export type LogChunk = Static<typeof LogChunk>;

export const LogsBody = Type.Object(
  { chunks: Type.Array(LogChunk, { maxItems: 1000 }) },
  { additionalProperties: false },
);
export type LogsBody = Static<typeof LogsBody>;

export const LogsResponse = Type.Object({
  /** Highest seq stored contiguously from 0; everything up to it is durable. */
  ackedSeq: Type.Integer(),
  cancel: Type.Boolean(),
});
export type LogsResponse = Static<typeof LogsResponse>;

/** relay.ts SealedOutputs: a `secret` task's outputs sealed to the runners that will import them. */
export const SealedOutputsSchema = Type.Object(
  {
    v: Type.Literal(1),
    names: Type.Array(Type.String({ maxLength: 200 }), { maxItems: 1000 }),
    nonce: Type.String({ maxLength: 64 }),
    ciphertext: Type.String({ maxLength: RELAY_MAX_CIPHERTEXT_CHARS }),
    keys: Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 200 }), {
      maxProperties: RELAY_MAX_RECIPIENTS,
    }),
  },
  { additionalProperties: false },
);

/**
 * The steps of a running attempt so far (`POST /api/v1/runner/leases/:lease/steps`): the runner sends them when a
 * step has run for a while or a step it reported as running ended, so followers see steps live. The last one may
 * have status `running`. The completion's `steps` replace them.
 */
export const StepsBody = Type.Object(
  { steps: Type.Array(StepResult, { maxItems: 1000 }) },
  { additionalProperties: false },
);
export type StepsBody = Static<typeof StepsBody>;

/** One `step` event of `GET /api/v1/runs/:id/events`: a running task's steps so far. */
export const StepsEvent = Type.Object({
  task: Type.String(),
  attempt: Type.Integer(),
  steps: Type.Array(StepResult),
});
export type StepsEvent = Static<typeof StepsEvent>;

export const CompleteBody = Type.Object(
  {
    status: Type.Union(OUTCOMES.map((s) => Type.Literal(s))),
    reason: Type.Optional(Type.Union(REASONS.map((s) => Type.Literal(s)))),
    message: Type.Optional(Type.String({ maxLength: 10_000 })),
    exitCode: IntegerOrNull,
    outputs: StringMap,
    /** Output names whose values are confidential (masked, never shown by the API). */
    confidential: Type.Optional(Type.Array(Type.String(), { maxItems: 1000 })),
    /**
     * A `secret` task's outputs, sealed to the runners of the tasks depending on it (relay.ts, docs/adr/0014);
     * `outputs` then holds each name with an empty value.
     */
    sealedOutputs: Type.Optional(SealedOutputsSchema),
    steps: Type.Array(StepResult, { maxItems: 1000 }),
    /** The runner cut the log at its size limit (first and last parts kept). */
    logTruncated: Type.Optional(Type.Boolean()),
    /** The task declares `cache:`: the key it used and whether it was a hit (see cache.ts). */
    cache: Type.Optional(CompleteCache),
    /** Annotations from the steps' workflow commands (annotations.ts). */
    annotations: Type.Optional(AnnotationsSchema),
    /** The steps' GITHUB_STEP_SUMMARY Markdown. */
    summaries: Type.Optional(StepSummariesSchema),
    startedAt: Iso,
    finishedAt: Iso,
  },
  { additionalProperties: false },
);
export type CompleteBody = Static<typeof CompleteBody>;

export const CompleteResponse = Type.Object({ status: StatusSchema });
export type CompleteResponse = Static<typeof CompleteResponse>;

/**
 * Why a runner does not take a waiting task: one code per runner (the first that applies, in this order), each
 * with a sentence. `tag_mismatch`: its labels miss a `runs_on` label (or all of `runs_on: {any}`), or the task
 * is forwarded to another runner; `no_driver`: no driver for the task's custom type; `isolation`: the task
 * declares a sandbox, a network cut or limits the runner does not give; `no_key`: the task names secrets and the
 * runner has no public key to seal them to; `low_disk`: the runner refuses work for lack of disk.
 */
export const PENDING_REASON_CODES = [
  'disabled',
  'offline',
  'draining',
  'tag_mismatch',
  'no_driver',
  'isolation',
  'no_key',
  'low_disk',
  'at_capacity',
] as const;
export type PendingReasonCode = (typeof PENDING_REASON_CODES)[number];

export const PendingReason = Type.Object({
  code: Type.Union(PENDING_REASON_CODES.map((c) => Type.Literal(c))),
  /**
   * Which of several things under one code (`labels_missing`/`forwarded`/`no_runs_on` for tag_mismatch;
   * `needs_sandbox`, `needs_network_isolation`, `needs_limits` for isolation; `not_registered` for offline;
   * `not_a_relay_recipient` for no_key).
   */
  detail: Type.Optional(Type.String()),
  message: Type.String(),
});
export type PendingReason = Static<typeof PendingReason>;

/** The answer of `GET /api/v1/runs/:id/tasks/:task/pending`. */
export const PendingExplanation = Type.Object({
  task: Type.String(),
  status: Type.Union(RUN_STATUSES.map((s) => Type.Literal(s))),
  runsOn: Type.Array(Type.String()),
  /** Labels of which a runner needs one (`runs_on: {any}`); empty when the task has no such choice. */
  runsOnAny: Type.Array(Type.String()),
  forwardTo: Type.Union([Type.String(), Type.Null()]),
  queuedAt: Type.Union([Type.String(), Type.Null()]),
  waitingFor: Type.Array(Type.Object({ task: Type.String(), status: Type.String() })),
  summary: Type.String(),
  runners: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      /** A pull runner's status (RUNNER_STATUSES) or a push runner's (`pending`, `healthy`, `offline`, `disabled`). */
      status: Type.String(),
      labels: Type.Array(Type.String()),
      /** The dispatcher that reaches it: `pull` (a registered runner), `push` (a push runner), or another kind. */
      dispatcher: Type.String(),
      eligible: Type.Boolean(),
      /** The one reason that decides (the first of PENDING_REASON_CODES that applies); null when eligible. */
      reason: Type.Union([PendingReason, Type.Null()]),
      /** Every reason that applies, in the same order. */
      reasons: Type.Array(PendingReason),
    }),
  ),
});
export type PendingExplanation = Static<typeof PendingExplanation>;
