import { randomUUID } from 'node:crypto';
import type { PasswordPolicyName } from '../core/password-policies.js';
import { validateFields } from '../core/validation.js';
import { GatekeeperError } from '../errors.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import { retiredKeyLifetimeSeconds } from '../security/signing-keys.js';
import { DEFAULT_THROTTLE_POLICY, throttleKeys, type ThrottlePolicy } from '../security/throttle.js';
import { hashRefreshToken, newRefreshToken, type AccessClaims, type AccessTokens } from '../security/tokens.js';
import type { AuditEventRecord, Store, UserPage, UserRecord, UserStats } from '../store/store.js';
import { AuditTrail, describeChanges, subjectOf } from './audit-trail.js';
import { LoginThrottle } from './login-throttle.js';
import type { AuditEventType } from '../core/audit-events.js';
import type { Metadata, Role } from '../core/roles.js';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
  refresh_expires_in: number;
}

/** Who is calling: the verified token and the user as stored now. */
export interface Principal {
  user: UserRecord;
  claims: AccessClaims;
}

export interface ProfileChanges {
  username?: string;
  email?: string | null;
  profilePictureUrl?: string | null;
  metadata?: Metadata;
}

export interface AdminChanges extends ProfileChanges {
  role?: Role;
  isActive?: boolean;
}

export interface NewAccount {
  username: string;
  password: string;
  email?: string | null;
  profilePictureUrl?: string | null;
  metadata?: Metadata;
  role?: Role;
  isActive?: boolean;
}

/** Where a call comes from: recorded in the audit trail, and the address is counted for throttling. */
export interface RequestContext {
  /** The client address (Fastify's request.ip, which honours GATEKEEPER_TRUST_PROXY). */
  ip?: string | null;
  /** The authenticated user acting on someone else's account (admin routes). */
  actor?: Pick<UserRecord, 'id' | 'username'> | null;
}

export interface AuditQueryInput {
  /** A username: events recorded under that name, and those of the user who holds it now. */
  user?: string;
  event?: AuditEventType;
  since?: Date;
  limit: number;
}

export interface AuthServiceOptions {
  store: Store;
  hasher: PasswordHasher;
  tokens: AccessTokens;
  passwordPolicy: PasswordPolicyName;
  refreshTokenDays: number;
  allowRegistration: boolean;
  /** Brute-force thresholds; DESIGN.md's defaults when absent. */
  throttle?: ThrottlePolicy;
  /** Audit events older than this are purged (GATEKEEPER_AUDIT_RETENTION_DAYS, default 90). */
  auditRetentionDays?: number;
  now?: () => Date;
  log?: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
}

const DAY_MS = 86_400_000;

/**
 * The use cases of API.md. The only place that combines the store with password
 * hashing and tokens; HTTP, the CLI and library users all come through here.
 */
export class AuthService {
  readonly store: Store;
  readonly #hasher: PasswordHasher;
  readonly #tokens: AccessTokens;
  readonly #options: AuthServiceOptions;
  readonly #now: () => Date;
  readonly #throttle: LoginThrottle;
  readonly #audit: AuditTrail;

  constructor(options: AuthServiceOptions) {
    this.store = options.store;
    this.#hasher = options.hasher;
    this.#tokens = options.tokens;
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.#throttle = new LoginThrottle(options.store, options.throttle ?? DEFAULT_THROTTLE_POLICY);
    this.#audit = new AuditTrail(options.store, options.log);
  }

  // --- public -------------------------------------------------------------------------------

  /** Self-registration; an admin may pass `actor` to create users of any role even when registration is closed. */
  async register(account: NewAccount, actor?: UserRecord, context: RequestContext = {}): Promise<UserRecord> {
    const byAdmin = actor?.role === 'admin';
    if (!byAdmin && !this.#options.allowRegistration) {
      throw new GatekeeperError('REGISTRATION_DISABLED', 'Self-registration is disabled on this server.');
    }
    if (!byAdmin && account.role !== undefined && account.role !== 'regular') {
      throw new GatekeeperError('FORBIDDEN', 'Only admins can create users with another role than regular.');
    }
    if (!byAdmin && account.isActive !== undefined) {
      throw new GatekeeperError('FORBIDDEN', 'Only admins can set whether an account is active.');
    }
    const user = await this.#createAccount(account);
    await this.#record('register', user, context, { role: user.role, by: byAdmin ? actor.username : null });
    return user;
  }

