import { jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { GatekeeperError } from '../errors.js';
import { accessClaims, fromJoseError, invalidToken } from './claims.js';
import { createIntrospector } from './introspection.js';
import { algorithmsFor, keyResolver, type SecretKeyResolver } from './keys.js';
import type { FetchLike, KeySource, Verifier, VerifierOptions } from './types.js';

/** Longer than any token Gatekeeper issues by far; a bigger one is refused before parsing. */
const MAX_TOKEN_LENGTH = 8192;

/**
 * A verifier of Gatekeeper access tokens for other services, without a store: signature,
 * algorithm, `exp`/`nbf`, `iss` and `aud` (when given) and the claims of docs/API.md,
 * `type: "access"` included (a refresh token or any other JWT is INVALID_TOKEN).
 *
 * Two ways to learn about revocation (logout, password change, admin revoke):
 * - **local only** (the default): no request per token, keys fetched from the JWKS and cached
 *   (or the HS256 secret); a revoked token keeps verifying until its `exp`, at most
 *   `GATEKEEPER_ACCESS_TOKEN_EXPIRE_MINUTES` (30 by default).
 * - **with `introspection`**: after local verification, `POST /auth/introspect` (RFC 7662) says
 *   whether the session is still live; exact, at the cost of one round trip per token every
 *   `cacheSeconds` (default 5), and revocation then shows within that time. A revoked token is
 *   TOKEN_REVOKED.
 *
 * When the JWKS or the introspection endpoint cannot be reached (timeout, refused, non-200, a
 * malformed answer), the token is neither accepted nor called invalid: the error is
 * DATABASE_UNAVAILABLE (503, `retryAfterSeconds`), the closest existing code — Gatekeeper's
 * record of keys and sessions cannot be read — so that clients retry instead of signing in again.
 *
 * Keys of a JWKS are cached for `cacheMaxAgeMs`; a token with an unknown `kid` (a key rotation)
 * fetches the JWKS again, at most once per `cooldownMs`, so made-up `kid`s cannot flood Gatekeeper.
 *
 * @throws TypeError for unusable options (a short secret, algorithms that do not fit the keys).
 * The key source and the options may come in one object, or as two arguments.
 * @example
 * const verifier = createVerifier({
 *   jwksUrl: 'https://auth.example.com/.well-known/jwks.json',
 *   issuer: 'https://auth.example.com',
 *   audience: 'my-service',
 * });
 * const user = await verifier.verify(token); // { sub, username, role, sid, jti, iat, exp, … }
 */
export function createVerifier(source: KeySource & VerifierOptions, more: VerifierOptions = {}): Verifier {
  const options: VerifierOptions = { ...source, ...more };
  const algorithms = algorithmsFor(source, options.algorithms);
  const now = options.now ?? (() => new Date());
  const fetchImpl: FetchLike | undefined = options.fetch;
  const keys: SecretKeyResolver = keyResolver(source, fetchImpl);
  const tolerance = options.clockToleranceSeconds ?? 0;
  if (!(tolerance >= 0)) throw new TypeError('clockToleranceSeconds must be ≥ 0');
  const clock = options.now;
  const checks: JWTVerifyOptions = {
    algorithms,
    clockTolerance: tolerance,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  };
  const introspect =
    options.introspection === undefined
      ? undefined
      : createIntrospector(options.introspection, fetchImpl ?? ((url, init) => globalThis.fetch(url, init)), now);

  return {
    async verify(token) {
      if (token === undefined || token === null || token === '') {
        throw new GatekeeperError('NOT_AUTHENTICATED', 'Not authenticated: no access token was given.');
      }
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalidToken();
      let payload: JWTPayload;
      try {
        // One options object for every call; a clock of the caller's is read per call.
        // The shared secret, once imported, goes in as the key itself (no resolver call per token).
        const key = keys.imported ?? keys;
        ({ payload } = await jwtVerify(token, key, clock ? { ...checks, currentDate: clock() } : checks));
      } catch (err) {
        throw fromJoseError(err);
      }
      const claims = accessClaims(payload);
      if (introspect !== undefined) await introspect(token, claims);
      return claims;
    },
  };
}
