import { GatekeeperError, type ErrorCode } from '../errors.js';
import type { AuthResponse } from './types.js';

/**
 * The statuses of the codes the middleware can answer with. The one full table is
 * src/http/error-handler.ts, which this layer may not import (it sits above core in
 * test/unit/layering.test.ts); these rows must agree with it, which the express tests check.
 */
const STATUS: Partial<Record<ErrorCode, number>> = {
  NOT_AUTHENTICATED: 401,
  INVALID_TOKEN: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_REVOKED: 401,
  FORBIDDEN: 403,
  DATABASE_UNAVAILABLE: 503,
  OVERLOADED: 503,
};

/** Statuses of the codes answered here (for the test that compares them with the error handler). */
export const MIDDLEWARE_STATUS: Readonly<Partial<Record<ErrorCode, number>>> = Object.freeze({ ...STATUS });

/**
 * Writes `error` as the contract's error body (`{detail, code}`, `application/json; charset=utf-8`,
 * `WWW-Authenticate: Bearer` on 401, `Retry-After` on 503) and returns true; false for anything
 * else, which the caller hands to `next(err)`.
 */
export function sendAuthError(res: AuthResponse, error: unknown): boolean {
  if (!(error instanceof GatekeeperError)) return false;
  const status = STATUS[error.code];
  if (status === undefined) return false;
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  if (status === 401) res.setHeader('www-authenticate', 'Bearer');
  if (status === 503) res.setHeader('retry-after', String(error.retryAfterSeconds ?? 5));
  res.end(JSON.stringify({ detail: error.message, code: error.code }));
  return true;
}
