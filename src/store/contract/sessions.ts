/** The sessions facet of the storage contract: login sessions and their refresh-token families. */

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
  /** The old token had already been rotated: the caller must treat the family as stolen. */
  | { status: 'reused'; session: SessionRecord }
  /** Unknown, expired, or its session is revoked/expired: nothing changed. */
  | { status: 'invalid' };

/** Sessions and refresh tokens. Times are the caller's (`now`), so one clock decides expiry. */
export interface SessionsStore {
  createSession(session: NewSession): Promise<SessionRecord>;
  getSession(id: string): Promise<SessionRecord | null>;
  /**
   * Atomically: if `oldTokenHash` is the current, unexpired token of a live session,
   * mark it used, make `newTokenHash` current until `newExpiresAt`, extend the session.
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
  /** Deletes expired refresh tokens and sessions that are expired or revoked; returns how many rows went. */
  cleanup(now: Date): Promise<number>;
}
