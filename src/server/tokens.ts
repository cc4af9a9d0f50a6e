// Token values: 192 random bits with a prefix naming their kind, so a leaked token is recognisable;
// only their sha256 is ever stored, and the lookup by hash never compares secrets byte by byte.
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = { user: 'baton_u_', registration: 'baton_reg_', runner: 'baton_r_' } as const;
export type TokenKind = keyof typeof TOKEN_PREFIX;

export function generateToken(kind: TokenKind): string {
  return TOKEN_PREFIX[kind] + randomBytes(24).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
