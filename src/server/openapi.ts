// What /openapi.json says about each operation beyond its schemas: an operationId, a summary and the errors it
// can answer. One table, keyed by "METHOD /path/{param}" as the document spells it, applied to the generated
// document (so route files stay about behaviour). A route missing here has no summary, and `redocly lint`
// (redocly.yaml, test/deploy/openapi-lint.test.ts) fails on it.
import type { OpenAPIV3 } from 'openapi-types';
import { PROTOCOL_VERSION } from '../protocol/api.ts';

type Auth = 'none' | 'user' | 'runner' | 'registration' | 'push';

interface Operation {
  id: string;
  summary: string;
  tag: string;
  auth: Auth;
  /** Error statuses beyond the ones every operation of its kind can answer. */
  errors?: number[];
}

const op = (id: string, tag: string, auth: Auth, summary: string, errors?: number[]): Operation => ({
  id,
  summary,
  tag,
  auth,
  ...(errors ? { errors } : {}),
});

export const OPERATIONS: Record<string, Operation> = {
  'GET /healthz': op('getHealth', 'health', 'none', 'Whether the server process is up'),
  'GET /readyz': op(
    'getReadiness',
    'health',
    'none',
    'Whether the server can serve (its database answers)',
    [503],
  ),
  'GET /openapi.json': op('getOpenApi', 'health', 'none', 'This document'),
  'POST /api/v1/runs': op(
    'createRun',
    'runs',
    'user',
    'Submit a workflow with inputs; starts a run',
    [413, 422],
  ),
  'GET /api/v1/runs': op('listRuns', 'runs', 'user', 'List runs, newest first'),
  'GET /api/v1/runs/{id}': op('getRun', 'runs', 'user', 'A run and the result of each of its tasks'),
  'POST /api/v1/runs/{id}/cancel': op('cancelRun', 'runs', 'user', 'Cancel a run and its live tasks', [409]),
  'GET /api/v1/runs/{id}/events': op('streamRunEvents', 'runs', 'user', "Follow a run's transitions (SSE)"),
  'GET /api/v1/runs/{id}/tasks/{task}': op(
    'getTask',
    'runs',
    'user',
    'One task of a run: its status, outputs and the steps of its latest attempt',
  ),
  'GET /api/v1/runs/{id}/tasks/{task}/logs': op(
    'getTaskLog',
    'runs',
    'user',
    "A task's log as text, or followed live (SSE) with ?follow=1",
  ),
  'GET /api/v1/runs/{id}/workflow': op(
    'getRunWorkflow',
    'runs',
    'user',
    'The workflow text a run was submitted with',
  ),
  'GET /api/v1/runs/{id}/tasks/{task}/pending': op(
    'explainPendingTask',
    'runs',
    'user',
    'Why a queued task waits: one reason per runner',
  ),
  'GET /api/v1/runs/{id}/artifacts': op('listRunArtifacts', 'artifacts', 'user', "List a run's artifacts"),
  'GET /api/v1/runs/{id}/artifacts/{artifact}': op(
    'downloadRunArtifact',
    'artifacts',
    'user',
    'Download one artifact (zip)',
  ),
  'GET /api/v1/runners': op('listRunners', 'runners', 'user', 'List runners with their status and load'),
  'GET /api/v1/runners/{id}': op('getRunner', 'runners', 'user', 'A runner and its current and recent tasks'),
  'DELETE /api/v1/runners/{id}': op(
    'removeRunner',
    'runners',
    'user',
    'Remove a runner and revoke its token',
  ),
  'POST /api/v1/runners/{id}/disable': op(
    'disableRunner',
    'runners',
    'user',
    'Stop offering tasks to a runner',
  ),
  'POST /api/v1/runners/{id}/enable': op('enableRunner', 'runners', 'user', 'Offer tasks to a runner again'),
  'PUT /api/v1/runners/{id}/webhook': op(
    'setRunnerWebhook',
    'runners',
    'user',
    "Set or clear a runner's webhook; a new one gets a signing secret shown once",
  ),
  'POST /api/v1/tokens': op(
    'createToken',
    'tokens',
    'user',
    'Create a user or registration token (shown once)',
  ),
  'GET /api/v1/tokens': op('listTokens', 'tokens', 'user', 'List tokens (never their values)'),
  'DELETE /api/v1/tokens/{id}': op('revokeToken', 'tokens', 'user', 'Revoke a token at once'),
  'GET /api/v1/secrets': op('listSecrets', 'secrets', 'user', 'List secret names (never values)'),
  'PUT /api/v1/secrets/{name}': op('putSecret', 'secrets', 'user', 'Create or replace a secret', [422]),
  'DELETE /api/v1/secrets/{name}': op('deleteSecret', 'secrets', 'user', 'Delete a secret'),
  'GET /api/v1/webhooks': op(
    'listWebhooks',
    'webhooks',
    'user',
    'List server webhooks (never their secrets)',
  ),
  'POST /api/v1/webhooks': op(
    'createWebhook',
    'webhooks',
    'user',
    'Create a webhook for run and task events; its secret is shown once',
  ),
  'GET /api/v1/webhooks/{id}': op('getWebhook', 'webhooks', 'user', 'One webhook'),
  'DELETE /api/v1/webhooks/{id}': op(
    'removeWebhook',
    'webhooks',
    'user',
    'Remove a webhook and its deliveries',
  ),
  'GET /api/v1/webhooks/{id}/deliveries': op(
    'listWebhookDeliveries',
    'webhooks',
    'user',
    "A webhook's deliveries, newest first, each attempt with status, duration and error",
  ),
  'GET /api/v1/runners/{id}/webhook/deliveries': op(
    'listRunnerWebhookDeliveries',
    'runners',
    'user',
    "A runner webhook's deliveries, newest first",
  ),
  'POST /api/v1/session': op(
    'createSession',
    'session',
    'none',
    'Sign the web UI in with a user token (cookie)',
    [401],
  ),
  'GET /api/v1/session': op('getSession', 'session', 'user', 'Who the web UI session is'),
  'DELETE /api/v1/session': op('deleteSession', 'session', 'none', 'Sign the web UI out'),
  'POST /api/v1/runners/register': op(
    'registerRunner',
    'runner protocol',
    'registration',
    'Register a runner with a registration token; answers its own token (shown once)',
  ),
  'POST /api/v1/runner/status': op(
    'reportRunnerStatus',
    'runner protocol',
    'runner',
    "Report a runner's status",
  ),
  'GET /api/v1/runner': op(
    'getRunnerSelf',
    'runner protocol',
    'runner',
    'Who this runner token belongs to (baton runner setup checks a token with it)',
  ),
  'DELETE /api/v1/runner': op('unregisterRunner', 'runner protocol', 'runner', 'A runner unregisters itself'),
  'POST /api/v1/runner/leases/{lease}/cache': op(
    'lookupTaskCache',
    'runner protocol',
    'runner',
    "Look up a cache entry of the task's workflow by key (a task that declares cache)",
    [409],
  ),
  'GET /api/v1/cache': op('listCache', 'cache', 'user', 'List live cache entries (admin)'),
  'DELETE /api/v1/cache': op('clearCache', 'cache', 'user', 'Remove cache entries (admin)'),
  'POST /api/v1/runner/acquire': op(
    'acquireTask',
    'runner protocol',
    'runner',
    'Long-poll for a task: 200 with a lease and the task, or 204',
  ),
  'POST /api/v1/runner/leases/{lease}/start': op(
    'startLease',
    'runner protocol',
    'runner',
    'Confirm an offered task',
    [409],
  ),
  'POST /api/v1/runner/leases/{lease}/heartbeat': op(
    'heartbeatLease',
    'runner protocol',
    'runner',
    'Renew a lease; answers whether to cancel',
    [409],
  ),
  'POST /api/v1/runner/leases/{lease}/logs': op(
    'appendLeaseLog',
    'runner protocol',
    'runner',
    'Ship log chunks as JSON (runners of earlier versions)',
    [409, 413],
  ),
  'PUT /api/v1/runner/leases/{lease}/log': op(
    'appendLeaseLogBytes',
    'runner protocol',
    'runner',
    'Ship log chunks as raw bytes, each behind a header line (docs/adr/0021-log-bytes.md)',
    [409, 413],
  ),
  'POST /api/v1/runner/leases/{lease}/steps': op(
    'reportLeaseSteps',
    'runner protocol',
    'runner',
    "Report a running attempt's steps so far (live step view)",
    [409],
  ),
  'POST /api/v1/runner/leases/{lease}/complete': op(
    'completeLease',
    'runner protocol',
    'runner',
    "Report an attempt's result (idempotent)",
    [409],
  ),
  'PUT /api/v1/runner/leases/{lease}/artifacts/{artifact}': op(
    'uploadArtifact',
    'runner protocol',
    'runner',
    'Upload an artifact (zip) of the leased task',
    [409, 413, 422],
  ),
  'GET /api/v1/runner/leases/{lease}/artifacts/{artifact}': op(
    'downloadDependencyArtifact',
    'runner protocol',
    'runner',
    'Download an artifact the leased task imports',
    [409],
  ),
  'GET /api/settings/runner-hosts': op('listRunnerHosts', 'push runners', 'user', 'List push runner hosts'),
  'POST /api/settings/runner-hosts': op(
    'addRunnerHost',
    'push runners',
    'user',
    'Add a push runner host',
    [409],
  ),
  'POST /api/settings/runner-hosts/{id}/disable': op(
    'disableRunnerHost',
    'push runners',
    'user',
    'Disable a host',
  ),
  'POST /api/settings/runner-hosts/{id}/enable': op(
    'enableRunnerHost',
    'push runners',
    'user',
    'Enable a host',
  ),
  'POST /api/settings/runner-hosts/{id}/rotate-secret': op(
    'rotateRunnerHostSecret',
    'push runners',
    'user',
    "Rotate a host's secret (shown once)",
  ),
  'DELETE /api/settings/runner-hosts/{id}': op('removeRunnerHost', 'push runners', 'user', 'Remove a host'),
  'POST /api/settings/runner-hosts/{id}/register': op(
    'registerRunnerHost',
    'push runners',
    'push',
    'A push runner host registers itself with its secret',
  ),
};

