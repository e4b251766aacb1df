/**
 * Signing in and sessions: registration, login (throttled, one error for every
 * failure), refresh-token rotation with reuse detection, logout, verifying an
 * access token, and starting a session with its token pair.
 */
import { randomUUID } from 'node:crypto';
import { GatekeeperError, invalidField } from '../errors.js';
import { throttleKeys, ipKey } from '../security/throttle.js';
import { LIMITS } from '../core/limits.js';
import { hashRefreshToken, newRefreshToken } from '../security/tokens.js';
import type { SessionRecord, UserRecord } from '../store/store.js';
import { actorName, hasAdminAuthority, type RequestContext } from './actor.js';
import { createAccount, recordEvent } from './accounts.js';
import { subjectOf } from './audit-trail.js';
import { DAY_MS, type UseCaseDeps } from './deps.js';
import type { EmailVerification } from './email-verification.js';
import { RefreshChain } from './refresh-grace.js';
import type { SessionNotices } from './session-notices.js';
import { mfaChallengeFor, type MfaChallenge, type SecondFactorMode } from './mfa-challenge.js';
import type { NewAccount, Principal, TokenPair } from './types.js';

/** The sign-in use cases; AuthService delegates to them. */
export class SignIn {
  readonly #deps: UseCaseDeps;
  readonly #verification: EmailVerification;
  readonly #chain: RefreshChain;
  readonly #notices: SessionNotices | null;

  constructor(deps: UseCaseDeps, verification: EmailVerification, notices: SessionNotices | null = null) {
    this.#deps = deps;
    this.#verification = verification;
    this.#chain = new RefreshChain(deps);
    this.#notices = notices;
  }

