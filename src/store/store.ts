/**
 * The storage contract: everything Gatekeeper must remember goes through this
 * interface, so every implementation (memory, PostgreSQL) is interchangeable and
 * several processes can share one database. Plain records in and out; `null` for
 * absence; constraint violations are thrown as GatekeeperError (USERNAME_TAKEN,
 * EMAIL_TAKEN, LAST_ADMIN, INSUFFICIENT_BALANCE) by the store itself, and a store
 * that cannot reach its database throws DATABASE_UNAVAILABLE.
 *
 * Operations that must be atomic are single methods here, never read-then-write
 * sequences in the caller. The conformance suite (test/store/store-conformance.ts)
 * is the executable form of this contract.
 */

import type { AuditEventType } from '../core/audit-events.js';
import type { SigningAlgorithm } from '../core/algorithms.js';
import type { NewSigningKey, SigningKeyRecord } from '../core/signing-key.js';

export type { NewSigningKey, SigningKeyRecord };
import type { Metadata, Role } from '../core/roles.js';

export interface UserRecord {
  id: string;
  username: string;
  passwordHash: string;
  role: Role;
  email: string | null;
  profilePictureUrl: string | null;
  yapcoinBalance: number;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
  metadata: Metadata;
}

export interface NewUser {
  username: string;
  passwordHash: string;
  role?: Role;
  email?: string | null;
  profilePictureUrl?: string | null;
  yapcoinBalance?: number;
  isActive?: boolean;
  metadata?: Metadata;
  /** Only for imports/migrations that must keep the original identity and times. */
  id?: string;
  createdAt?: Date;
  updatedAt?: Date;
}

export interface UserPatch {
  username?: string;
  passwordHash?: string;
  role?: Role;
  email?: string | null;
  profilePictureUrl?: string | null;
  isActive?: boolean;
  metadata?: Metadata;
}

export interface UserQuery {
  skip: number;
  limit: number;
  /** Case-insensitive substring of username or email. */
  q?: string;
  role?: Role;
  isActive?: boolean;
}

export interface UserPage {
  users: UserRecord[];
  /** Number of users matching the filters, ignoring skip/limit. */
  total: number;
}

export interface UserStats {
  total: number;
  active: number;
  byRole: Record<Role, number>;
}

/** A login session: one refresh-token family. Its id is the `sid` claim of access tokens. */
export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: Date;
  /** When the newest refresh token of the family expires. */
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

export interface NewSession {
  id: string;
  userId: string;
  /** SHA-256 (hex) of the first refresh token; the token itself is never stored. */
  refreshTokenHash: string;
  expiresAt: Date;
  createdAt: Date;
}

export type RotateResult =
  /** The old token was current and unexpired; it is now used and `newTokenHash` is current. */
  | { status: 'rotated'; session: SessionRecord }
  /** The old token had already been rotated: the caller must treat the family as stolen. */
  | { status: 'reused'; session: SessionRecord }
  /** Unknown, expired, or its session is revoked/expired: nothing changed. */
  | { status: 'invalid' };

/**
 * Failed logins counted under one key (`account:<name>` or `ip:<address>`) in its
 * current window. The window is fixed: it opens at the first failure and closes
 * `windowSeconds` later, after which the counter starts again from zero.
 */
export interface LoginFailures {
  key: string;
  count: number;
  firstAt: Date;
  lastAt: Date;
}

/** One line of the audit trail. `detail` holds names, ids, reasons and before/after values: never a secret. */
export interface NewAuditEvent {
  at: Date;
  event: AuditEventType;
  /** The user the event is about (for login failures: the name attempted). */
  username: string | null;
  userId: string | null;
  /** The client address, when the event came from a request. */
  ip: string | null;
  detail: Record<string, unknown>;
}

export interface AuditEventRecord extends NewAuditEvent {
  id: number;
}

export interface AuditQuery {
  /** Matches the recorded username, ignoring case; with `userId` too, either one matches (renamed users). */
  username?: string;
  userId?: string;
  event?: AuditEventType;
  /** Only events at or after this time. */
  since?: Date;
  limit: number;
}

export interface PoolFigures {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

export interface StoreHealth {
  reachable: boolean;
  latencyMs: number | null;
  serverVersion: string | null;
  pool: PoolFigures | null;
  /** One line naming the cause and the fix when unreachable; never a secret. */
  error?: string;
}

export interface Store {
  /** `memory`, `postgres` or `embedded-postgres`, as /health reports it. */
  readonly kind: 'memory' | 'postgres' | 'embedded-postgres';