const TAGS: Record<string, string> = {
  health: 'Liveness, readiness and this document (no token)',
  runs: 'Workflows submitted and their runs, tasks and logs',
  artifacts: 'Files tasks uploaded',
  runners: 'The fleet of pull runners (admin)',
  tokens: 'User and registration tokens (admin)',
  secrets: 'Named values stored encrypted, delivered sealed to one runner',
  webhooks: 'Server webhooks: signed POSTs of run and task events (admin)',
  session: "The web UI's cookie session",
  'runner protocol': 'What pull runners call, with their runner token',
  'push runners': 'Runner hosts the server pushes tasks to (Automn protocol)',
};

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is malformed (body, parameters or query fail validation)',
  401: 'No valid token of the right kind',
  403: 'The token lacks the scope this operation needs',
  404: 'No such resource',
  409: 'Conflicts with the current state (a stale lease, a duplicate name)',
  413: 'The body is larger than the limit',
  422: 'The content is invalid; every problem is listed',
  429: 'Too many attempts; retry after the Retry-After header',
  500: 'An unexpected error; the server log has the request id',
  503: 'Not ready or not configured',
  507: 'The server cannot store data: its disk is full; nothing was written',
};

function errorStatuses(method: string, path: string, o: Operation): number[] {
  const s = new Set<number>([400, 500, ...(o.errors ?? [])]);
  if (o.auth !== 'none') s.add(401);
  if (o.auth === 'user') s.add(403);
  if (o.auth === 'registration') s.add(429);
  if (path.includes('{')) s.add(404);
  if (method !== 'GET') s.add(507);
  return [...s].sort((a, b) => a - b);
}

