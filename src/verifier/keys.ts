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
export type KeyResolver = (
  header: JWSHeaderParameters,
  token: FlattenedJWSInput,
) => CryptoKey | Uint8Array | Promise<CryptoKey | Uint8Array>;

/**
 * How long a key jose's remote key set resolved for an (alg, kid) is reused without asking it
 * again: the remote set's own lookup (key selection among the JWKS' keys, async layers) was
 * most of the verifier's cost over a bare jwtVerify (docs/BENCHMARKS.md). Short, so a key
 * withdrawn from the JWKS stops being trusted within this much of the set's own refresh.
 */
const RESOLVED_KEY_TTL_MS = 30_000;
/** At most this many resolved keys are remembered (a flood of made-up kids cannot grow it). */
const RESOLVED_KEY_MAX = 64;

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
export function keyResolver(source: KeySource, fetchImpl: FetchLike | undefined): KeyResolver | SecretKeyResolver {
  if ('secret' in source) return secretKey(source.secret);
  const url = new URL(source.jwksUrl);
  const jwks = createRemoteJWKSet(url, {
    ...(source.cacheMaxAgeMs === undefined ? {} : { cacheMaxAge: source.cacheMaxAgeMs }),
    ...(source.cooldownMs === undefined ? {} : { cooldownDuration: source.cooldownMs }),
    ...(source.timeoutMs === undefined ? {} : { timeoutDuration: source.timeoutMs }),
    ...(fetchImpl === undefined ? {} : { [customFetch]: fetchImpl }),
  });
  const resolved = new Map<string, { key: CryptoKey; until: number }>();
  const lookUp = async (header: JWSHeaderParameters, token: FlattenedJWSInput, id: string) => {
    try {
      const key = await jwks(header, token);
      if (resolved.size >= RESOLVED_KEY_MAX) resolved.clear();
      resolved.set(id, { key, until: Date.now() + RESOLVED_KEY_TTL_MS });
      return key;
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) {
        throw new GatekeeperError('INVALID_TOKEN', 'The access token is signed with an unknown key.', { cause: err });
      }
      // Timeout, refused connection, non-200, not a JWKS: Gatekeeper's problem, not the token's.
      throw unavailable('the signing keys could not be fetched', err);
    }
  };
  // Only keys the remote set resolved are remembered: an unknown kid always goes to it (and so to
  // its bounded refetch).
  return (header, token) => {
    const id = `${header.alg ?? ''} ${header.kid ?? ''}`;
    const hit = resolved.get(id);
    if (hit !== undefined && hit.until > Date.now()) return hit.key;
    return lookUp(header, token, id);
  };
}

/** The shared secret's resolver; `imported` is the key itself once WebCrypto has it, for jwtVerify to take directly. */
export type SecretKeyResolver = KeyResolver & { imported?: CryptoKey };

function secretKey(secret: string | Uint8Array): SecretKeyResolver {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.byteLength < 32) throw new TypeError('the HS256 secret must be at least 32 bytes');
  // Imported once: given raw bytes, jose would import them into WebCrypto on every verification.
  // Once imported, the key itself is returned (no promise per verification).
  let importing: Promise<CryptoKey> | undefined;
  const resolver: SecretKeyResolver = () =>
    resolver.imported ??
    (importing ??= globalThis.crypto.subtle
      .importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
      .then((key) => (resolver.imported = key)));
  return resolver;
}
