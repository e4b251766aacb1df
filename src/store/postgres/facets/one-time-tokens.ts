/** The one-time tokens facet on PostgreSQL (src/store/contract/one-time-tokens.ts): table `one_time_tokens`. */
import { randomUUID } from 'node:crypto';
import type { OneTimeTokensStore } from '../../contract/one-time-tokens.js';
import { UUID_PATTERN } from '../../../core/limits.js';
import type { Executor } from '../executor.js';

interface SpentRow {
  user_id: string;
  email: string | null;
}

const SQL = {
  // The user's row lock serialises every issue for that user across instances: the count and
  // the insert below cannot interleave with another request's.
  lockUser: { text: 'SELECT id FROM users WHERE id = $1 FOR UPDATE' },
  countSince: {
    text: 'SELECT count(*)::int AS n FROM one_time_tokens WHERE user_id = $1 AND purpose = $2 AND created_at >= $3',
  },
  voidOf: {
    text: 'UPDATE one_time_tokens SET used_at = $2 WHERE user_id = $1 AND purpose = $3 AND used_at IS NULL',
  },
  voidAll: { text: 'UPDATE one_time_tokens SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL' },
  insert: {
    text: `INSERT INTO one_time_tokens (id, user_id, purpose, token_hash, created_at, expires_at, email, code_hash)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  },
  // One statement: of two concurrent consumes, the second finds used_at set and matches nothing.
  consume: {
    text: `UPDATE one_time_tokens SET used_at = $3
      WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
      RETURNING user_id, email`,
  },
  // One statement as well: the match spends, a miss counts, and the last allowed miss voids. The
  // row lock of the UPDATE serialises concurrent guesses, so the limit holds across instances.
  consumeCode: {
    text: `UPDATE one_time_tokens SET
        used_at = CASE WHEN code_hash = $3 OR failed_attempts + 1 >= $5 THEN $4 ELSE NULL END,
        failed_attempts = failed_attempts + CASE WHEN code_hash = $3 THEN 0 ELSE 1 END
      WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $4 AND code_hash IS NOT NULL
      RETURNING user_id, email, code_hash = $3 AS matched`,
  },
  find: {
    text: `SELECT user_id FROM one_time_tokens
      WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3`,
  },
  purge: {
    text: `DELETE FROM one_time_tokens
      WHERE created_at < $2 AND (used_at IS NOT NULL OR expires_at <= $1)`,
  },
};

/** @example const tokens = createPostgresOneTimeTokens(db); */
export function createPostgresOneTimeTokens(db: Executor): OneTimeTokensStore {
  return {
    async issueOneTimeToken(token, budget) {
      return db.transaction(async (tx) => {
        const locked = await tx.query(SQL.lockUser, [token.userId]);
        if (locked.rowCount === 0) return false;
        const { rows } = await tx.query<{ n: number }>(SQL.countSince, [
          token.userId,
          token.purpose,
          budget.since.toISOString(),
        ]);
        if ((rows[0]?.n ?? 0) >= budget.max) return false;
        await tx.query(SQL.voidOf, [token.userId, token.createdAt.toISOString(), token.purpose]);
        await tx.query(SQL.insert, [
          randomUUID(),
          token.userId,
          token.purpose,
          token.tokenHash,
          token.createdAt.toISOString(),
          token.expiresAt.toISOString(),
          token.email ?? null,
          token.codeHash ?? null,
        ]);
        return true;
      });
    },

    async consumeOneTimeToken(tokenHash, purpose, now) {
      const { rows } = await db.query<SpentRow>(SQL.consume, [tokenHash, purpose, now.toISOString()]);
      return rows[0] ? { userId: rows[0].user_id, email: rows[0].email } : null;
    },

    async consumeOneTimeCode(userId, purpose, codeHash, now, maxAttempts) {
      if (!UUID_PATTERN.test(userId)) return null;
      const { rows } = await db.query<SpentRow & { matched: boolean }>(SQL.consumeCode, [
        userId,
        purpose,
        codeHash,
        now.toISOString(),
        maxAttempts,
      ]);
      const hit = rows.find((row) => row.matched);
      return hit ? { userId: hit.user_id, email: hit.email } : null;
    },

    async findOneTimeToken(tokenHash, purpose, now) {
      const { rows } = await db.query<{ user_id: string }>(SQL.find, [tokenHash, purpose, now.toISOString()]);
      return rows[0] ? { userId: rows[0].user_id } : null;
    },

    async voidOneTimeTokens(userId, now, purpose) {
      const result =
        purpose === undefined
          ? await db.query(SQL.voidAll, [userId, now.toISOString()])
          : await db.query(SQL.voidOf, [userId, now.toISOString(), purpose]);
      return result.rowCount ?? 0;
    },

    async purgeOneTimeTokens(now, createdBefore) {
      const result = await db.query(SQL.purge, [now.toISOString(), createdBefore.toISOString()]);
      return result.rowCount ?? 0;
    },
  };
}
