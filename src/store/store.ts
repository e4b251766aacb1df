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

export const ROLES = ['admin', 'regular', 'guest'] as const;
export type Role = (typeof ROLES)[number];

export type Metadata = Record<string, unknown>;

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

  // Small durable settings (the generated signing secret, later signing keys).
  getSetting(key: string): Promise<string | null>;
  /** Stores `value` unless the key exists; returns the value that is stored now (first writer wins). */
  putSettingIfAbsent(key: string, value: string): Promise<string>;

  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}
