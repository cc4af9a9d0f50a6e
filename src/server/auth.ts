// Who is calling: resolves the bearer token to a user or a runner, once per request, by its hash.
import type { FastifyRequest } from 'fastify';
import { BatonError } from '../protocol/errors.ts';
import type { Store } from '../store/index.ts';
import type { RunnerRow, TokenRow } from '../store/schema.ts';
import { hashToken } from './tokens.ts';

export type Principal = { kind: 'user'; token: TokenRow } | { kind: 'runner'; runner: RunnerRow };

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** The web UI's session cookie: HttpOnly, SameSite=Strict, holding a user token (see routes/ui.ts). */
export const SESSION_COOKIE = 'baton_session';

/** The user token of a browser session, read from the cookie header (user routes only, never runner routes). */
export function sessionToken(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** A cookie-authenticated change must come from this origin: SameSite=Strict plus an Origin check against CSRF. */
function sameOriginWrite(req: FastifyRequest): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return false;
  try {
    const o = new URL(origin);
    // Normalise the Host header the same way (a default port is dropped from both).
    return o.host === new URL(`${o.protocol}//${req.headers.host ?? ''}`).host;
  } catch {
    return false; // A malformed Origin header is not this origin.
  }
}

function unauthenticated(message: string): BatonError {
  return new BatonError('unauthenticated', message);
}

/** A token row that may be used now: not revoked, not expired. */
export function usableToken(row: TokenRow | undefined, kind: string, now: number): TokenRow {
  if (!row || row.kind !== kind) throw unauthenticated(`a valid ${kind} token is required`);
  if (row.revoked_at !== null) throw unauthenticated(`this ${kind} token was revoked`);
  if (row.expires_at !== null && row.expires_at <= now)
    throw unauthenticated(`this ${kind} token has expired`);
  return row;
}

/** What a user token may do; each scope includes the ones after it. */
export const SCOPES = ['admin', 'submit', 'read'] as const;
export type Scope = (typeof SCOPES)[number];

/** The scope a user route needs: reading needs `read`; changing runs `submit`; everything else `admin`. */
export function scopeFor(method: string, changes: 'runs' | 'admin'): Scope {
  if (method === 'GET' || method === 'HEAD') return 'read';
  return changes === 'runs' ? 'submit' : 'admin';
}

/** The user token each authenticated request was let in with (streams watch it until they end). */
const requestTokens = new WeakMap<FastifyRequest, TokenRow>();

/** The token `authenticateUser` accepted for this request (a route behind it always has one). */
export function userTokenOf(req: FastifyRequest): TokenRow {
  const row = requestTokens.get(req);
  if (!row) throw unauthenticated('missing bearer token: send "Authorization: Bearer <user token>"');
  return row;
}

export async function authenticateUser(
  store: Store,
  req: FastifyRequest,
  now: number,
  needs: Scope = 'admin',
): Promise<TokenRow> {
  const bearer = bearerToken(req);
  const token = bearer ?? sessionToken(req);
  if (!token) throw unauthenticated('missing bearer token: send "Authorization: Bearer <user token>"');
  if (bearer === undefined && !sameOriginWrite(req))
    throw new BatonError(
      'forbidden',
      'a session cookie is accepted only on requests from the Baton UI itself',
    );
  const row = usableToken(await store.credentials.tokenByHash(hashToken(token)), 'user', now);
  const have = SCOPES.indexOf(row.scope as Scope);
  if (have < 0 || have > SCOPES.indexOf(needs)) {
    throw new BatonError(
      'forbidden',
      `this token has the '${row.scope}' scope; ${req.method} ${req.url.split('?')[0]} needs '${needs}'`,
    );
  }
  requestTokens.set(req, row);
  return row;
}

export async function authenticateRunner(store: Store, req: FastifyRequest): Promise<RunnerRow> {
  const token = bearerToken(req);
  if (!token) throw unauthenticated('missing bearer token: send "Authorization: Bearer <runner token>"');
  const runner = await store.credentials.runnerByTokenHash(hashToken(token));
  if (!runner) throw unauthenticated('a valid runner token is required');
  return runner;
}
