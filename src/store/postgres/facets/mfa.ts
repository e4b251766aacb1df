/** The multi-factor facet on PostgreSQL (src/store/contract/mfa.ts): tables `user_mfa`, `mfa_recovery_codes`, `mfa_sessions`. */
import type { MfaRecord, MfaStore } from '../../contract/mfa.js';
import type { Executor } from '../executor.js';

const SQL = {
  // A confirmed row is never replaced here (the WHERE of DO UPDATE): setup cannot undo MFA.
  // The SELECT ... WHERE EXISTS makes a vanished user "nothing stored", not a foreign key error.
  putPending: {
    text: `INSERT INTO user_mfa (user_id, secret_ciphertext, created_at)
      SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)
      ON CONFLICT (user_id) DO UPDATE
        SET secret_ciphertext = EXCLUDED.secret_ciphertext, created_at = EXCLUDED.created_at, last_step = NULL
        WHERE user_mfa.confirmed_at IS NULL
      RETURNING user_id`,
  },
  get: {
    text: `SELECT m.user_id, m.secret_ciphertext, m.created_at, m.confirmed_at, m.last_step,
        (SELECT count(*)::int FROM mfa_recovery_codes c WHERE c.user_id = m.user_id AND c.used_at IS NULL) AS codes_left
      FROM user_mfa m WHERE m.user_id = $1`,
  },
  confirm: {
    text: `UPDATE user_mfa SET confirmed_at = $3, last_step = $4
      WHERE user_id = $1 AND secret_ciphertext = $2 AND confirmed_at IS NULL
      RETURNING user_id`,
  },
  deleteCodes: { text: 'DELETE FROM mfa_recovery_codes WHERE user_id = $1' },
  insertCodes: {
    text: 'INSERT INTO mfa_recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])',
  },
  // One statement under the row's lock: a concurrent UPDATE with the same step waits, then
  // re-checks the WHERE against the committed last_step and matches nothing.
  acceptStep: {
    text: `UPDATE user_mfa SET last_step = $2
      WHERE user_id = $1 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $2)
      RETURNING user_id`,
  },
  consumeCode: {
    text: `UPDATE mfa_recovery_codes c SET used_at = $3
      FROM user_mfa m
      WHERE c.user_id = $1 AND c.code_hash = $2 AND c.used_at IS NULL
        AND m.user_id = c.user_id AND m.confirmed_at IS NOT NULL
      RETURNING c.user_id`,
  },
  delete: { text: 'DELETE FROM user_mfa WHERE user_id = $1' }, // its recovery codes go by ON DELETE CASCADE
  listEnabled: {
    text: 'SELECT user_id FROM user_mfa WHERE user_id = ANY($1::uuid[]) AND confirmed_at IS NOT NULL',
  },
  markSession: {
    text: `INSERT INTO mfa_sessions (session_id) SELECT $1 WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $1)
      ON CONFLICT DO NOTHING`,
  },
  isSession: { text: 'SELECT 1 FROM mfa_sessions WHERE session_id = $1' },
};

interface MfaRow {
  user_id: string;
  secret_ciphertext: string;
  created_at: Date;
  confirmed_at: Date | null;
  last_step: string | null;
  codes_left: number;
}

function toMfa(row: MfaRow): MfaRecord {
  return {
    userId: row.user_id,
    secretCiphertext: row.secret_ciphertext,
    createdAt: row.created_at,
    confirmedAt: row.confirmed_at,
    // BIGINT arrives as a string; time steps (seconds / 30) stay far below 2^53.
    lastStep: row.last_step === null ? null : Number(row.last_step),
    recoveryCodesLeft: row.codes_left,
  };
}

/** @example const mfa = createPostgresMfa(db); */
export function createPostgresMfa(db: Executor): MfaStore {
  return {
    async putPendingMfa(userId, secretCiphertext, now) {
      const result = await db.query(SQL.putPending, [userId, secretCiphertext, now.toISOString()]);
      return (result.rowCount ?? 0) > 0;
    },
    async getMfa(userId) {
      const { rows } = await db.query<MfaRow>(SQL.get, [userId]);
      return rows[0] ? toMfa(rows[0]) : null;
    },
    async confirmMfa(userId, secretCiphertext, step, recoveryCodeHashes, now) {
      return db.transaction(async (tx) => {
        const confirmed = await tx.query(SQL.confirm, [userId, secretCiphertext, now.toISOString(), step]);
        if ((confirmed.rowCount ?? 0) === 0) return false;
        await tx.query(SQL.deleteCodes, [userId]);
        await tx.query(SQL.insertCodes, [userId, recoveryCodeHashes]);
        return true;
      });
    },
    async acceptMfaStep(userId, step) {
      const result = await db.query(SQL.acceptStep, [userId, step]);
      return (result.rowCount ?? 0) > 0;
    },
    async consumeRecoveryCode(userId, codeHash, now) {
      const result = await db.query(SQL.consumeCode, [userId, codeHash, now.toISOString()]);
      return (result.rowCount ?? 0) > 0;
    },
    async deleteMfa(userId) {
      const result = await db.query(SQL.delete, [userId]);
      return (result.rowCount ?? 0) > 0;
    },
    async listMfaEnabled(userIds) {
      if (userIds.length === 0) return new Set();
      const { rows } = await db.query<{ user_id: string }>(SQL.listEnabled, [userIds]);
      return new Set(rows.map((r) => r.user_id));
    },
    async markMfaSession(sessionId) {
      await db.query(SQL.markSession, [sessionId]);
    },
    async isMfaSession(sessionId) {
      const { rows } = await db.query(SQL.isSession, [sessionId]);
      return rows.length > 0;
    },
  };
}
