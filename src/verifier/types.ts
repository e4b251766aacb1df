import type { AccessClaims } from '../core/access-claims.js';

/** A `fetch`-compatible function (the global one, undici's, or a test's). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * The claims of a Gatekeeper access token that passed verification (docs/API.md, TokenResponse),
 * plus `iss`/`aud` when the token carries them. `iat`, `exp` and `auth_time` are seconds since the epoch.
 */
export interface VerifiedToken extends AccessClaims {
  iss?: string;
  aud?: string | string[];
}

/**
 * Where the verification keys come from: Gatekeeper's published JWKS (EdDSA, ES256, RS256),
 * or the shared HS256 secret (`GATEKEEPER_SECRET_KEY`).
 */
export type KeySource =
  | {
      /** `https://gatekeeper.example/.well-known/jwks.json` */
      jwksUrl: string | URL;
      /** How long fetched keys are used before they are fetched again (default 600 000 ms). */
      cacheMaxAgeMs?: number;
      /**
       * After a successful fetch, a token with an unknown `kid` triggers a new fetch only once
       * this long has passed (default 30 000 ms): a flood of made-up `kid`s costs at most one
       * JWKS request per cooldown. Concurrent fetches are shared.
       */
      cooldownMs?: number;
      /** The JWKS request is aborted after this long (default 5 000 ms). */
      timeoutMs?: number;
    }
  | { secret: string | Uint8Array };

/**
 * Optional RFC 7662 introspection after local verification (`POST /auth/introspect`).
 * The client authenticates with HTTP Basic (RFC 6749 §2.3.1).
 */
export interface IntrospectionOptions {
  url: string | URL;
  clientId: string;
  clientSecret: string;
  /** How long an answer is reused for the same token (default 5; 0 asks every time). */
  cacheSeconds?: number;
  /** The request is aborted after this long (default 2 000 ms). */
  timeoutMs?: number;
  /** At most this many answers are kept (default 10 000; the oldest go first). */
  cacheSize?: number;
}

export interface VerifierOptions {
  /** Required `iss`; pass it whenever Gatekeeper has `GATEKEEPER_ISSUER`. */
  issuer?: string;
  /** Required `aud` (one of them); pass it whenever Gatekeeper has `GATEKEEPER_AUDIENCE`. */
  audience?: string | string[];
  /**
   * Accepted `alg` values. Default: `['HS256']` with a secret, `['EdDSA', 'ES256', 'RS256']` with
   * a JWKS. A symmetric algorithm with a JWKS (or an asymmetric one with a secret) is a TypeError.
   */
  algorithms?: string[];
  /** Leeway for `exp`/`nbf` between hosts' clocks (default 0). */
  clockToleranceSeconds?: number;
  /** Used for the JWKS and introspection requests (default: the global `fetch`). */
  fetch?: FetchLike;
  introspection?: IntrospectionOptions;
  /** The current time (default `() => new Date()`); tests pass a clock. */
  now?: () => Date;
}

export interface Verifier {
  /**
   * The token's claims, or a GatekeeperError: NOT_AUTHENTICATED (no token), INVALID_TOKEN,
   * TOKEN_EXPIRED, TOKEN_REVOKED (introspection), DATABASE_UNAVAILABLE (keys or introspection
   * unreachable; see createVerifier).
   */
  verify(token: string | undefined | null): Promise<VerifiedToken>;
}
