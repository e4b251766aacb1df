/** The signing-keys facet on PostgreSQL (src/store/contract/signing-keys.ts): the SQL of table `signing_keys`. */
import type { SigningAlgorithm } from '../../../core/algorithms.js';
import type { NewSigningKey, SigningKeyRecord, SigningKeysStore } from '../../contract/signing-keys.js';
import { one, type Executor } from '../executor.js';

/** Taken (per transaction) by key rotation, so two rotations at once retire each other's key in turn. */
const SIGNING_KEY_LOCK_KEY = '7340298721543103';
/** Deadlocks and serialization failures are retried this many times in all. */
const TRANSACTION_ATTEMPTS = 3;

const COLUMNS = 'kid, algorithm, public_jwk, private_jwk, created_at, retired_at';

const SQL = {
  list: {
    text: `SELECT ${COLUMNS} FROM signing_keys WHERE algorithm = $1
      ORDER BY retired_at IS NOT NULL, created_at DESC`,
  },
  active: { text: `SELECT ${COLUMNS} FROM signing_keys WHERE algorithm = $1 AND retired_at IS NULL` },
  insertIfNone: {
    // The partial unique index (one active key per algorithm) decides between instances starting together.
    text: `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk, created_at)
      VALUES ($1, $2, $3::jsonb, $4::jsonb, $5)
      ON CONFLICT (algorithm) WHERE retired_at IS NULL DO NOTHING`,
    secretParams: [4],
  },
  lock: { text: `SELECT pg_advisory_xact_lock(${SIGNING_KEY_LOCK_KEY})` },
  retire: {
    text: `UPDATE signing_keys SET retired_at = $2 WHERE algorithm = $1 AND retired_at IS NULL RETURNING ${COLUMNS}`,
  },
  insert: {
    text: `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk, created_at)
      VALUES ($1, $2, $3::jsonb, $4::jsonb, $5)`,
    secretParams: [4],
  },
  purge: { text: 'DELETE FROM signing_keys WHERE retired_at < $1' },
};

interface KeyRow {
  kid: string;
  algorithm: string;
  public_jwk: Record<string, unknown>;
  private_jwk: Record<string, unknown>;
  created_at: Date;
  retired_at: Date | null;
}

function toSigningKey(row: KeyRow): SigningKeyRecord {
  return {
    kid: row.kid,
    algorithm: row.algorithm as SigningAlgorithm,
    publicJwk: row.public_jwk,
    privateJwk: row.private_jwk,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
  };
}

function values(key: NewSigningKey): unknown[] {
  return [
    key.kid,
    key.algorithm,
    JSON.stringify(key.publicJwk),
    JSON.stringify(key.privateJwk),
    key.createdAt.toISOString(),
  ];
}

/** @example const keys = createPostgresSigningKeys(db); */
export function createPostgresSigningKeys(db: Executor): SigningKeysStore {
  return {
    async listSigningKeys(algorithm) {
      const { rows } = await db.query<KeyRow>(SQL.list, [algorithm]);
      return rows.map(toSigningKey);
    },

    async addSigningKeyIfNone(key) {
      await db.query(SQL.insertIfNone, values(key));
      // Inserted or not, the active key is visible now: DO NOTHING waited for a concurrent writer to commit.
      const { rows } = await db.query<KeyRow>(SQL.active, [key.algorithm]);
      return toSigningKey(one(rows));
    },

    async rotateSigningKey(key) {
      return db.transaction(
        async (tx) => {
          await tx.query(SQL.lock);
          const retired = await tx.query<KeyRow>(SQL.retire, [key.algorithm, key.createdAt.toISOString()]);
          await tx.query(SQL.insert, values(key));
          return retired.rows[0] ? toSigningKey(retired.rows[0]) : null;
        },
        { attempts: TRANSACTION_ATTEMPTS },
      );
    },

    async purgeSigningKeys(retiredBefore) {
      const result = await db.query(SQL.purge, [retiredBefore.toISOString()]);
      return result.rowCount ?? 0;
    },
  };
}
