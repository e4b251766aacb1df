/** The sessions facet of the storage contract: login sessions and their refresh-token families. */

/** A login session: one refresh-token family. Its id is the `sid` claim of access tokens. */
export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: Date;
  /** When the newest refresh token of the family expires (never after `absoluteExpiresAt`). */
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
  /** The login, then each rotation of its refresh token (not each use of an access token). */
  lastUsedAt: Date;
  /** The client address and user agent of the login (bounded by the service), when known. */
  ip: string | null;
  userAgent: string | null;
  /** The latest the session may live, however often it is refreshed; null: no absolute end. */
  absoluteExpiresAt: Date | null;
}

export interface NewSession {
  id: string;
  userId: string;
  /** SHA-256 (hex) of the first refresh token; the token itself is never stored. */
  refreshTokenHash: string;
  expiresAt: Date;
  createdAt: Date;
  ip?: string | null;
  userAgent?: string | null;
  /** No rotation extends the session or its refresh tokens past this; absent: no absolute end. */
  absoluteExpiresAt?: Date | null;
}

/** One refresh token of a family, by its hash: what introspection reports about it. */
export interface RefreshTokenRecord {
  sessionId: string;
  createdAt: Date;
  expiresAt: Date;
  /** When it was rotated (it is spent then); null while it is the family's current token. */
  usedAt: Date | null;
}

export type RotateResult =
  /** The old token was current and unexpired; it is now used and `newTokenHash` is current. */
  | { status: 'rotated'; session: SessionRecord }
  /**
   * The old token had already been rotated (at `usedAt`): reuse, unless the caller's grace
   * window for concurrent refreshes covers it. Nothing changed.
   */
  | { status: 'reused'; session: SessionRecord; usedAt: Date }
  /** Unknown, expired, or its session is revoked/expired: nothing changed. */
  | { status: 'invalid' };

/** Sessions and refresh tokens. Times are the caller's (`now`), so one clock decides expiry. */
export interface SessionsStore {
  createSession(session: NewSession): Promise<SessionRecord>;
  getSession(id: string): Promise<SessionRecord | null>;
  /**
   * Atomically: if `oldTokenHash` is the current, unexpired token of a live session,
   * mark it used, make `newTokenHash` current until `newExpiresAt` (but never past the
   * session's `absoluteExpiresAt`), extend the session to the same time, and set its
   * `lastUsedAt` to `now`.
   */
  rotateRefreshToken(oldTokenHash: string, newTokenHash: string, newExpiresAt: Date, now: Date): Promise<RotateResult>;
  /** The session a refresh token belongs to (whatever its state), or null. */
  findSessionByRefreshToken(tokenHash: string): Promise<SessionRecord | null>;
  /** The refresh token itself (whatever its state or its session's), or null: reads only, changes nothing. */
  findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null>;
  /** Returns false when it was already revoked or does not exist. */
  revokeSession(id: string, reason: string, now: Date): Promise<boolean>;
  /** Revokes every live session of the user; returns how many. */
  revokeUserSessions(userId: string, reason: string, now: Date): Promise<number>;
  countActiveSessions(now: Date): Promise<number>;
  /** The user's live sessions (not revoked, not expired at `now`), oldest first. */
  listUserSessions(userId: string, now: Date): Promise<SessionRecord[]>;
  /**
   * Among the user's stored sessions (live or ended, until cleanup removes them): whether there
   * is any, and whether one came from `ip`.
   */
  sessionAddressHistory(userId: string, ip: string): Promise<{ hasSessions: boolean; fromAddress: boolean }>;
  /** Deletes expired refresh tokens and sessions that are expired or revoked; returns how many rows went. */
  cleanup(now: Date): Promise<number>;
}
