// Webhooks on the wire: the admin API's shapes, the events a server webhook can receive, the limits, and how a
// receiver checks a delivery (`X-Baton-Signature: sha256=<hex HMAC-SHA256 of the raw body under the secret>`).
import { Type, type Static } from '@sinclair/typebox';
import { RUN_STATUSES } from './status.ts';

/** Each run and task status as an event (`run.succeeded`, `task.failed`, …), plus `*.finished` for any end. */
export const WEBHOOK_EVENTS: readonly string[] = [
  ...RUN_STATUSES.map((s) => `run.${s}`),
  'run.finished',
  ...RUN_STATUSES.map((s) => `task.${s}`),
  'task.finished',
];

export const WEBHOOK_URL_MAX_CHARS = 2048;
/** Shortest secret an admin may give: shorter ones are guessable enough to forge signatures. */
export const WEBHOOK_SECRET_MIN_CHARS = 16;
export const WEBHOOK_SECRET_MAX_CHARS = 1024;
/** Server webhooks per server: each event fans out to every subscribed one. */
export const WEBHOOKS_MAX = 100;
/** Attempts per delivery (the first and its retries), 10 s each, with exponential backoff between them. */
export const WEBHOOK_MAX_ATTEMPTS = 8;
/** First retry delay; each next one doubles (5 s, 10 s, 20 s … 320 s: about 10 minutes over 8 attempts). */
export const WEBHOOK_BACKOFF_BASE_MS = 5_000;
/** How long one attempt may take, connection and answer together. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
export const WEBHOOK_DELIVERIES_DEFAULT = 50;
export const WEBHOOK_DELIVERIES_MAX = 500;

export const SIGNATURE_HEADER = 'x-baton-signature';

const Url = Type.String({ minLength: 1, maxLength: WEBHOOK_URL_MAX_CHARS });
const Secret = Type.String({ minLength: WEBHOOK_SECRET_MIN_CHARS, maxLength: WEBHOOK_SECRET_MAX_CHARS });

export const CreateWebhookBody = Type.Object(
  {
    url: Url,
    events: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 64 }),
    /** The signing secret; when absent the server makes one and answers it, once. */
    secret: Type.Optional(Secret),
  },
  { additionalProperties: false },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

export const WebhookView = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  createdAt: Type.String(),
  runnerId: Type.Optional(Type.String()),
});
export type WebhookView = Static<typeof WebhookView>;

export const CreateWebhookResponse = Type.Object({
  webhook: WebhookView,
  /** The signing secret: shown here once (given or made), never again. */
  secret: Type.String(),
});
export type CreateWebhookResponse = Static<typeof CreateWebhookResponse>;

export const SetRunnerWebhookBody = Type.Object(
  {
    /** The runner's webhook URL, or null to remove it. */
    url: Type.Union([Url, Type.Null()]),
    secret: Type.Optional(Secret),
  },
  { additionalProperties: false },
);
export type SetRunnerWebhookBody = Static<typeof SetRunnerWebhookBody>;

export const SetRunnerWebhookResponse = Type.Object({
  webhook: Type.Union([WebhookView, Type.Null()]),
  secret: Type.Optional(Type.String()),
});

export const WebhookAttempt = Type.Object({
  attempt: Type.Integer(),
  at: Type.String(),
  /** The receiver's HTTP status; absent when none came (refused, timed out). */
  statusCode: Type.Optional(Type.Integer()),
  durationMs: Type.Integer(),
  error: Type.Optional(Type.String()),
});

export const WebhookDelivery = Type.Object({
  id: Type.String(),
  event: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  createdAt: Type.String(),
  finishedAt: Type.Optional(Type.String()),
  nextAttemptAt: Type.Optional(Type.String()),
  payload: Type.String(),
  attempts: Type.Array(WebhookAttempt),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;

export const WebhookDeliveriesQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: WEBHOOK_DELIVERIES_MAX })),
});

export const WebhookDeliveriesResponse = Type.Object({ deliveries: Type.Array(WebhookDelivery) });
export type WebhookDeliveriesResponse = Static<typeof WebhookDeliveriesResponse>;

/** What a runner's webhook receives (seed 003): when the server gives the runner a task, and when it ends. */
export interface RunnerWebhookPayload {
  action: 'start' | 'finish';
  runId: string;
  taskId: string;
  runnerId: string;
  /** The task's final status (finish only). */
  status?: string;
  at: string;
}