  // Users. Usernames and emails are unique case-insensitively; lookups ignore case.
  createUser(user: NewUser): Promise<UserRecord>;
  getUserById(id: string): Promise<UserRecord | null>;
  getUserByUsername(username: string): Promise<UserRecord | null>;
  /** By username, or by email when the login contains '@' and no username matches. */
  getUserByLogin(login: string): Promise<UserRecord | null>;
  /**
   * Applies the patch and bumps updatedAt. Throws LAST_ADMIN when the user is an
   * active admin and the patch (role or isActive) would leave no active admin.
   * Returns null when the user does not exist.
   */
  updateUser(id: string, patch: UserPatch): Promise<UserRecord | null>;
  /** Throws LAST_ADMIN when deleting the last active admin. Deletes the user's sessions too. */
  deleteUser(id: string): Promise<boolean>;
  listUsers(query: UserQuery): Promise<UserPage>;
  /** Atomic; throws INSUFFICIENT_BALANCE when the result would be < 0. Null when no such user. */
  addToBalance(id: string, delta: number): Promise<number | null>;
  userStats(): Promise<UserStats>;
  countActiveAdmins(): Promise<number>;

  // Sessions and refresh tokens.
  createSession(session: NewSession): Promise<SessionRecord>;
  getSession(id: string): Promise<SessionRecord | null>;
  /**
   * Atomically: if `oldTokenHash` is the current, unexpired token of a live session,
   * mark it used, make `newTokenHash` current until `newExpiresAt`, extend the session.
   */
  rotateRefreshToken(oldTokenHash: string, newTokenHash: string, newExpiresAt: Date, now: Date): Promise<RotateResult>;
  /** The session a refresh token belongs to (whatever its state), or null. */
  findSessionByRefreshToken(tokenHash: string): Promise<SessionRecord | null>;
  /** Returns false when it was already revoked or does not exist. */
  revokeSession(id: string, reason: string, now: Date): Promise<boolean>;
  /** Revokes every live session of the user; returns how many. */
  revokeUserSessions(userId: string, reason: string, now: Date): Promise<number>;
  countActiveSessions(now: Date): Promise<number>;
  /** Deletes expired refresh tokens and sessions that are expired or revoked; returns how many rows went. */
  cleanup(now: Date): Promise<number>;

  // Small durable settings (the generated HS256 secret).
  getSetting(key: string): Promise<string | null>;
  /** Stores `value` unless the key exists; returns the value that is stored now (first writer wins). */
  putSettingIfAbsent(key: string, value: string): Promise<string>;

  // Login throttling: counters shared by every instance on the store, kept across restarts.
  /** Atomically counts one failure under `key`, starting a new window if the last one closed; returns the counter. */
  recordLoginFailure(key: string, now: Date, windowSeconds: number): Promise<LoginFailures>;
  /** The counters of these keys whose window is still open at `now` (others are left out). */
  getLoginFailures(keys: readonly string[], now: Date, windowSeconds: number): Promise<LoginFailures[]>;
  clearLoginFailures(key: string): Promise<void>;
  /** Deletes counters whose window has closed; returns how many. */
  purgeLoginFailures(now: Date, windowSeconds: number): Promise<number>;

  // Asymmetric signing keys (GATEKEEPER_JWT_ALGORITHM other than HS256).
  /** Every stored key of the algorithm: the active one first, then the newest. */
  listSigningKeys(algorithm: SigningAlgorithm): Promise<SigningKeyRecord[]>;
  /**
   * Makes `key` the active key unless its algorithm already has one, and returns the
   * active key: of several instances starting at once, the first writer wins.
   */
  addSigningKeyIfNone(key: NewSigningKey): Promise<SigningKeyRecord>;
  /**
   * Atomically retires the active key of `key.algorithm` (retiredAt = key.createdAt) and
   * makes `key` active. Returns the key it retired, or null when there was none.
   */
  rotateSigningKey(key: NewSigningKey): Promise<SigningKeyRecord | null>;
  /** Deletes keys retired before `retiredBefore`; returns how many. */
  purgeSigningKeys(retiredBefore: Date): Promise<number>;

  // Audit trail.
  recordAuditEvent(event: NewAuditEvent): Promise<void>;
  /** Newest first (by time, then id), at most `query.limit`. */
  listAuditEvents(query: AuditQuery): Promise<AuditEventRecord[]>;
  /** Deletes events older than `before`; returns how many. */
  purgeAuditEvents(before: Date): Promise<number>;

  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}