const ERROR_SCHEMA: OpenAPIV3.SchemaObject = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'A stable machine code, e.g. not_found' },
        message: { type: 'string', description: 'A sentence for people' },
      },
      additionalProperties: true,
    },
  },
};

/** The document's top-level settings for @fastify/swagger. */
export const OPENAPI_BASE = {
  info: {
    title: 'Baton API',
    version: `v${PROTOCOL_VERSION}`,
    description: 'The HTTP API of a Baton server: runs, logs, artifacts, runners, tokens, secrets, webhooks.',
    license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
  },
  servers: [{ url: '/', description: 'This server' }],
  components: {
    securitySchemes: { bearer: { type: 'http' as const, scheme: 'bearer' } },
  },
  security: [{ bearer: [] }],
};

/** Fills in each operation's id, summary, tag, security and error answers (transformObject of @fastify/swagger). */
export function documentOperations(doc: OpenAPIV3.Document): OpenAPIV3.Document {
  doc.components ??= {};
  doc.components.schemas = { ...doc.components.schemas, Error: ERROR_SCHEMA };
  const responses: Record<string, OpenAPIV3.ResponseObject> = {};
  for (const [status, description] of Object.entries(ERROR_DESCRIPTIONS)) {
    responses[`Error${status}`] = {
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  doc.components.responses = { ...doc.components.responses, ...responses };
  const tags = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = item?.[method];
      if (!operation) continue;
      const o = OPERATIONS[`${method.toUpperCase()} ${path}`];
      if (!o) continue;
      operation.operationId = o.id;
      operation.summary = o.summary;
      operation.tags = [o.tag];
      tags.add(o.tag);
      if (o.auth === 'none') operation.security = [];
      for (const status of errorStatuses(method.toUpperCase(), path, o)) {
        operation.responses[String(status)] ??= { $ref: `#/components/responses/Error${status}` };
      }
    }
  }
  doc.tags = [...tags].sort().map((name) => ({ name, description: TAGS[name] ?? name }));
  return doc;
}