  /**
   * Self-registration; an actor with admin authority (an admin, an operator) may
   * create users of any role even when registration is closed.
   */
  async register(account: NewAccount, context: RequestContext = {}): Promise<UserRecord> {
    const byAdmin = hasAdminAuthority(context.actor);
    if (!byAdmin && !this.#deps.allowRegistration) {
      throw new GatekeeperError('REGISTRATION_DISABLED', 'Self-registration is disabled on this server.');
    }
    if (!byAdmin && account.role !== undefined && account.role !== 'regular') {
      throw new GatekeeperError('FORBIDDEN', 'Only admins can create users with another role than regular.');
    }
    if (!byAdmin && account.isActive !== undefined) {
      throw new GatekeeperError('FORBIDDEN', 'Only admins can set whether an account is active.');
    }
    // Under a required verification an account without an address could never sign in.
    if (!byAdmin && this.#verification.required && !account.email) {
      throw invalidField('email', 'an email address is required to register on this server');
    }
    const ip = context.ip ?? null;
    // USERNAME_TAKEN / EMAIL_TAKEN tell that an account exists: counted per address (not for admins).
    const user = await this.#deps.conflicts.guard(byAdmin ? null : ip, this.#deps.now(), () =>
      createAccount(this.#deps, account, ip === null ? [] : [{ key: ipKey(ip) }]),
    );
    await recordEvent(this.#deps, 'register', user, context, {
      role: user.role,
      by: byAdmin ? actorName(context.actor) : null,
    });
    await this.#verification.afterRegistration(user, context);
    return user;
  }

  /**
   * Unknown user, wrong password and inactive account take one path and give one
   * error. The account is charged before its password is verified and refused with
   * TOO_MANY_ATTEMPTS while locked (login-throttle.ts). An address past its own
   * limit is still verified, with a small share of the hash queue, and only its
   * failures get 429: a correct password is never refused because of its address.
   * An account with MFA answers a challenge (./mfa-challenge.ts) instead of tokens, and its
   * charged attempt stays counted until the second step succeeds (./mfa.ts).
   */
  async login(
    login: string,
    password: string,
    context: RequestContext = {},
    secondFactor: SecondFactorMode = 'challenge',
  ): Promise<TokenPair | MfaChallenge> {
    const { store, hasher, throttle, audit } = this.#deps;
    const now = this.#deps.now();
    const ip = context.ip ?? null;
    const attempted = { username: login, userId: null };
    const refusal = { event: 'login.failure' as const, at: now, ip, detail: { reason: 'throttled' } };
    // A login refused a moment ago is refused again without a read, a hash or a new audit row.
    await throttle.refuseIfCached(login, { ...refusal, ...attempted });
    // Under a flood, refuse while the hash queue (or this address's share of it) is full,
    // before any database work: the reads would be wasted, and waiting for the pool costs memory.
    const ticket = hasher.queue.reserve(ip === null ? [] : [{ key: ipKey(ip) }]);
    try {
      const user = await store.getUserByLogin(login);
      // A found user is counted under its stored name, so its username and its email share one budget.
      const keys = throttleKeys(user?.username ?? login, ip);
      const subject = user ? subjectOf(user) : attempted;
      ticket.claim({ key: keys.account });
      const attempt = await throttle.charge(keys, { ...refusal, ...subject }, [login]);
      if (attempt.addressThrottled) {
        ticket.claim({ key: `throttled-${keys.ip}`, share: Math.max(1, Math.floor(hasher.queue.share / 4)) });
      }
      let failure: 'unknown-user' | 'wrong-password' | 'inactive' | null;
      let needsRehash = false;
      if (!user) {
        // Verify a dummy hash so unknown users take as long as known ones.
        await hasher.verifyDummy(password, ticket);
        failure = 'unknown-user';
      } else {
        const result = await hasher.verify(user.passwordHash, password, ticket);
        failure = !result.ok ? 'wrong-password' : !user.isActive ? 'inactive' : null;
        needsRehash = result.needsRehash;
      }
      if (failure !== null || !user) {
        const entry = { event: 'login.failure' as const, at: now, ip, ...subject, detail: { reason: failure } };
        const wait = await throttle.recordFailure(attempt, entry, [login]);
        await audit.record(entry);
        if (wait !== null) {
          throw new GatekeeperError('TOO_MANY_ATTEMPTS', 'Too many failed attempts; try again later.', {
            retryAfterSeconds: wait,
          });
        }
        throw new GatekeeperError('INVALID_CREDENTIALS', 'Incorrect username or password.');
      }
      if (needsRehash) await this.#rehash(user, password);
      // Only now, with the password proven: the refusal tells a guesser nothing.
      if (this.#verification.required && user.email !== null && !user.emailVerified) {
        await audit.record({ ...refusal, ...subjectOf(user), detail: { reason: 'email-not-verified' } });
        await this.#verification.afterRefusedLogin(user, context);
        throw new GatekeeperError(
          'EMAIL_NOT_VERIFIED',
          'Confirm your email address first: follow the link in the verification mail (a new one is on its way).',
        );
      }
      // An account with MFA gets the second step, and its counter is cleared only by that step's success.
      const challenge = await mfaChallengeFor(this.#deps, user, secondFactor);
      if (challenge) return challenge;
      await throttle.recordSuccess(attempt);
      const tokens = await this.#startLoginSession(user, context);
      await audit.record({ event: 'login.success', at: now, ip, ...subjectOf(user) });
      return tokens;
    } finally {
      ticket.release();
    }
  }

  /**
   * Rotates `refreshToken`. Presented again within the grace window of its rotation (two tabs at
   * once), it gets the session's current pair instead (refresh-grace.ts); later, it is reuse.
   * The new token's expiry never passes the session's absolute end (GATEKEEPER_SESSION_MAX_DAYS).
   */
  async refresh(refreshToken: string, context: RequestContext = {}): Promise<TokenPair> {
    const { store } = this.#deps;
    const now = this.#deps.now();
    const newToken = await this.#chain.successor(refreshToken);
    const expiresAt = new Date(now.getTime() + this.#deps.refreshTokenDays * DAY_MS);
    const result = await store.rotateRefreshToken(
      hashRefreshToken(refreshToken),
      hashRefreshToken(newToken),
      expiresAt,
      now,
    );
    if (result.status === 'reused') {
      const current = await this.#chain.current(refreshToken, result.session.id, result.usedAt, now);
      if (current) return this.#continueSession(result.session, current.token, current.expiresAt, now);
      // A rotated token came back: someone holds a copy. End the whole login session for everyone.
      await store.revokeSession(result.session.id, 'refresh-token-reuse', now);
      this.#deps.log?.warn({ userId: result.session.userId, sessionId: result.session.id }, 'refresh token reuse');
      const owner = await store.getUserById(result.session.userId);
      await this.#deps.audit.record({
        event: 'refresh.reuse',
        at: now,
        ip: context.ip ?? null,
        username: owner?.username ?? null,
        userId: result.session.userId,
        detail: { session_id: result.session.id },
      });
      throw invalidRefreshToken();
    }
    if (result.status === 'invalid') throw invalidRefreshToken();
    return this.#continueSession(result.session, newToken, result.session.expiresAt, now);
  }

  /** The pair of a refreshed session, if its user may still have one. */
  async #continueSession(session: SessionRecord, refreshToken: string, refreshExpiresAt: Date, now: Date) {
    const user = await this.#deps.store.getUserById(session.userId);
    if (!user || !user.isActive) {
      await this.#deps.store.revokeSession(session.id, 'user-inactive', now);
      throw invalidRefreshToken();
    }
    // The session's createdAt is its password login: a refresh carries that time on, it does not renew it.
    const amr = (await this.#deps.store.isMfaSession(session.id)) ? MFA_AMR : PASSWORD_AMR;
    return tokenPair(this.#deps, user, session.id, refreshToken, now, session.createdAt, refreshExpiresAt, amr);
  }

  /** A login's session, and the new-address notice when it is one (asked before the session is stored). */
  async #startLoginSession(user: UserRecord, context: RequestContext): Promise<TokenPair> {
    return startLoginSession(this.#deps, this.#notices, user, context, PASSWORD_AMR);
  }

  /** Verifies an access token and checks that its session and user are still good. */
  async authenticate(accessToken: string): Promise<Principal> {
    const { store } = this.#deps;
    const claims = await this.#deps.tokens.verify(accessToken, this.#deps.now());
    const [session, user] = await Promise.all([store.getSession(claims.sid), store.getUserById(claims.sub)]);
    if (!session || session.revokedAt !== null || session.userId !== claims.sub) {
      throw new GatekeeperError('TOKEN_REVOKED', 'The access token has been revoked.');
    }
    if (!user || !user.isActive) throw new GatekeeperError('INVALID_TOKEN', 'The access token is no longer valid.');
    return { user, claims };
  }

  /** Ends the principal's session, and the session of `refreshToken` when it is the same user's. */
  async logout(principal: Principal, refreshToken?: string, context: RequestContext = {}): Promise<void> {
    const { store } = this.#deps;
    const now = this.#deps.now();
    await store.revokeSession(principal.claims.sid, 'logout', now);
    const ended = [principal.claims.sid];
    if (refreshToken !== undefined) {
      const session = await store.findSessionByRefreshToken(hashRefreshToken(refreshToken));
      if (session && session.userId === principal.user.id) {
        await store.revokeSession(session.id, 'logout', now);
        if (session.id !== principal.claims.sid) ended.push(session.id);
      }
    }
    await recordEvent(this.#deps, 'logout', principal.user, context, { session_ids: ended });
  }

  async #rehash(user: UserRecord, password: string): Promise<void> {
    try {
      await this.#deps.store.updateUser(user.id, { passwordHash: await this.#deps.hasher.hash(password) });
    } catch (err) {
      // The login itself succeeded; a failed upgrade is retried at the next login.
      this.#deps.log?.warn({ userId: user.id, err }, 'password rehash failed');
    }
  }
}

