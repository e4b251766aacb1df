import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify, type CryptoKey, type JWTPayload, type KeyObject } from 'jose';
import { readAccessClaims, type AccessClaims } from '../core/access-claims.js';
import { GatekeeperError } from '../errors.js';
import type { JwtAlgorithm } from '../core/algorithms.js';
import type { Role } from '../core/roles.js';

type Key = CryptoKey | KeyObject | Uint8Array;

/**
 * The keys tokens are signed and verified with. HS256 uses one shared secret
 * (hs256Keys); asymmetric algorithms use a key ring loaded from the store
 * (src/auth/key-ring.ts), which can change while the process runs, hence the
 * asynchronous accessors.
 */
export interface SigningKeys {
  readonly algorithm: JwtAlgorithm;
  /** The key new tokens are signed with, and its `kid` (null for HS256). */
  signingKey(): Promise<{ kid: string | null; key: Key }>;
  /** The key that verifies a token with this `kid`, or null when unknown (or no longer valid). */
  verificationKey(kid: string | undefined): Promise<Key | null>;
  /** The public keys for /.well-known/jwks.json, or null when there are none to publish (HS256). */
  jwks(): Promise<{ keys: object[] } | null>;
}

export function hs256Keys(secret: string): SigningKeys {
  // Given raw bytes, jose imports them into WebCrypto on every sign and verify (a fifth of
  // the cost of an authenticated request, measured): import the key once instead.
  let imported: Promise<CryptoKey> | undefined;
  const key = () =>
    (imported ??= globalThis.crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    ));
  return {
    algorithm: 'HS256',
    signingKey: async () => ({ kid: null, key: await key() }),
    verificationKey: key,
    jwks: async () => null,
  };
}

export type { AccessClaims };

export interface TokenSettings {
  accessTokenMinutes: number;
  issuer: string | null;
  audience: string | null;
}

/** Issues and strictly verifies access tokens (JWT). Refresh tokens are opaque; see newRefreshToken(). */
/** Verified tokens remembered per process (a client sends the same token with every request). */
const VERIFIED_CACHE_SIZE = 10_000;

export class AccessTokens {
  /**
   * Token string → its verified claims. A hit means these exact bytes, signature
   * included, passed full verification before; expiry is still checked on every use,
   * and revocation is checked by the caller against the session, as for a miss.
   */
  readonly #verified = new Map<string, AccessClaims>();

  constructor(
    private readonly keys: SigningKeys,
    private readonly settings: TokenSettings,
  ) {}

  /** The `iss` every token carries and verification requires, or null when none is configured. */
  get issuer(): string | null {
    return this.settings.issuer;
  }

  /** The `aud` every token carries and verification requires, or null when none is configured. */
  get audience(): string | null {
    return this.settings.audience;
  }

  get expiresInSeconds(): number {
    return this.settings.accessTokenMinutes * 60;
  }

  /** The public keys to publish, or null with HS256. */
  jwks(): Promise<{ keys: object[] } | null> {
    return this.keys.jwks();
  }

  /**
   * `authTime`: when the session's password login happened (the session's createdAt); `now` when
   * absent. `amr`: how that login authenticated (RFC 8176), ["pwd"] unless a second factor was used.
   */
  async issue(
    user: { id: string; username: string; role: Role },
    sessionId: string,
    now: Date,
    authTime: Date = now,
    amr: readonly string[] = ['pwd'],
  ): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    const signing = await this.keys.signingKey();
    const jwt = new SignJWT({
      username: user.username,
      role: user.role,
      type: 'access',
      sid: sessionId,
      auth_time: Math.floor(authTime.getTime() / 1000),
      amr: [...amr],
    })
      .setProtectedHeader(
        signing.kid === null
          ? { alg: this.keys.algorithm, typ: 'JWT' }
          : { alg: this.keys.algorithm, typ: 'JWT', kid: signing.kid },
      )
      .setSubject(user.id)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.expiresInSeconds);
    if (this.settings.issuer !== null) jwt.setIssuer(this.settings.issuer);
    if (this.settings.audience !== null) jwt.setAudience(this.settings.audience);
    return jwt.sign(signing.key);
  }

  /** Throws TOKEN_EXPIRED or INVALID_TOKEN; checks signature, algorithm, expiry, issuer, audience and `type`. */
  async verify(token: string, now: Date = new Date()): Promise<AccessClaims> {
    const known = this.#verified.get(token);
    if (known !== undefined) {
      if (known.exp * 1000 <= now.getTime()) {
        this.#verified.delete(token);
        throw new GatekeeperError('TOKEN_EXPIRED', 'The access token has expired.');
      }
      return { ...known };
    }
    const claims = await this.#verifyFully(token, now);
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, claims);
    return { ...claims };
  }

  async #verifyFully(token: string, now: Date): Promise<AccessClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (header) => this.#keyFor(header.kid), {
        algorithms: [this.keys.algorithm],
        currentDate: now,
        ...(this.settings.issuer !== null ? { issuer: this.settings.issuer } : {}),
        ...(this.settings.audience !== null ? { audience: this.settings.audience } : {}),
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) {
        throw new GatekeeperError('TOKEN_EXPIRED', 'The access token has expired.', { cause: err });
      }
      throw new GatekeeperError('INVALID_TOKEN', 'The access token is invalid.', { cause: err });
    }
    const claims = readAccessClaims(payload);
    if (claims === null) throw new GatekeeperError('INVALID_TOKEN', 'The access token is invalid.');
    return claims;
  }

  async #keyFor(kid: string | undefined): Promise<Key> {
    const key = await this.keys.verificationKey(kid);
    if (key === null) throw new GatekeeperError('INVALID_TOKEN', 'The access token is signed with an unknown key.');
    return key;
  }
}

/** 256 random bits, URL-safe. Only its SHA-256 is stored. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The token that replaces `token` at its rotation: HMAC-SHA256 under a server-side secret, so that
 * presenting `token` again (a second tab, within the grace window) finds the same successor without
 * the successor ever being stored. As unpredictable as a random token to anyone without the secret.
 */
export function successorRefreshToken(secret: string, token: string): string {
  return createHmac('sha256', secret).update(token).digest('base64url');
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newSecret(): string {
  return randomBytes(48).toString('base64url');
}
