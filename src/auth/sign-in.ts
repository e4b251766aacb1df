/**
 * Signing in and sessions: registration, login (throttled, one error for every
 * failure), refresh-token rotation with reuse detection, logout, verifying an
 * access token, and starting a session with its token pair.
 */
import { randomUUID } from 'node:crypto';
import { GatekeeperError } from '../errors.js';
import { throttleKeys, ipKey } from '../security/throttle.js';
import { hashRefreshToken, newRefreshToken } from '../security/tokens.js';
import type { UserRecord } from '../store/store.js';
import { actorName, hasAdminAuthority, type RequestContext } from './actor.js';
import { createAccount, recordEvent } from './accounts.js';
import { subjectOf } from './audit-trail.js';
import { DAY_MS, type UseCaseDeps } from './deps.js';
import { mfaChallengeFor, type MfaChallenge, type SecondFactorMode } from './mfa-challenge.js';
import type { NewAccount, Principal, TokenPair } from './types.js';

/** The sign-in use cases; AuthService delegates to them. */
export class SignIn {
  readonly #deps: UseCaseDeps;

  constructor(deps: UseCaseDeps) {
    this.#deps = deps;
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
    const ip = context.ip ?? null;
    // USERNAME_TAKEN / EMAIL_TAKEN tell that an account exists: counted per address (not for admins).
    const user = await this.#deps.conflicts.guard(byAdmin ? null : ip, this.#deps.now(), () =>
      createAccount(this.#deps, account, ip === null ? [] : [{ key: ipKey(ip) }]),
    );
    await recordEvent(this.#deps, 'register', user, context, {
      role: user.role,
      by: byAdmin ? actorName(context.actor) : null,
    });
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
      const challenge = await mfaChallengeFor(this.#deps, user, secondFactor);
      if (needsRehash) await this.#rehash(user, password);
      if (challenge) return challenge;
      await throttle.recordSuccess(attempt);
      const tokens = await startSession(this.#deps, user);
      await audit.record({ event: 'login.success', at: now, ip, ...subjectOf(user) });
      return tokens;
    } finally {
      ticket.release();
    }
  }

  async refresh(refreshToken: string, context: RequestContext = {}): Promise<TokenPair> {
    const { store } = this.#deps;
    const now = this.#deps.now();
    const newToken = newRefreshToken();
    const expiresAt = new Date(now.getTime() + this.#deps.refreshTokenDays * DAY_MS);
    const result = await store.rotateRefreshToken(
      hashRefreshToken(refreshToken),
      hashRefreshToken(newToken),
      expiresAt,
      now,
    );
    if (result.status === 'reused') {
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
    const user = await store.getUserById(result.session.userId);
    if (!user || !user.isActive) {
      await store.revokeSession(result.session.id, 'user-inactive', now);
      throw invalidRefreshToken();
    }
    // The session's createdAt is its password login: a refresh carries that time on, it does not renew it.
    const amr = (await store.isMfaSession(result.session.id)) ? MFA_AMR : PASSWORD_AMR;
    return tokenPair(this.#deps, user, result.session.id, newToken, now, result.session.createdAt, amr);
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

/** Starts a login session for `user` and gives its first token pair; `amr` says how the login went. */
export async function startSession(
  deps: UseCaseDeps,
  user: UserRecord,
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
  });
  if (amr.includes('otp')) await deps.store.markMfaSession(session.id);
  return tokenPair(deps, user, session.id, refreshToken, now, session.createdAt, amr);
}

async function tokenPair(
  deps: UseCaseDeps,
  user: UserRecord,
  sessionId: string,
  refreshToken: string,
  now: Date,
  authTime: Date,
  amr: readonly string[],
): Promise<TokenPair> {
  return {
    accessToken: await deps.tokens.issue(user, sessionId, now, authTime, amr),
    refreshToken,
    tokenType: 'bearer',
    expiresInSeconds: deps.tokens.expiresInSeconds,
    refreshExpiresInSeconds: deps.refreshTokenDays * 86_400,
  };
}

function invalidRefreshToken(): GatekeeperError {
  return new GatekeeperError('INVALID_REFRESH_TOKEN', 'The refresh token is invalid, expired or already used.');
}