/** RFC 8176 `amr` of a password login, and of one completed with a TOTP or recovery code. */
export const PASSWORD_AMR: readonly string[] = ['pwd'];
export const MFA_AMR: readonly string[] = ['pwd', 'otp'];

/**
 * A login's session (password, or password and second factor), with the new-address notice when
 * the address is new for the user (asked before the session is stored, so it does not count itself).
 */
export async function startLoginSession(
  deps: UseCaseDeps,
  notices: SessionNotices | null,
  user: UserRecord,
  context: RequestContext,
  amr: readonly string[],
): Promise<TokenPair> {
  const ip = context.ip ?? null;
  const newAddress = (await notices?.isNewAddress(user, ip)) ?? false;
  const tokens = await startSession(deps, user, context, amr);
  if (newAddress && ip !== null) notices?.newAddress(user, ip, boundedUserAgent(context.userAgent), deps.now());
  return tokens;
}

/**
 * Starts a login session for `user` and gives its first token pair. The session remembers where
 * it came from (`context`: address and user agent, bounded) and ends GATEKEEPER_SESSION_MAX_DAYS
 * from now at the latest; `amr` says how the login went.
 */
export async function startSession(
  deps: UseCaseDeps,
  user: UserRecord,
  context: RequestContext = {},
  amr: readonly string[] = PASSWORD_AMR,
): Promise<TokenPair> {
  const now = deps.now();
  const refreshToken = newRefreshToken();
  const session = await deps.store.createSession({
    id: randomUUID(),
    userId: user.id,
    refreshTokenHash: hashRefreshToken(refreshToken),
    createdAt: now,
    expiresAt: new Date(now.getTime() + deps.refreshTokenDays * DAY_MS),
    absoluteExpiresAt: new Date(now.getTime() + deps.sessionMaxDays * DAY_MS),
    ip: bounded(context.ip, LIMITS.sessionIpMax),
    userAgent: boundedUserAgent(context.userAgent),
  });
  if (amr.includes('otp')) await deps.store.markMfaSession(session.id);
  return tokenPair(deps, user, session.id, refreshToken, now, session.createdAt, session.expiresAt, amr);
}

