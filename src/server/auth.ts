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

export async function authenticateUser(store: Store, req: FastifyRequest, now: number): Promise<TokenRow> {
  const token = bearerToken(req);
  if (!token) throw unauthenticated('missing bearer token: send "Authorization: Bearer <user token>"');
  return usableToken(await store.credentials.tokenByHash(hashToken(token)), 'user', now);
}

export async function authenticateRunner(store: Store, req: FastifyRequest): Promise<RunnerRow> {
  const token = bearerToken(req);
  if (!token) throw unauthenticated('missing bearer token: send "Authorization: Bearer <runner token>"');
  const runner = await store.credentials.runnerByTokenHash(hashToken(token));
  if (!runner) throw unauthenticated('a valid runner token is required');
  return runner;
}
