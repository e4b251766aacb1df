import {
  createRemoteJWKSet,
  customFetch,
  errors as joseErrors,
  type CryptoKey,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
} from 'jose';
import { GatekeeperError } from '../errors.js';
import type { FetchLike, KeySource } from './types.js';
import { unavailable } from './claims.js';

/** What jwtVerify is given: a key, or a function of the token's header. */
export type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey | Uint8Array>;

const ASYMMETRIC = [
  'EdDSA',
  'Ed25519',
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
];
// The secret is imported as an HMAC SHA-256 key, as Gatekeeper signs with it.
const SYMMETRIC = ['HS256'];

/** The algorithms Gatekeeper signs with (src/core/algorithms.ts), split by key type. */
const DEFAULT_ASYMMETRIC = ['EdDSA', 'ES256', 'RS256'];

/**
 * The `algorithms` to pass to jwtVerify: the caller's, checked against the key source, or the
 * default. Mixing a JWKS with HMAC would let a public key be used as a shared secret.
 */
export function algorithmsFor(source: KeySource, algorithms: string[] | undefined): string[] {
  const jwks = 'jwksUrl' in source;
  if (algorithms === undefined) return jwks ? [...DEFAULT_ASYMMETRIC] : ['HS256'];
  const allowed = jwks ? ASYMMETRIC : SYMMETRIC;
  const wrong = algorithms.filter((a) => !allowed.includes(a));
  if (algorithms.length === 0 || wrong.length > 0) {
    throw new TypeError(
      `algorithms must be a non-empty list of ${allowed.join(', ')} with ${jwks ? 'a jwksUrl' : 'a secret'}` +
        (wrong.length > 0 ? ` (got ${wrong.join(', ')})` : ''),
    );
  }
  return [...algorithms];
}

/** The key resolver for `source`. JWKS failures become INVALID_TOKEN (no such key) or DATABASE_UNAVAILABLE. */
export function keyResolver(source: KeySource, fetchImpl: FetchLike | undefined): KeyResolver {
  if ('secret' in source) return secretKey(source.secret);
  const url = new URL(source.jwksUrl);
  const jwks = createRemoteJWKSet(url, {
    ...(source.cacheMaxAgeMs === undefined ? {} : { cacheMaxAge: source.cacheMaxAgeMs }),
    ...(source.cooldownMs === undefined ? {} : { cooldownDuration: source.cooldownMs }),
    ...(source.timeoutMs === undefined ? {} : { timeoutDuration: source.timeoutMs }),
    ...(fetchImpl === undefined ? {} : { [customFetch]: fetchImpl }),
  });
  return async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) {
        throw new GatekeeperError('INVALID_TOKEN', 'The access token is signed with an unknown key.', { cause: err });
      }
      // Timeout, refused connection, non-200, not a JWKS: Gatekeeper's problem, not the token's.
      throw unavailable('the signing keys could not be fetched', err);
    }
  };
}

function secretKey(secret: string | Uint8Array): KeyResolver {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.byteLength < 32) throw new TypeError('the HS256 secret must be at least 32 bytes');
  // Imported once: given raw bytes, jose would import them into WebCrypto on every verification.
  let imported: Promise<CryptoKey> | undefined;
  return () =>
    (imported ??= globalThis.crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'verify',
    ]));
}
