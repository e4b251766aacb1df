import { errors as joseErrors, type JWTPayload } from 'jose';
import { readAccessClaims } from '../core/access-claims.js';
import { GatekeeperError } from '../errors.js';
import type { VerifiedToken } from './types.js';

/** The same sentences src/security/tokens.ts uses, so a service answers like Gatekeeper does. */
export const invalidToken = (cause?: unknown): GatekeeperError =>
  new GatekeeperError('INVALID_TOKEN', 'The access token is invalid.', cause === undefined ? {} : { cause });

/** How long a service should wait before retrying when keys or introspection cannot be reached. */
const RETRY_AFTER_SECONDS = 5;

/**
 * The verifier could not reach Gatekeeper (JWKS or introspection). ERROR_CODES has no code for
 * "an upstream is unavailable"; DATABASE_UNAVAILABLE is the closest: Gatekeeper's record of keys
 * and revocations cannot be read, the answer is a 503 with Retry-After, and the client should
 * retry rather than sign in again (a 401 would make it drop its tokens).
 */
export function unavailable(what: string, cause?: unknown, retryAfterSeconds = RETRY_AFTER_SECONDS): GatekeeperError {
  return new GatekeeperError('DATABASE_UNAVAILABLE', `The token cannot be checked now: ${what}; try again shortly.`, {
    retryAfterSeconds,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A jose failure as the contract's code. Key-resolution failures arrive already translated. */
export function fromJoseError(err: unknown): GatekeeperError {
  if (err instanceof GatekeeperError) return err;
  if (err instanceof joseErrors.JWTExpired) {
    return new GatekeeperError('TOKEN_EXPIRED', 'The access token has expired.', { cause: err });
  }
  // Malformed, bad signature, algorithm not allowed, wrong issuer/audience, not yet valid, and
  // anything WebCrypto throws for a hostile token: the token is not acceptable.
  return invalidToken(err);
}

/** The access-token claims as src/security/tokens.ts issues them, or INVALID_TOKEN (refresh or other tokens). */
export function accessClaims(payload: JWTPayload): VerifiedToken {
  const claims = readAccessClaims(payload as Record<string, unknown>);
  if (claims === null) throw invalidToken();
  const verified: VerifiedToken = claims;
  const { iss, aud } = payload;
  if (typeof iss === 'string') verified.iss = iss;
  if (typeof aud === 'string' || Array.isArray(aud)) verified.aud = aud;
  return verified;
}
