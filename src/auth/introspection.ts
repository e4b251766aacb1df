/**
 * RFC 7662 token introspection for Gatekeeper's own tokens (POST /auth/introspect): a
 * registered confidential client asks whether an access or refresh token is active now.
 * The answer runs the same checks as every authenticated request (AuthService.authenticate:
 * signature, expiry, issuer and audience, a revoked session, a deleted or inactive user),
 * or for a refresh token the state refresh() would find, and says `{active: false}`
 * instead of refusing. The token itself is never logged, stored or put in an error.
 */
import type { Role } from '../core/roles.js';
import { GatekeeperError, isGatekeeperError } from '../errors.js';
import { hashClientSecret, verifyClientSecret } from '../security/client-secrets.js';
import { hashRefreshToken } from '../security/tokens.js';
import type { OAuthClientRecord } from '../store/store.js';
import type { RequestContext } from './actor.js';
import type { AuditEntry } from './audit-trail.js';
import type { UseCaseDeps } from './deps.js';
import type { SignIn } from './sign-in.js';

/** What a client presented (HTTP Basic or client_secret_post), already decoded. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** RFC 7662 §2.2, in the domain's words; src/http/wire.ts makes the wire form. */
export type IntrospectionResult =
  | { active: false }
  | {
      active: true;
      /** The user's id. */
      sub: string;
      /** As the user is named now (a rename shows at once). */
      username: string;
      /** The user's role now. */
      role: Role;
      /** The login session (refresh-token family). */
      sid: string;
      /** Seconds since the epoch. */
      exp: number;
      iat: number;
      iss?: string;
      aud?: string;
      tokenType: 'access_token' | 'refresh_token';
    };

const INACTIVE: IntrospectionResult = Object.freeze({ active: false });

/** Longer than any token Gatekeeper issues by far (the verifier's bound too). */
const MAX_TOKEN_LENGTH = 8192;
/** A refresh token: 32 random bytes in base64url (newRefreshToken). Anything else is not worth a read. */
const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** What an access token may fail with and still be simply "not active". */
const INACTIVE_CODES = new Set(['INVALID_TOKEN', 'TOKEN_EXPIRED', 'TOKEN_REVOKED']);
/** Compared against when the client is unknown, so unknown and known clients take as long. */
const DUMMY_SECRET_HASH = hashClientSecret('gatekeeper-no-such-client');

function invalidClient(): GatekeeperError {
  return new GatekeeperError('INVALID_CLIENT', 'Client authentication failed.');
}

type Failure = 'no-credentials' | 'unknown-client' | 'public-client' | 'wrong-secret';

/** The introspection use cases; AuthService delegates to them. */
export class Introspection {
  readonly #deps: UseCaseDeps;
  readonly #signIn: SignIn;

  constructor(deps: UseCaseDeps, signIn: SignIn) {
    this.#deps = deps;
    this.#signIn = signIn;
  }

  /**
   * The confidential client these credentials prove, or INVALID_CLIENT (one error for no
   * credentials, an unknown client, a public client and a wrong secret). Failures count on
   * the address's login-failure counter; past its limit TOO_MANY_ATTEMPTS, before any check.
   */
  async authenticateClient(
    credentials: ClientCredentials | null,
    context: RequestContext = {},
  ): Promise<OAuthClientRecord> {
    const { store, throttle, audit } = this.#deps;
    const now = this.#deps.now();
    const ip = context.ip ?? null;
    const entry = (reason: string, client: OAuthClientRecord | null): AuditEntry => ({
      event: 'client.auth_failure',
      at: now,
      ip,
      username: null,
      userId: null,
      // Only a client id that names a client: an unknown "id" may be a secret pasted into the wrong field.
      detail: { reason, client_id: client?.clientId ?? null },
    });
    await throttle.refuseLockedAddress(ip, entry('throttled', null));
    const client = credentials && credentials.clientId !== '' ? await store.getOAuthClient(credentials.clientId) : null;
    let failure: Failure | null = null;
    if (!credentials) failure = 'no-credentials';
    else if (!client) {
      verifyClientSecret(credentials.clientSecret, DUMMY_SECRET_HASH);
      failure = 'unknown-client';
    } else if (client.secretHash === null) failure = 'public-client';
    else if (!verifyClientSecret(credentials.clientSecret, client.secretHash)) failure = 'wrong-secret';
    if (failure !== null || !client) {
      const failed = entry(failure ?? 'unknown-client', client);
      await throttle.recordAddressFailure(ip, failed);
      await audit.record(failed);
      throw invalidClient();
    }
    return client;
  }

  /**
   * Authenticates the client, then answers for `token`: BAD_REQUEST when it is missing;
   * `{active: false}` for anything that is not a live Gatekeeper token.
   */
  async introspect(
    credentials: ClientCredentials | null,
    token: string | undefined,
    context: RequestContext = {},
  ): Promise<IntrospectionResult> {
    await this.authenticateClient(credentials, context);
    if (token === undefined || token === '') {
      throw new GatekeeperError('BAD_REQUEST', 'The token parameter is missing.');
    }
    return this.#inspect(token);
  }

  async #inspect(token: string): Promise<IntrospectionResult> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return INACTIVE;
    return REFRESH_TOKEN_SHAPE.test(token) ? this.#refreshToken(token) : this.#accessToken(token);
  }

  async #accessToken(token: string): Promise<IntrospectionResult> {
    let principal;
    try {
      principal = await this.#signIn.authenticate(token);
    } catch (err) {
      // A store that cannot answer is not an answer: that stays a 503.
      if (isGatekeeperError(err) && INACTIVE_CODES.has(err.code)) return INACTIVE;
      throw err;
    }
    const { user, claims } = principal;
    const { issuer, audience } = this.#deps.tokens;
    return {
      active: true,
      sub: user.id,
      username: user.username,
      role: user.role,
      sid: claims.sid,
      exp: claims.exp,
      iat: claims.iat,
      ...(issuer === null ? {} : { iss: issuer }),
      ...(audience === null ? {} : { aud: audience }),
      tokenType: 'access_token',
    };
  }

  /** The state refresh() would find: unknown, spent (rotated), expired, a revoked or expired session, an unusable user. */
  async #refreshToken(token: string): Promise<IntrospectionResult> {
    const { store } = this.#deps;
    const now = this.#deps.now();
    const record = await store.findRefreshToken(hashRefreshToken(token));
    if (!record || record.usedAt !== null || record.expiresAt <= now) return INACTIVE;
    const session = await store.getSession(record.sessionId);
    if (!session || session.revokedAt !== null || session.expiresAt <= now) return INACTIVE;
    const user = await store.getUserById(session.userId);
    if (!user || !user.isActive) return INACTIVE;
    const issuer = this.#deps.tokens.issuer;
    return {
      active: true,
      sub: user.id,
      username: user.username,
      role: user.role,
      sid: session.id,
      exp: Math.floor(record.expiresAt.getTime() / 1000),
      iat: Math.floor(record.createdAt.getTime() / 1000),
      ...(issuer === null ? {} : { iss: issuer }),
      tokenType: 'refresh_token',
    };
  }
}
