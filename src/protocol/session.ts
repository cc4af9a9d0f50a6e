// The runner session (docs/adr/0023): one long-lived WebSocket per runner process that carries what the
// request/response runner protocol carries per request — acquisitions and the offers that answer them, the
// start acknowledgement, lease heartbeats and completions — as JSON frames. Log chunks, artifacts, cache
// lookups and status reports stay on HTTP.
//
// Kept free of TypeBox: the runner loads this file, and a runner process loads no schema code (issue 8); the
// server's checks of these frames are in session-schemas.ts.
//
// Contract
// - Connect: `GET /api/v1/runner/session` with `Upgrade: websocket`, `Authorization: Bearer <runner token>` and
//   the subprotocol `baton.session.v1`. The runner is authenticated at the upgrade; a token that is missing,
//   revoked or of the wrong kind is answered `401` and no session opens. The token is checked again at every
//   frame, as at every HTTP request: a removed runner's session ends at its next frame. A server that has no session
//   endpoint (an older server) answers `404`: the runner then uses the request/response protocol for good.
//   Ephemeral runners (pools) are refused (`409`; one task per identity is enforced on the HTTP acquire) and
//   use the request/response protocol too.
// - One session per runner process; a runner may hold several (each process its own), the server treats each
//   on its own. Every frame is one JSON text message of at most the server's request body limit
//   (`body_limit_bytes`, 8 MiB by default). A frame over the limit, one that is not JSON, not an object, binary,
//   or of an unknown type, is answered with an `error` frame that names the problem (and the limit) and the
//   connection is closed (1009 too big, 1008 otherwise). A well-formed frame whose call fails is answered with
//   an `error` frame carrying its `id`, the error envelope and its HTTP status; the session stays open.
// - Calls: every runner frame but `release` carries an `id` (a positive integer, unique among the session's
//   calls in flight) and gets exactly one answer with that id: `offer` or `idle` for `acquire`, `ok` or `error`
//   for the rest. Answers may come in any order; calls are independent and run concurrently.
//   - `acquire {waitMs}`: one free slot. Held up to `waitMs` (capped by the server's long-poll hold) like the
//     HTTP long poll, and answered the moment a task this runner can take is queued (`offer`, the same body as
//     the HTTP acquire's 200) or when the hold ends with nothing (`idle`). The claim, the lease, the ack window
//     and placement are the HTTP acquire's own (the same store and dispatcher calls): an offer must be
//     confirmed with `start` within the ack window or it returns to the queue.
//   - `start {lease}`, `heartbeat {lease}`: as the HTTP calls; answer `ok` with `{leaseExpiresAt, cancel}`.
//   - `complete {lease, body, next?}`: as the HTTP call (the same body, validated against the same schema;
//     idempotent: a repeated complete answers the first answer). `next: {id, waitMs}` is an `acquire` that
//     travels with the completion: claimed once the completion is recorded, answered with its own id.
//   - `release {}`: no answer; every held acquire of this session ends (answered `idle`). Sent when the runner
//     stops taking work.
// - Fencing is the store's, unchanged: a stale or foreign lease gets `error` 409 `lease_superseded` /
//   `lease_expired` (or 404), exactly as over HTTP.
// - A dropped session is a runner that stopped polling: its held acquires end, an offer pushed into a dead
//   connection is never confirmed and returns after the ack window, leases run out on their TTL unless renewed
//   (over a new session or over HTTP). The runner reconnects with backoff; calls made meanwhile go over HTTP.
// - The server pings every heartbeat interval. A pong counts as hearing from the runner (its last-seen time, as
//   any HTTP request does): a live session keeps an idle runner online without status pings. A runner that
//   answers no ping for the offline silence (3 heartbeat intervals + 2 s) is disconnected.

import type { AcquireResponse, CompleteBody, LeaseResponse, CompleteResponse } from './api.ts';
import type { ErrorBody } from './errors.ts';

/** The WebSocket subprotocol of this version of the session; a server that does not speak it answers 400. */
export const SESSION_PROTOCOL = 'baton.session.v1';
export const SESSION_PATH = '/api/v1/runner/session';

/** WebSocket close codes the server uses. */
export const SESSION_CLOSE = {
  /** A malformed, binary or unknown frame. */
  badFrame: 1008,
  /** A frame over the size limit. */
  tooBig: 1009,
  /** The server is shutting down. */
  goingAway: 1001,
} as const;

export const SESSION_FRAME_TYPES = ['acquire', 'start', 'heartbeat', 'complete', 'release'] as const;
export type SessionFrameType = (typeof SESSION_FRAME_TYPES)[number];

/** What a runner sends (checked by the server against session-schemas.ts). */
export type RunnerFrame =
  | { t: 'acquire'; id: number; waitMs: number }
  | { t: 'start'; id: number; lease: string }
  | { t: 'heartbeat'; id: number; lease: string }
  | { t: 'complete'; id: number; lease: string; body: CompleteBody; next?: { id: number; waitMs: number } }
  | { t: 'release' };

/** What the server sends. */
export type ServerFrame =
  | { t: 'offer'; id: number; offer: AcquireResponse }
  | { t: 'idle'; id: number }
  | { t: 'ok'; id: number; body: LeaseResponse | CompleteResponse }
  /** Without `id`: the frame could not be read, and the server closes the connection after this. */
  | { t: 'error'; id?: number; status: number; error: ErrorBody };
