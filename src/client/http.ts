// One JSON request to the server with a timeout; failures become ApiError with the server's code and message.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { BatonError, type ErrorCode, type ErrorEnvelope } from '../protocol/errors.ts';

export class ApiError extends BatonError {
  readonly status: number;
  constructor(status: number, code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** The request never reached an answer: refused, reset, timed out. Always worth a retry. */
export class NetworkError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NetworkError';
  }
}

export interface HttpOptions {
  /**
   * The server, or several replicas separated by commas: a request that cannot reach the current one fails
   * as usual, and the next request goes to the next replica (callers retry network errors anyway).
   */
  baseUrl: string;
  token?: string;
  /** Per-request timeout when the call gives none (default 30 s). */
  timeoutMs?: number;
  userAgent?: string;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** A streamed body sent as is (set its content-type in headers). */
  rawBody?: ReadableStream<Uint8Array>;
  /** Bytes sent as is over node:http as application/octet-stream (a binary log batch). */
  bytes?: Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
  token?: string;
  accept?: string;
  headers?: Record<string, string>;
}

const replicaIndex = new WeakMap<HttpOptions, number>();

function replicas(http: HttpOptions): string[] {
  return http.baseUrl
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
}

function currentBase(http: HttpOptions): string {
  const all = replicas(http);
  return all[(replicaIndex.get(http) ?? 0) % all.length] ?? http.baseUrl;
}

/** After a network failure on `failed`, later requests go to the next replica (once per failure). */
function failOver(http: HttpOptions, failed: string): void {
  const all = replicas(http);
  if (all.length < 2 || currentBase(http) !== failed) return;
  replicaIndex.set(http, ((replicaIndex.get(http) ?? 0) + 1) % all.length);
}

/** What every call shares, over fetch or node:http: its timeout, headers, and the replica and URL it goes to. */
function prepare(http: HttpOptions, path: string, o: RequestOptions) {
  const timeoutMs = o.timeoutMs ?? http.timeoutMs ?? 30_000;
  const headers: Record<string, string> = { accept: o.accept ?? 'application/json', ...o.headers };
  const token = o.token ?? http.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (http.userAgent) headers['user-agent'] = http.userAgent;
  const base = currentBase(http);
  const url = new URL(path, base.endsWith('/') ? base : base + '/');
  return { timeoutMs, headers, base, url };
}

export async function request(http: HttpOptions, path: string, o: RequestOptions = {}): Promise<Response> {
  const { timeoutMs, headers, base, url } = prepare(http, path, o);
  const signals = [AbortSignal.timeout(timeoutMs)];
  if (o.signal) signals.push(o.signal);
  let body: string | ReadableStream<Uint8Array> | undefined;
  if (o.rawBody !== undefined) body = o.rawBody;
  else if (o.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.body);
  }
  let res: Response;
  try {
    const init: RequestInit & { duplex?: 'half' } = {
      method: o.method ?? (body ? 'POST' : 'GET'),
      headers,
      body,
      signal: AbortSignal.any(signals),
    };
    // A streamed request body needs half-duplex mode in fetch.
    if (o.rawBody !== undefined) init.duplex = 'half';
    res = await fetch(url, init);
  } catch (err) {
    if (o.signal?.aborted) throw err;
    // undici reports network failures as "fetch failed" (cause: ECONNREFUSED …) or a timeout; any other
    // TypeError is a mistake in the request itself, and retrying it would loop forever.
    if (err instanceof TypeError && err.message !== 'fetch failed') throw err;
    const cause = err instanceof Error ? err : undefined;
    const why = cause?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describeCause(cause);
    failOver(http, base);
    throw new NetworkError(`cannot reach ${base}: ${why}`, { cause });
  }
  if (res.ok) return res;
  throw await toApiError(res);
}

function describeCause(err: Error | undefined): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? err?.message ?? 'unknown network error';
}

async function toApiError(res: Response): Promise<ApiError> {
  return apiErrorFrom(res.status, await res.text().catch(() => ''));
}

function apiErrorFrom(status: number, text: string): ApiError {
  try {
    const env = JSON.parse(text) as ErrorEnvelope;
    if (env.error && typeof env.error.code === 'string') {
      const { code, message, ...details } = env.error;
      return new ApiError(status, code, message, details);
    }
    // Automn-compatible routes (push runners) answer in Automn's shape: `{"error": "…", "code"?: "…"}`.
    const automn = env as unknown as { error?: unknown };
    if (typeof automn.error === 'string') {
      const byStatus: Record<number, ErrorCode> = {
        401: 'unauthenticated',
        403: 'forbidden',
        404: 'not_found',
        409: 'conflict',
      };
      return new ApiError(
        status,
        byStatus[status] ?? (status >= 500 ? 'internal' : 'bad_request'),
        automn.error,
      );
    }
  } catch {
    // Not JSON: a proxy or a crashed server answered; fall through to a generic error.
  }
  const code: ErrorCode = status >= 500 ? 'internal' : 'bad_request';
  return new ApiError(status, code, `HTTP ${status} from server${text ? `: ${text.slice(0, 200)}` : ''}`);
}

export async function requestJson<T>(http: HttpOptions, path: string, o: RequestOptions = {}): Promise<T> {
  if (o.rawBody !== undefined) {
    const res = await request(http, path, o);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }
  const res = await sendJson(http, path, o);
  if (res.status >= 200 && res.status < 300) {
    return (res.status === 204 || res.text === '' ? undefined : JSON.parse(res.text)) as T;
  }
  throw apiErrorFrom(res.status, res.text);
}

// JSON calls (all of a runner's calls but artifacts) go through node:http on kept-alive connections: a quarter
// of fetch's cost per call on loopback, and a runner makes several calls per task (issue 8). Idle kept-alive
// sockets do not keep a process alive.
const agents = {
  'http:': new HttpAgent({ keepAlive: true }),
  'https:': new HttpsAgent({ keepAlive: true }),
};

function sendJson(
  http: HttpOptions,
  path: string,
  o: RequestOptions,
): Promise<{ status: number; text: string }> {
  const { timeoutMs, headers, base, url } = prepare(http, path, o);
  // Written as a string: a log batch is a megabyte, and a Buffer copy of it was garbage the runner made per batch.
  const body = o.bytes ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  if (o.bytes !== undefined) {
    headers['content-type'] = 'application/octet-stream';
    headers['content-length'] = String(o.bytes.length);
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
  if (o.signal?.aborted) return Promise.reject(abortReason(o.signal));
  return new Promise((resolve, reject) => {
    let timedOut = false;
    // Invalid headers throw here, synchronously: a mistake in the request, not worth a retry.
    const req = send(url, { method: o.method ?? (body ? 'POST' : 'GET'), headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', fail);
      res.on('end', () => {
        settle();
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') });
      });
    });
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy();
    }, timeoutMs);
    const onAbort = () => req.destroy();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    function settle(): void {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    }
    function fail(err: Error): void {
      settle();
      if (o.signal?.aborted) return reject(abortReason(o.signal));
      const why = timedOut
        ? `no answer within ${timeoutMs} ms`
        : ((err as NodeJS.ErrnoException).code ?? err.message);
      failOver(http, base);
      reject(new NetworkError(`cannot reach ${base}: ${why}`, { cause: err }));
    }
    req.on('error', fail);
    if (body === undefined) req.end();
    else if (typeof body === 'string') req.end(body, 'utf8');
    else req.end(body);
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
