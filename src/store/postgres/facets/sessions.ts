/**
 * The sessions facet on PostgreSQL (src/store/contract/sessions.ts): the SQL of
 * tables `sessions` and `refresh_tokens`, and the session row mapper.
 */
import { UUID_PATTERN } from '../../../core/limits.js';
import type { SessionRecord, SessionsStore } from '../../contract/sessions.js';
import { clampToAbsoluteEnd } from '../../rules.js';
import { one, type Executor } from '../executor.js';

/** Deadlocks and serialization failures are retried this many times in all. */
const TRANSACTION_ATTEMPTS = 3;

const COLUMNS =
  'id, user_id, created_at, expires_at, revoked_at, revoked_reason, last_used_at, ip, user_agent, absolute_expires_at';

const SQL = {
  insert: {
    text: `WITH session AS (
        INSERT INTO sessions (id, user_id, created_at, expires_at, last_used_at, ip, user_agent, absolute_expires_at)
        VALUES ($1, $2, $4, LEAST($5::timestamptz, $8::timestamptz), $4, $6, $7, $8) RETURNING ${COLUMNS}
      ), token AS (
        INSERT INTO refresh_tokens (token_hash, session_id, expires_at, created_at)
        SELECT $3, id, expires_at, created_at FROM session
      )
      SELECT ${COLUMNS} FROM session`,
    secretParams: [3],
  },
  byId: { text: `SELECT ${COLUMNS} FROM sessions WHERE id = $1` },
  byToken: {
    text: `SELECT ${COLUMNS} FROM sessions
      WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1)`,
    secretParams: [1],
  },
  tokenByHash: {
    text: 'SELECT session_id, created_at, expires_at, used_at FROM refresh_tokens WHERE token_hash = $1',
    secretParams: [1],
  },
  // Rotation locks the session row first, then the token row: the same order as
  // cleanup() and deleteUser() (parent before child), so they cannot deadlock.
  lockByToken: {
    text: `SELECT ${COLUMNS} FROM sessions
      WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1) FOR UPDATE`,
    secretParams: [1],
  },
  lockToken: {
    text: 'SELECT expires_at, used_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE',
    secretParams: [1],
  },
  // $3 is already clamped to the session's absolute end by the caller (rotateRefreshToken).
  rotate: {
    text: `WITH used AS (
        UPDATE refresh_tokens SET used_at = $4 WHERE token_hash = $1
      ), fresh AS (
        INSERT INTO refresh_tokens (token_hash, session_id, expires_at, created_at) VALUES ($2, $5, $3, $4)
      )
      UPDATE sessions SET expires_at = $3, last_used_at = $4 WHERE id = $5 RETURNING ${COLUMNS}`,
    secretParams: [1, 2],
  },
  revoke: {
    text: 'UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL',
  },
  revokeOfUser: {
    text: 'UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE user_id = $1 AND revoked_at IS NULL',
  },
  listOfUser: {
    text: `SELECT ${COLUMNS} FROM sessions
      WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at, id`,
  },
  addressHistory: {
    text: `SELECT EXISTS (SELECT 1 FROM sessions WHERE user_id = $1) AS any,
      EXISTS (SELECT 1 FROM sessions WHERE user_id = $1 AND ip = $2) AS seen`,
  },
  countActive: { text: 'SELECT count(*)::int AS n FROM sessions WHERE revoked_at IS NULL AND expires_at > $1' },
  cleanup: {
    // Tokens of dead sessions are deleted explicitly (not by the cascade) so that they are counted.
    text: `WITH dead AS (
        SELECT id FROM sessions WHERE revoked_at IS NOT NULL OR expires_at <= $1
      ), tokens AS (
        DELETE FROM refresh_tokens WHERE expires_at <= $1 OR session_id IN (SELECT id FROM dead) RETURNING 1
      ), removed_sessions AS (
        DELETE FROM sessions WHERE id IN (SELECT id FROM dead) RETURNING 1
      )
      SELECT (SELECT count(*) FROM tokens)::int + (SELECT count(*) FROM removed_sessions)::int AS n`,
  },
};

interface SessionRow {
  id: string;
  user_id: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
  last_used_at: Date;
  ip: string | null;
  user_agent: string | null;
  absolute_expires_at: Date | null;
}