/**
 * A header value as a session keeps it: control characters dropped (PostgreSQL refuses NUL in
 * text), at most `max` characters (code points, as VARCHAR counts them), null when nothing is left.
 */
function bounded(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined) return null;
  // Cut first (by code units, cheap), so a huge header costs no more than its first part.
  // eslint-disable-next-line no-control-regex
  const clean = value.slice(0, max * 2).replace(/[\u0000-\u001f\u007f]/g, '');
  const kept = Array.from(clean).slice(0, max).join('');
  return kept === '' ? null : kept;
}

function boundedUserAgent(userAgent: string | null | undefined): string | null {
  return bounded(userAgent, LIMITS.sessionUserAgentMax);
}

async function tokenPair(
  deps: UseCaseDeps,
  user: UserRecord,
  sessionId: string,
  refreshToken: string,
  now: Date,
  authTime: Date,
  refreshExpiresAt: Date,
  amr: readonly string[],
): Promise<TokenPair> {
  return {
    accessToken: await deps.tokens.issue(user, sessionId, now, authTime, amr),
    refreshToken,
    tokenType: 'bearer',
    expiresInSeconds: deps.tokens.expiresInSeconds,
    // The token's own expiry, so it never points past the session's absolute end.
    refreshExpiresInSeconds: Math.max(0, Math.floor((refreshExpiresAt.getTime() - now.getTime()) / 1000)),
  };
}

function invalidRefreshToken(): GatekeeperError {
  return new GatekeeperError('INVALID_REFRESH_TOKEN', 'The refresh token is invalid, expired or already used.');
}
