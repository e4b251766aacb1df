import { randomUUID } from 'node:crypto';
import { GatekeeperError } from '../errors.js';
import type {
  AuditEventRecord,
  AuditQuery,
  LoginFailures,
  NewAuditEvent,
  NewSession,
  NewSigningKey,
  NewUser,
  RotateResult,
  SessionRecord,
  SigningKeyRecord,
  Store,
  StoreHealth,
  UserPage,
  UserPatch,
  UserQuery,
  UserRecord,
  UserStats,
} from './store.js';
import type { SigningAlgorithm } from '../core/algorithms.js';

interface RefreshTokenEntry {
  sessionId: string;
  expiresAt: Date;
  usedAt: Date | null;
}

/**
 * Everything in process memory: fast, and gone when the process ends. Each
 * method runs to completion without awaiting, which is what makes the
 * contract's atomic operations atomic here.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  #users = new Map<string, UserRecord>();
  #idByUsername = new Map<string, string>();
  #idByEmail = new Map<string, string>();
  #sessions = new Map<string, SessionRecord>();
  #refreshTokens = new Map<string, RefreshTokenEntry>();
  #settings = new Map<string, string>();
  #loginFailures = new Map<string, LoginFailures>();
  #signingKeys: SigningKeyRecord[] = [];
  #auditEvents: AuditEventRecord[] = [];
  #nextAuditId = 1;

  async createUser(input: NewUser): Promise<UserRecord> {
    const username = input.username.toLowerCase();
    const email = input.email?.toLowerCase() ?? null;
    if (this.#idByUsername.has(username)) throw usernameTaken();
    if (email !== null && this.#idByEmail.has(email)) throw emailTaken();
    const now = new Date();
    const user: UserRecord = {
      id: input.id ?? randomUUID(),
      username: input.username,
      passwordHash: input.passwordHash,
      role: input.role ?? 'regular',
      email: input.email ?? null,
      profilePictureUrl: input.profilePictureUrl ?? null,
      yapcoinBalance: input.yapcoinBalance ?? 0,
      isActive: input.isActive ?? true,
      createdAt: input.createdAt ?? now,
      updatedAt: input.updatedAt ?? input.createdAt ?? now,
      metadata: structuredClone(input.metadata ?? {}),
    };
    if (this.#users.has(user.id)) throw new GatekeeperError('USERNAME_TAKEN', 'A user with that id already exists.');
    this.#users.set(user.id, user);
    this.#idByUsername.set(username, user.id);
    if (email !== null) this.#idByEmail.set(email, user.id);
    return copy(user);
  }

  async getUserById(id: string): Promise<UserRecord | null> {
    const user = this.#users.get(id);
    return user ? copy(user) : null;
  }

  async getUserByUsername(username: string): Promise<UserRecord | null> {
    const id = this.#idByUsername.get(username.toLowerCase());
    return id === undefined ? null : this.getUserById(id);
  }

  async getUserByLogin(login: string): Promise<UserRecord | null> {
    const key = login.toLowerCase();
    const id = this.#idByUsername.get(key) ?? (key.includes('@') ? this.#idByEmail.get(key) : undefined);
    return id === undefined ? null : this.getUserById(id);
  }

  async updateUser(id: string, patch: UserPatch): Promise<UserRecord | null> {
    const user = this.#users.get(id);
    if (!user) return null;
    const newUsername = patch.username?.toLowerCase();
    const oldUsername = user.username.toLowerCase();
    if (newUsername !== undefined && newUsername !== oldUsername && this.#idByUsername.has(newUsername)) {
      throw usernameTaken();
    }
    const oldEmail = user.email?.toLowerCase() ?? null;
    const newEmail = patch.email === undefined ? oldEmail : (patch.email?.toLowerCase() ?? null);
    if (newEmail !== null && newEmail !== oldEmail && this.#idByEmail.has(newEmail)) throw emailTaken();
    const stillAdmin = (patch.role ?? user.role) === 'admin' && (patch.isActive ?? user.isActive);
    if (isActiveAdmin(user) && !stillAdmin && this.#countActiveAdmins() <= 1) throw lastAdmin();

    if (newUsername !== undefined) {
      this.#idByUsername.delete(oldUsername);
      this.#idByUsername.set(newUsername, id);
    }
    if (oldEmail !== null) this.#idByEmail.delete(oldEmail);
    if (newEmail !== null) this.#idByEmail.set(newEmail, id);
    const { metadata, ...rest } = patch;
    Object.assign(user, withoutUndefined(rest));
    if (metadata !== undefined) user.metadata = structuredClone(metadata);
    user.updatedAt = new Date();
    return copy(user);
  }

  async deleteUser(id: string): Promise<boolean> {
    const user = this.#users.get(id);
    if (!user) return false;
    if (isActiveAdmin(user) && this.#countActiveAdmins() <= 1) throw lastAdmin();
    this.#users.delete(id);
    this.#idByUsername.delete(user.username.toLowerCase());
    if (user.email !== null) this.#idByEmail.delete(user.email.toLowerCase());
    for (const session of [...this.#sessions.values()]) {
      if (session.userId === id) this.#deleteSession(session.id);
    }
    return true;
  }

  async listUsers(query: UserQuery): Promise<UserPage> {
    const q = query.q?.toLowerCase();
    const matching = [...this.#users.values()]
      .filter(
        (u) =>
          (q === undefined || u.username.toLowerCase().includes(q) || (u.email?.toLowerCase().includes(q) ?? false)) &&
          (query.role === undefined || u.role === query.role) &&
          (query.isActive === undefined || u.isActive === query.isActive),
      )
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { users: matching.slice(query.skip, query.skip + query.limit).map(copy), total: matching.length };
  }

  async addToBalance(id: string, delta: number): Promise<number | null> {
    const user = this.#users.get(id);
    if (!user) return null;
    if (user.yapcoinBalance + delta < 0) {
      throw new GatekeeperError('INSUFFICIENT_BALANCE', 'The balance cannot go below zero.');
    }
    user.yapcoinBalance += delta;
    user.updatedAt = new Date();
    return user.yapcoinBalance;
  }

  async userStats(): Promise<UserStats> {
    const stats: UserStats = { total: 0, active: 0, byRole: { admin: 0, regular: 0, guest: 0 } };
    for (const user of this.#users.values()) {
      stats.total += 1;
      if (user.isActive) stats.active += 1;
      stats.byRole[user.role] += 1;
    }
    return stats;
  }

  async countActiveAdmins(): Promise<number> {
    return this.#countActiveAdmins();
  }

  async createSession(input: NewSession): Promise<SessionRecord> {
    const session: SessionRecord = {
      id: input.id,
      userId: input.userId,
      createdAt: input.createdAt,
      expiresAt: input.expiresAt,
      revokedAt: null,
      revokedReason: null,
    };
    this.#sessions.set(session.id, session);
    this.#refreshTokens.set(input.refreshTokenHash, {
      sessionId: session.id,
      expiresAt: input.expiresAt,
      usedAt: null,
    });
    return { ...session };
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    const session = this.#sessions.get(id);
    return session ? { ...session } : null;
  }

  async rotateRefreshToken(oldHash: string, newHash: string, newExpiresAt: Date, now: Date): Promise<RotateResult> {
    const token = this.#refreshTokens.get(oldHash);
    const session = token && this.#sessions.get(token.sessionId);
    if (!token || !session || session.revokedAt !== null || session.expiresAt <= now || token.expiresAt <= now) {
      return { status: 'invalid' };
    }
    if (token.usedAt !== null) return { status: 'reused', session: { ...session } };
    token.usedAt = now;
    this.#refreshTokens.set(newHash, { sessionId: session.id, expiresAt: newExpiresAt, usedAt: null });
    session.expiresAt = newExpiresAt;
    return { status: 'rotated', session: { ...session } };
  }

  async findSessionByRefreshToken(tokenHash: string): Promise<SessionRecord | null> {
    const token = this.#refreshTokens.get(tokenHash);
    return token ? this.getSession(token.sessionId) : null;
  }

  async revokeSession(id: string, reason: string, now: Date): Promise<boolean> {
    const session = this.#sessions.get(id);
    if (!session || session.revokedAt !== null) return false;
    session.revokedAt = now;
    session.revokedReason = reason;
    return true;
  }

  async revokeUserSessions(userId: string, reason: string, now: Date): Promise<number> {
    let count = 0;
    for (const session of this.#sessions.values()) {
      if (session.userId === userId && session.revokedAt === null) {
        session.revokedAt = now;
        session.revokedReason = reason;
        count += 1;
      }
    }
    return count;
  }

  async countActiveSessions(now: Date): Promise<number> {
    let count = 0;
    for (const session of this.#sessions.values()) {
      if (session.revokedAt === null && session.expiresAt > now) count += 1;
    }
    return count;
  }

  async cleanup(now: Date): Promise<number> {
    let removed = 0;
    for (const [hash, token] of this.#refreshTokens) {
      if (token.expiresAt <= now) {
        this.#refreshTokens.delete(hash);
        removed += 1;
      }
    }
    for (const session of [...this.#sessions.values()]) {
      if (session.revokedAt !== null || session.expiresAt <= now) removed += this.#deleteSession(session.id);
    }
    return removed;
  }

  async getSetting(key: string): Promise<string | null> {
    return this.#settings.get(key) ?? null;
  }

  async putSettingIfAbsent(key: string, value: string): Promise<string> {
    const existing = this.#settings.get(key);
    if (existing !== undefined) return existing;
    this.#settings.set(key, value);
    return value;
  }

  async recordLoginFailure(key: string, now: Date, windowSeconds: number): Promise<LoginFailures> {
    const current = this.#loginFailures.get(key);
    const next =
      current && isOpen(current, now, windowSeconds)
        ? { ...current, count: current.count + 1, lastAt: maxDate(current.lastAt, now) }
        : { key, count: 1, firstAt: now, lastAt: now };
    this.#loginFailures.set(key, next);
    // Without a database, nothing else would ever drop the counters of one-off names and addresses.
    if (this.#loginFailures.size > FAILURE_SWEEP_SIZE) await this.purgeLoginFailures(now, windowSeconds);
    return { ...next };
  }

  async getLoginFailures(keys: readonly string[], now: Date, windowSeconds: number): Promise<LoginFailures[]> {
    return keys.flatMap((key) => {
      const entry = this.#loginFailures.get(key);
      return entry && isOpen(entry, now, windowSeconds) ? [{ ...entry }] : [];
    });
  }

  async clearLoginFailures(key: string): Promise<void> {
    this.#loginFailures.delete(key);
  }

  async purgeLoginFailures(now: Date, windowSeconds: number): Promise<number> {
    let removed = 0;
    for (const [key, entry] of this.#loginFailures) {
      if (!isOpen(entry, now, windowSeconds)) {
        this.#loginFailures.delete(key);
        removed += 1;
      }
    }
    return removed;
  }

  async listSigningKeys(algorithm: SigningAlgorithm): Promise<SigningKeyRecord[]> {
    return this.#signingKeys
      .filter((k) => k.algorithm === algorithm)
      .sort(
        (a, b) =>
          Number(a.retiredAt !== null) - Number(b.retiredAt !== null) || b.createdAt.getTime() - a.createdAt.getTime(),
      )
      .map(copyKey);
  }

  async addSigningKeyIfNone(key: NewSigningKey): Promise<SigningKeyRecord> {
    const active = this.#activeKey(key.algorithm);
    if (active) return copyKey(active);
    const record = copyKey({ ...key, retiredAt: null });
    this.#signingKeys.push(record);
    return copyKey(record);
  }

  async rotateSigningKey(key: NewSigningKey): Promise<SigningKeyRecord | null> {
    const active = this.#activeKey(key.algorithm);
    if (active) active.retiredAt = new Date(key.createdAt);
    this.#signingKeys.push(copyKey({ ...key, retiredAt: null }));
    return active ? copyKey(active) : null;
  }

  async purgeSigningKeys(retiredBefore: Date): Promise<number> {
    const before = this.#signingKeys.length;
    this.#signingKeys = this.#signingKeys.filter((k) => k.retiredAt === null || k.retiredAt >= retiredBefore);
    return before - this.#signingKeys.length;
  }

  async recordAuditEvent(event: NewAuditEvent): Promise<void> {
    this.#auditEvents.push({ ...structuredClone(event), id: this.#nextAuditId++ });
  }

  async listAuditEvents(query: AuditQuery): Promise<AuditEventRecord[]> {
    const username = query.username?.toLowerCase();
    const bySubject = (e: AuditEventRecord) =>
      (username === undefined && query.userId === undefined) ||
      (username !== undefined && e.username?.toLowerCase() === username) ||
      (query.userId !== undefined && e.userId === query.userId);
    return this.#auditEvents
      .filter(
        (e) =>
          bySubject(e) &&
          (query.event === undefined || e.event === query.event) &&
          (query.since === undefined || e.at >= query.since),
      )
      .sort((a, b) => b.at.getTime() - a.at.getTime() || b.id - a.id)
      .slice(0, Math.max(0, query.limit))
      .map((e) => structuredClone(e));
  }

  async purgeAuditEvents(before: Date): Promise<number> {
    const count = this.#auditEvents.length;
    this.#auditEvents = this.#auditEvents.filter((e) => e.at >= before);
    return count - this.#auditEvents.length;
  }

  async health(): Promise<StoreHealth> {
    return { reachable: true, latencyMs: 0, serverVersion: null, pool: null };
  }

  async close(): Promise<void> {}

  #activeKey(algorithm: SigningAlgorithm): SigningKeyRecord | undefined {
    return this.#signingKeys.find((k) => k.algorithm === algorithm && k.retiredAt === null);
  }

  #countActiveAdmins(): number {
    let count = 0;
    for (const user of this.#users.values()) if (isActiveAdmin(user)) count += 1;
    return count;
  }

  /** Removes a session and its refresh tokens; returns the number of rows removed. */
  #deleteSession(id: string): number {
    let removed = this.#sessions.delete(id) ? 1 : 0;
    for (const [hash, token] of this.#refreshTokens) {
      if (token.sessionId === id) {
        this.#refreshTokens.delete(hash);
        removed += 1;
      }
    }
    return removed;
  }
}

/** Counters beyond this many trigger a sweep of closed windows. */
const FAILURE_SWEEP_SIZE = 10_000;

function isOpen(entry: LoginFailures, now: Date, windowSeconds: number): boolean {
  return now.getTime() - entry.firstAt.getTime() < windowSeconds * 1000;
}

function maxDate(a: Date, b: Date): Date {
  return a > b ? a : b;
}

function copyKey(key: SigningKeyRecord): SigningKeyRecord {
  return structuredClone(key);
}

function isActiveAdmin(user: UserRecord): boolean {
  return user.role === 'admin' && user.isActive;
}

function copy(user: UserRecord): UserRecord {
  return {
    ...user,
    createdAt: new Date(user.createdAt),
    updatedAt: new Date(user.updatedAt),
    metadata: structuredClone(user.metadata),
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function usernameTaken(): GatekeeperError {
  return new GatekeeperError('USERNAME_TAKEN', 'That username is already taken.');
}

function emailTaken(): GatekeeperError {
  return new GatekeeperError('EMAIL_TAKEN', 'That email address is already registered.');
}

function lastAdmin(): GatekeeperError {
  return new GatekeeperError('LAST_ADMIN', 'This would leave no active admin.');
}