  /**
   * Unknown user, wrong password and inactive account take one path and give one
   * error; past the throttle thresholds the attempt is refused with
   * TOO_MANY_ATTEMPTS before any password is verified.
   */
  async login(login: string, password: string, context: RequestContext = {}): Promise<TokenPair> {
    // Under a flood, refuse while the hash queue is full before any database work: the
    // reads would be wasted, and hundreds of them waiting for the pool cost memory.
    this.#hasher.queue.admit();
    const now = this.#now();
    const ip = context.ip ?? null;
    const user = await this.store.getUserByLogin(login);
    // A found user is counted under its stored name, so its username and its email share one budget.
    const keys = throttleKeys(user?.username ?? login, ip);
    const check = await this.#throttle.check(keys, now);
    const attempted = user ? subjectOf(user) : { username: login, userId: null };
    if (check.retryAfterSeconds !== null) {
      await this.#audit.record({ event: 'login.failure', at: now, ip, ...attempted, detail: { reason: 'throttled' } });
      throw new GatekeeperError('TOO_MANY_ATTEMPTS', 'Too many failed logins; try again later.', {
        retryAfterSeconds: check.retryAfterSeconds,
      });
    }
    let failure: 'unknown-user' | 'wrong-password' | 'inactive' | null;
    let needsRehash = false;
    if (!user) {
      // Verify a dummy hash so unknown users take as long as known ones.
      await this.#hasher.verifyDummy(password);
      failure = 'unknown-user';
    } else {
      const result = await this.#hasher.verify(user.passwordHash, password);
      failure = !result.ok ? 'wrong-password' : !user.isActive ? 'inactive' : null;
      needsRehash = result.needsRehash;
    }
    if (failure !== null || !user) {
      await this.#throttle.recordFailure(keys, now);
      await this.#audit.record({ event: 'login.failure', at: now, ip, ...attempted, detail: { reason: failure } });
      throw invalidCredentials();
    }
    await this.#throttle.recordSuccess(keys, check);
    if (needsRehash) await this.#rehash(user, password);
    const tokens = await this.#startSession(user);
    await this.#audit.record({ event: 'login.success', at: now, ip, ...subjectOf(user) });
    return tokens;
  }

