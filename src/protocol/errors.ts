// The error envelope and its stable codes: `{"error": {"code", "message", ...details}}` on every failed request.

export const ERROR_CODES = [
  'bad_request',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'invalid_workflow',
  'invalid_inputs',
  'lease_expired',
  'lease_superseded',
  'log_offset_conflict',
  'payload_too_large',
  'unsafe_archive',
  'rate_limited',
  'storage_full',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  [detail: string]: unknown;
}

export interface ErrorEnvelope {
  error: ErrorBody;
}

/** HTTP status each code is answered with. */
export const ERROR_HTTP_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_workflow: 422,
  invalid_inputs: 422,
  lease_expired: 409,
  lease_superseded: 409,
  /** A log chunk's byte offset contradicts the chunks stored for its attempt; nothing of the request is stored. */
  log_offset_conflict: 409,
  payload_too_large: 413,
  /** An uploaded zip breaks the archive rules (protocol/archive-rules.ts); `entry` names the first bad entry; nothing is stored. */
  unsafe_archive: 422,
  rate_limited: 429,
  storage_full: 507,
  unavailable: 503,
  internal: 500,
};

/** The one error type of Baton: a stable code, a sentence for people, optional details for programs. */
export class BatonError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BatonError';
    this.code = code;
    this.details = details;
  }
  get httpStatus(): number {
    return ERROR_HTTP_STATUS[this.code];
  }
  toEnvelope(): ErrorEnvelope {
    return { error: { ...this.details, code: this.code, message: this.message } };
  }
}

/** Normalises any thrown value into an Error, once, at the boundary that catches it. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