function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    lastUsedAt: row.last_used_at,
    ip: row.ip,
    userAgent: row.user_agent,
    absoluteExpiresAt: row.absolute_expires_at,
  };
}

/** @example const sessions = createPostgresSessions(db); */
export function createPostgresSessions(db: Executor): SessionsStore {
  const read = async (sql: { text: string }, values: unknown[]) => {
    const { rows } = await db.query<SessionRow>(sql, values);
    return rows[0] ? toSession(rows[0]) : null;
  };

  return {
    async createSession(session) {
      const { rows } = await db.query<SessionRow>(SQL.insert, [
        session.id,
        session.userId,
        session.refreshTokenHash,
        session.createdAt.toISOString(),
        session.expiresAt.toISOString(),
        session.ip ?? null,
        session.userAgent ?? null,
        session.absoluteExpiresAt?.toISOString() ?? null,
      ]);
      return toSession(one(rows));
    },

    async getSession(id) {
      return UUID_PATTERN.test(id) ? read(SQL.byId, [id]) : null;
    },

    async rotateRefreshToken(oldTokenHash, newTokenHash, newExpiresAt, now) {
      // Both rows are locked before anything is decided, so of two concurrent rotations
      // of one token the second waits, then sees `used_at` set and reports reuse.
      return db.transaction(
        async (tx) => {
          const sessions = await tx.query<SessionRow>(SQL.lockByToken, [oldTokenHash]);
          const session = sessions.rows[0];
          if (!session || session.revoked_at !== null || session.expires_at <= now) return { status: 'invalid' };
          const tokens = await tx.query<{ expires_at: Date; used_at: Date | null }>(SQL.lockToken, [oldTokenHash]);
          const token = tokens.rows[0];
          if (!token || token.expires_at <= now) return { status: 'invalid' };
          if (token.used_at !== null) return { status: 'reused', session: toSession(session), usedAt: token.used_at };
          const expiresAt = clampToAbsoluteEnd(newExpiresAt, session.absolute_expires_at);
          const rotated = await tx.query<SessionRow>(SQL.rotate, [
            oldTokenHash,
            newTokenHash,
            expiresAt.toISOString(),
            now.toISOString(),
            session.id,
          ]);
          return { status: 'rotated', session: toSession(one(rotated.rows)) };
        },
        { attempts: TRANSACTION_ATTEMPTS },
      );
    },

    async findSessionByRefreshToken(tokenHash) {
      return read(SQL.byToken, [tokenHash]);
    },

    async findRefreshToken(tokenHash) {
      const { rows } = await db.query<{ session_id: string; created_at: Date; expires_at: Date; used_at: Date | null }>(
        SQL.tokenByHash,
        [tokenHash],
      );
      const row = rows[0];
      return row
        ? { sessionId: row.session_id, createdAt: row.created_at, expiresAt: row.expires_at, usedAt: row.used_at }
        : null;
    },

    async revokeSession(id, reason, now) {
      if (!UUID_PATTERN.test(id)) return false;
      const result = await db.query(SQL.revoke, [id, now.toISOString(), reason]);
      return result.rowCount === 1;
    },

    async revokeUserSessions(userId, reason, now) {
      if (!UUID_PATTERN.test(userId)) return 0;
      const result = await db.query(SQL.revokeOfUser, [userId, now.toISOString(), reason]);
      return result.rowCount ?? 0;
    },

    async listUserSessions(userId, now) {
      if (!UUID_PATTERN.test(userId)) return [];
      const { rows } = await db.query<SessionRow>(SQL.listOfUser, [userId, now.toISOString()]);
      return rows.map(toSession);
    },

    async sessionAddressHistory(userId, ip) {
      if (!UUID_PATTERN.test(userId)) return { hasSessions: false, fromAddress: false };
      const { rows } = await db.query<{ any: boolean; seen: boolean }>(SQL.addressHistory, [userId, ip]);
      const row = one(rows);
      return { hasSessions: row.any, fromAddress: row.seen };
    },

    async countActiveSessions(now) {
      const { rows } = await db.query<{ n: number }>(SQL.countActive, [now.toISOString()]);
      return one(rows).n;
    },

    async cleanup(now) {
      const { rows } = await db.query<{ n: number }>(SQL.cleanup, [now.toISOString()]);
      return one(rows).n;
    },
  };
}