  async refresh(refreshToken: string, context: RequestContext = {}): Promise<TokenPair> {
    const now = this.#now();
    const newToken = newRefreshToken();
    const expiresAt = new Date(now.getTime() + this.#options.refreshTokenDays * DAY_MS);
    const result = await this.store.rotateRefreshToken(
      hashRefreshToken(refreshToken),
      hashRefreshToken(newToken),
      expiresAt,
      now,
    );
    if (result.status === 'reused') {
      // A rotated token came back: someone holds a copy. End the whole login session for everyone.
      await this.store.revokeSession(result.session.id, 'refresh-token-reuse', now);
      this.#options.log?.warn({ userId: result.session.userId, sessionId: result.session.id }, 'refresh token reuse');
      const owner = await this.store.getUserById(result.session.userId);
      await this.#audit.record({
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
    const user = await this.store.getUserById(result.session.userId);
    if (!user || !user.isActive) {
      await this.store.revokeSession(result.session.id, 'user-inactive', now);
      throw invalidRefreshToken();
    }
    return this.#tokenPair(user, result.session.id, newToken, now);
  }

  /** Verifies an access token and checks that its session and user are still good. */
  async authenticate(accessToken: string): Promise<Principal> {
    const claims = await this.#tokens.verify(accessToken, this.#now());
    const [session, user] = await Promise.all([this.store.getSession(claims.sid), this.store.getUserById(claims.sub)]);
    if (!session || session.revokedAt !== null || session.userId !== claims.sub) {
      throw new GatekeeperError('TOKEN_REVOKED', 'The access token has been revoked.');
    }
    if (!user || !user.isActive) throw new GatekeeperError('INVALID_TOKEN', 'The access token is no longer valid.');
    return { user, claims };
  }

  // --- authenticated ------------------------------------------------------------------------

  async logout(principal: Principal, refreshToken?: string, context: RequestContext = {}): Promise<void> {
    const now = this.#now();
    await this.store.revokeSession(principal.claims.sid, 'logout', now);
    const ended = [principal.claims.sid];
    if (refreshToken !== undefined) {
      const session = await this.store.findSessionByRefreshToken(hashRefreshToken(refreshToken));
      if (session && session.userId === principal.user.id) {
        await this.store.revokeSession(session.id, 'logout', now);
        if (session.id !== principal.claims.sid) ended.push(session.id);
      }
    }
    await this.#record('logout', principal.user, context, { session_ids: ended });
  }

  async updateProfile(
    principal: Principal,
    changes: ProfileChanges,
    context: RequestContext = {},
  ): Promise<UserRecord> {
    this.#validateProfile(changes);
    const updated = this.#mustExist(await this.store.updateUser(principal.user.id, changes));
    await this.#recordUpdate(principal.user, updated, { ...context, actor: principal.user });
    return updated;
  }

  /** Replaces the password, ends every session of the user and starts a fresh one. */
  async changePassword(
    principal: Principal,
    currentPassword: string,
    newPassword: string,
    context: RequestContext = {},
  ): Promise<TokenPair> {
    this.#hasher.queue.admit();
    const user = this.#mustExist(await this.store.getUserById(principal.user.id));
    const current = await this.#hasher.verify(user.passwordHash, currentPassword);
    if (!current.ok) throw new GatekeeperError('INVALID_PASSWORD', 'The current password is wrong.');
    validateFields({ password: { field: 'new_password', value: newPassword } }, this.#options.passwordPolicy);
    const passwordHash = await this.#hasher.hash(newPassword);
    const updated = this.#mustExist(await this.store.updateUser(user.id, { passwordHash }));
    const revoked = await this.store.revokeUserSessions(user.id, 'password-changed', this.#now());
    await this.#record('password.change', user, context, { by: user.username, sessions_revoked: revoked });
    return this.#startSession(updated);
  }

  // --- admin ----------------------------------------------------------------------------------

  listUsers(query: { skip: number; limit: number; q?: string; role?: Role; isActive?: boolean }): Promise<UserPage> {
    return this.store.listUsers(query);
  }

  createUser(account: NewAccount, actor: UserRecord, context: RequestContext = {}): Promise<UserRecord> {
    return this.register(account, actor, context);
  }

  async getUser(username: string): Promise<UserRecord> {
    return this.#mustExist(await this.store.getUserByUsername(username));
  }

  /** Demotion and deactivation end the user's sessions at once. */
  async updateUser(username: string, changes: AdminChanges, context: RequestContext = {}): Promise<UserRecord> {
    const user = await this.getUser(username);
    this.#validateProfile(changes);
    const updated = this.#mustExist(await this.store.updateUser(user.id, changes));
    const demoted = changes.role !== undefined && roleRank(changes.role) < roleRank(user.role);
    const deactivated = changes.isActive === false && user.isActive;
    let revoked = 0;
    if (demoted || deactivated) {
      revoked = await this.store.revokeUserSessions(user.id, deactivated ? 'deactivated' : 'role-changed', this.#now());
    }
    await this.#recordUpdate(user, updated, context, revoked);
    return updated;
  }

  /** Admin password reset (CLI): validates, hashes, ends every session. */
  async setPassword(username: string, password: string, context: RequestContext = {}): Promise<void> {
    const user = await this.getUser(username);
    validateFields({ password: { field: 'password', value: password } }, this.#options.passwordPolicy);
    await this.store.updateUser(user.id, { passwordHash: await this.#hasher.hash(password) });
    const revoked = await this.store.revokeUserSessions(user.id, 'password-reset', this.#now());
    await this.#record('password.change', user, context, {
      by: context.actor?.username ?? null,
      reset: true,
      sessions_revoked: revoked,
    });
  }

  async deleteUser(username: string, context: RequestContext = {}): Promise<void> {
    const user = await this.getUser(username);
    // The store deletes the user's sessions with the user, so their tokens die with it.
    if (!(await this.store.deleteUser(user.id))) throw userNotFound();
    await this.#record('user.delete', user, context, { by: context.actor?.username ?? null, role: user.role });
  }

  async revokeTokens(username: string, context: RequestContext = {}): Promise<number> {
    const user = await this.getUser(username);
    const count = await this.store.revokeUserSessions(user.id, 'admin-revoked', this.#now());
    await this.#record('tokens.revoke', user, context, { by: context.actor?.username ?? null, sessions: count });
    return count;
  }

  async addYapcoins(username: string, delta: number): Promise<{ username: string; balance: number }> {
    const user = await this.getUser(username);
    const balance = await this.store.addToBalance(user.id, delta);
    if (balance === null) throw userNotFound();
    return { username: user.username, balance };
  }

  async stats(): Promise<UserStats & { activeSessions: number }> {
    const [users, activeSessions] = await Promise.all([
      this.store.userStats(),
      this.store.countActiveSessions(this.#now()),
    ]);
    return { ...users, activeSessions };
  }

  /** Everything expired: ended sessions and old refresh tokens, plus what purgeExpired() removes. */
  async cleanup(): Promise<number> {
    const [sessions, rest] = await Promise.all([this.store.cleanup(this.#now()), this.purgeExpired()]);
    return sessions + rest;
  }

  /**
   * Audit events past retention, login-failure counters whose window closed, and
   * signing keys retired long enough ago that no token they signed is still valid.
   * Runs at start, periodically, and within cleanup().
   */
  async purgeExpired(): Promise<number> {
    const now = this.#now();
    const retentionDays = this.#options.auditRetentionDays ?? 90;
    const keyLifetimeMs = retiredKeyLifetimeSeconds(this.#tokens.expiresInSeconds) * 1000;
    const counts = await Promise.all([
      this.store.purgeAuditEvents(new Date(now.getTime() - retentionDays * DAY_MS)),
      this.store.purgeLoginFailures(now, this.#throttle.policy.windowSeconds),
      this.store.purgeSigningKeys(new Date(now.getTime() - keyLifetimeMs)),
    ]);
    return counts.reduce((a, b) => a + b, 0);
  }

  /** The audit trail, newest first. */
  async listAuditEvents(query: AuditQueryInput): Promise<AuditEventRecord[]> {
    const holder = query.user === undefined ? null : await this.store.getUserByUsername(query.user);
    return this.store.listAuditEvents({
      ...(query.user === undefined ? {} : { username: query.user }),
      ...(holder ? { userId: holder.id } : {}),
      ...(query.event === undefined ? {} : { event: query.event }),
      ...(query.since === undefined ? {} : { since: query.since }),
      limit: query.limit,
    });
  }

  /**
   * Creates the configured admin when no active admin exists (first start of a
   * fresh install). An existing account of that name is promoted, not overwritten.
   */
  async ensureAdmin(admin: {
    username: string;
    password: string;
    email: string | null;
  }): Promise<'created' | 'promoted' | 'exists'> {
    if ((await this.store.countActiveAdmins()) > 0) return 'exists';
    const existing = await this.store.getUserByUsername(admin.username);
    if (existing) {
      const promoted = await this.store.updateUser(existing.id, { role: 'admin', isActive: true });
      if (promoted) await this.#recordUpdate(existing, promoted, {}, 0, 'admin-bootstrap');
      return 'promoted';
    }
    try {
      const created = await this.#createAccount({
        username: admin.username,
        password: admin.password,
        email: admin.email,
        role: 'admin',
      });
      await this.#record('register', created, {}, { role: 'admin', by: null, reason: 'admin-bootstrap' });
    } catch (err) {
      // Another instance starting at the same moment created it first.
      if (err instanceof GatekeeperError && err.code === 'USERNAME_TAKEN') return 'exists';
      throw err;
    }
    return 'created';
  }

  // --- internals --------------------------------------------------------------------------------

  #record(
    event: AuditEventType,
    user: Pick<UserRecord, 'id' | 'username'>,
    context: RequestContext,
    detail: Record<string, unknown>,
  ): Promise<void> {
    return this.#audit.record({ event, at: this.#now(), ip: context.ip ?? null, ...subjectOf(user), detail });
  }

  /** `user.update` with before/after of what changed; nothing is recorded when nothing changed. */
  async #recordUpdate(
    before: UserRecord,
    after: UserRecord,
    context: RequestContext,
    sessionsRevoked = 0,
    reason?: string,
  ): Promise<void> {
    const changes = describeChanges(before, after);
    if (Object.keys(changes).length === 0) return;
    await this.#record('user.update', after, context, {
      by: context.actor?.username ?? null,
      changes,
      ...(sessionsRevoked > 0 ? { sessions_revoked: sessionsRevoked } : {}),
      ...(reason === undefined ? {} : { reason }),
    });
  }

  async #createAccount(account: NewAccount): Promise<UserRecord> {
    validateFields(
      {
        username: account.username,
        email: account.email,
        password: { field: 'password', value: account.password },
        profilePictureUrl: account.profilePictureUrl,
        metadata: account.metadata,
      },
      this.#options.passwordPolicy,
    );
    this.#hasher.queue.admit();
    // Fail fast on a taken name before spending a hash on it; the store's unique index stays the real guard.
    if (await this.store.getUserByUsername(account.username)) {
      throw new GatekeeperError('USERNAME_TAKEN', 'That username is already taken.');
    }
    const passwordHash = await this.#hasher.hash(account.password);
    return this.store.createUser({
      username: account.username,
      passwordHash,
      email: account.email ?? null,
      profilePictureUrl: account.profilePictureUrl ?? null,
      metadata: account.metadata ?? {},
      role: account.role ?? 'regular',
      isActive: account.isActive ?? true,
    });
  }

  async #rehash(user: UserRecord, password: string): Promise<void> {
    try {
      await this.store.updateUser(user.id, { passwordHash: await this.#hasher.hash(password) });
    } catch (err) {
      // The login itself succeeded; a failed upgrade is retried at the next login.
      this.#options.log?.warn({ userId: user.id, err }, 'password rehash failed');
    }
  }

  async #startSession(user: UserRecord): Promise<TokenPair> {
    const now = this.#now();
    const refreshToken = newRefreshToken();
    const session = await this.store.createSession({
      id: randomUUID(),
      userId: user.id,
      refreshTokenHash: hashRefreshToken(refreshToken),
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.#options.refreshTokenDays * DAY_MS),
    });
    return this.#tokenPair(user, session.id, refreshToken, now);
  }

  async #tokenPair(user: UserRecord, sessionId: string, refreshToken: string, now: Date): Promise<TokenPair> {
    return {
      access_token: await this.#tokens.issue(user, sessionId, now),
      refresh_token: refreshToken,
      token_type: 'bearer',
      expires_in: this.#tokens.expiresInSeconds,
      refresh_expires_in: this.#options.refreshTokenDays * 86_400,
    };
  }

  #validateProfile(changes: ProfileChanges): void {
    const { username, email, profilePictureUrl, metadata } = changes;
    validateFields({ username, email, profilePictureUrl, metadata }, this.#options.passwordPolicy);
  }

  #mustExist(user: UserRecord | null): UserRecord {
    if (!user) throw userNotFound();
    return user;
  }
}

function roleRank(role: Role): number {
  return role === 'admin' ? 2 : role === 'regular' ? 1 : 0;
}

function invalidCredentials(): GatekeeperError {
  return new GatekeeperError('INVALID_CREDENTIALS', 'Incorrect username or password.');
}

function invalidRefreshToken(): GatekeeperError {
  return new GatekeeperError('INVALID_REFRESH_TOKEN', 'The refresh token is invalid, expired or already used.');
}

function userNotFound(): GatekeeperError {
  return new GatekeeperError('USER_NOT_FOUND', 'No such user.');
}
