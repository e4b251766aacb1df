/**
 * The users facet on PostgreSQL (src/store/contract/users.ts): the SQL of table
 * `users` as the service uses it, and its one row mapper. (Bulk copies of users are
 * ../bulk-users.ts and ../user-reader.ts; the schema is ../migrations/.)
 */
import { UUID_PATTERN } from '../../../core/limits.js';
import type { Role } from '../../../core/roles.js';
import type { UserRecord, UsersStore } from '../../contract/users.js';
import { completeNewUser, demotesActiveAdmin, insufficientBalance, mayDemote, refuseLastAdmin } from '../../rules.js';
import type { Clock } from '../../store.js';
import { one, type Executor, type Queryer } from '../executor.js';

/** Taken (per transaction) by everything that may lower the number of active admins. */
const ADMIN_LOCK_KEY = '7340298721543102';
/** Deadlocks and serialization failures are retried this many times in all. */
const TRANSACTION_ATTEMPTS = 3;

/** users.created_at/updated_at are TIMESTAMP (no time zone) holding UTC, to the millisecond. */
const utc = (n: number) => `($${n}::timestamptz AT TIME ZONE 'UTC')`;

const COLUMNS = `id, username, password_hash, role, email, profile_picture_url, yapcoin_balance, is_active,
  created_at, updated_at, metadata`;
/**
 * What every read returns: the columns plus whether the current email is the confirmed one
 * (migration 0011: verified_emails keeps the confirmed address, so a changed email reads as
 * unverified by itself). A primary-key probe per row.
 */
const READ = `${COLUMNS}, EXISTS (SELECT 1 FROM verified_emails v
    WHERE v.user_id = users.id AND v.email = lower(users.email)) AS email_verified`;
const FILTER = `($1::text IS NULL OR username ILIKE $1 ESCAPE '\\' OR email ILIKE $1 ESCAPE '\\')
  AND ($2::text IS NULL OR role = $2)
  AND ($3::boolean IS NULL OR is_active = $3)`;

const SQL = {
  insert: {
    text: `INSERT INTO users (${COLUMNS})
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ${utc(9)}, ${utc(10)}, $11::jsonb)
      RETURNING ${READ}`,
    secretParams: [3],
  },
  byId: { text: `SELECT ${READ} FROM users WHERE id = $1` },
  byUsername: { text: `SELECT ${READ} FROM users WHERE lower(username) = lower($1)` },
  byLogin: {
    // A username match wins over an email match.
    text: `SELECT ${READ} FROM users
      WHERE lower(username) = lower($1) OR ($2::boolean AND lower(email) = lower($1))
      ORDER BY lower(username) = lower($1) DESC LIMIT 1`,
  },
  lockAdmins: { text: `SELECT pg_advisory_xact_lock(${ADMIN_LOCK_KEY})` },
  lockUser: { text: 'SELECT role, is_active FROM users WHERE id = $1 FOR UPDATE' },
  countActiveAdmins: { text: `SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND is_active` },
  update: {
    // One statement for every patch: absent fields keep their value ($5/$7 say whether
    // the nullable email/profile_picture_url are part of the patch).
    text: `UPDATE users SET
        username = coalesce($2, username),
        password_hash = coalesce($3, password_hash),
        role = coalesce($4, role),
        email = CASE WHEN $5::boolean THEN $6::varchar ELSE email END,
        profile_picture_url = CASE WHEN $7::boolean THEN $8::varchar ELSE profile_picture_url END,
        is_active = coalesce($9::boolean, is_active),
        metadata = coalesce($10::jsonb, metadata),
        updated_at = ${utc(11)}
      WHERE id = $1
      RETURNING ${READ}`,
    secretParams: [3],
  },
  // The confirmed address becomes the current one (an email change confirmed, an admin's word).
  markVerified: {
    text: `INSERT INTO verified_emails (user_id, email, verified_at)
      SELECT id, lower(email), $2 FROM users WHERE id = $1 AND email IS NOT NULL
      ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, verified_at = excluded.verified_at`,
  },
  unmarkVerified: { text: 'DELETE FROM verified_emails WHERE user_id = $1' },
  delete: { text: 'DELETE FROM users WHERE id = $1' }, // sessions and their tokens go by ON DELETE CASCADE
  list: { text: `SELECT ${READ} FROM users WHERE ${FILTER} ORDER BY created_at, id OFFSET $4 LIMIT $5` },
  count: { text: `SELECT count(*)::int AS n FROM users WHERE ${FILTER}` },
  addToBalance: {
    // Atomic: the check and the change are one row update, so concurrent calls lose nothing.
    text: `UPDATE users SET yapcoin_balance = coalesce(yapcoin_balance, 0) + $2, updated_at = ${utc(3)}
      WHERE id = $1 AND coalesce(yapcoin_balance, 0) + $2 >= 0
      RETURNING yapcoin_balance`,
  },
  exists: { text: 'SELECT 1 FROM users WHERE id = $1' },
  stats: {
    text: `SELECT count(*)::int AS total,
        count(*) FILTER (WHERE is_active)::int AS active,
        count(*) FILTER (WHERE role = 'admin')::int AS admin,
        count(*) FILTER (WHERE role = 'regular')::int AS regular,
        count(*) FILTER (WHERE role = 'guest')::int AS guest
      FROM users`,
  },
};

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  role: string;
  email: string | null;
  profile_picture_url: string | null;
  yapcoin_balance: number | null;
  is_active: boolean | null;
  created_at: Date | null;
  updated_at: Date | null;
  metadata: Record<string, unknown> | null;
  email_verified: boolean;
}

/** Rows of users written by other tools may hold the seed's NULLs; they read as the defaults (inactive if unknown). */
function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    role: row.role as Role,
    email: row.email,
    emailVerified: row.email_verified === true,
    profilePictureUrl: row.profile_picture_url,
    yapcoinBalance: row.yapcoin_balance ?? 0,
    isActive: row.is_active === true,
    createdAt: row.created_at ?? new Date(0),
    updatedAt: row.updated_at ?? row.created_at ?? new Date(0),
    metadata: row.metadata ?? {},
  };
}

/** @example const users = createPostgresUsers(db, () => new Date()); */
export function createPostgresUsers(db: Executor, now: Clock): UsersStore {
  const read = async (sql: { text: string }, values: unknown[]) => {
    const { rows } = await db.query<UserRow>(sql, values);
    return rows[0] ? toUser(rows[0]) : null;
  };
  /** Inside a transaction holding the admin lock: throws LAST_ADMIN unless another active admin remains. */
  const refuseLast = async (tx: Queryer) => {
    const { rows } = await tx.query<{ n: number }>(SQL.countActiveAdmins);
    refuseLastAdmin(one(rows).n);
  };
  const lockUser = async (tx: Queryer, id: string) => {
    const { rows } = await tx.query<Pick<UserRow, 'role' | 'is_active'>>(SQL.lockUser, [id]);
    return rows[0] ? { role: rows[0].role, isActive: rows[0].is_active === true } : null;
  };

  return {
    async createUser(input) {
      const user = completeNewUser(input, now());
      const { rows } = await db.query<UserRow>(SQL.insert, [
        user.id,
        user.username,
        user.passwordHash,
        user.role,
        user.email,
        user.profilePictureUrl,
        user.yapcoinBalance,
        user.isActive,
        user.createdAt.toISOString(),
        user.updatedAt.toISOString(),
        JSON.stringify(user.metadata),
      ]);
      return toUser(one(rows));
    },

    async getUserById(id) {
      return UUID_PATTERN.test(id) ? read(SQL.byId, [id]) : null;
    },

    async getUserByUsername(username) {
      return read(SQL.byUsername, [username]);
    },

    async getUserByLogin(login) {
      return read(SQL.byLogin, [login, login.includes('@')]);
    },

    async updateUser(id, patch) {
      if (!UUID_PATTERN.test(id)) return null;
      return db.transaction(
        async (tx) => {
          // Two concurrent demotions of the last two admins: the advisory lock makes the
          // second wait until the first commits, and then it counts one admin and refuses.
          if (mayDemote(patch)) await tx.query(SQL.lockAdmins);
          const current = await lockUser(tx, id);
          if (!current) return null;
          if (demotesActiveAdmin(current, patch)) await refuseLast(tx);
          const updated = await tx.query<UserRow>(SQL.update, [
            id,
            patch.username ?? null,
            patch.passwordHash ?? null,
            patch.role ?? null,
            patch.email !== undefined,
            patch.email ?? null,
            patch.profilePictureUrl !== undefined,
            patch.profilePictureUrl ?? null,
            patch.isActive ?? null,
            patch.metadata === undefined ? null : JSON.stringify(patch.metadata),
            now().toISOString(),
          ]);
          if (patch.emailVerified === undefined) return toUser(one(updated.rows));
          await tx.query(patch.emailVerified ? SQL.markVerified : SQL.unmarkVerified, [
            id,
            ...(patch.emailVerified ? [now().toISOString()] : []),
          ]);
          const reread = await tx.query<UserRow>(SQL.byId, [id]);
          return toUser(one(reread.rows));
        },
        { attempts: TRANSACTION_ATTEMPTS },
      );
    },

    async deleteUser(id) {
      if (!UUID_PATTERN.test(id)) return false;
      return db.transaction(
        async (tx) => {
          await tx.query(SQL.lockAdmins);
          const current = await lockUser(tx, id);
          if (!current) return false;
          if (demotesActiveAdmin(current, null)) await refuseLast(tx);
          await tx.query(SQL.delete, [id]);
          return true;
        },
        { attempts: TRANSACTION_ATTEMPTS },
      );
    },

    async listUsers(query) {
      const filters = [
        query.q === undefined ? null : `%${escapeLike(query.q)}%`,
        query.role ?? null,
        query.isActive ?? null,
      ];
      const skip = Math.max(0, Math.trunc(query.skip));
      const limit = Math.max(0, Math.trunc(query.limit));
      const [page, count] = await Promise.all([
        db.query<UserRow>(SQL.list, [...filters, skip, limit]),
        db.query<{ n: number }>(SQL.count, filters),
      ]);
      return { users: page.rows.map(toUser), total: count.rows[0]?.n ?? 0 };
    },

    async addToBalance(id, delta) {
      if (!UUID_PATTERN.test(id)) return null;
      const { rows } = await db.query<{ yapcoin_balance: number }>(SQL.addToBalance, [id, delta, now().toISOString()]);
      if (rows[0]) return rows[0].yapcoin_balance;
      const exists = await db.query(SQL.exists, [id]);
      if (exists.rowCount === 0) return null;
      throw insufficientBalance();
    },

    async userStats() {
      const { rows } = await db.query<Record<'total' | 'active' | Role, number>>(SQL.stats);
      const row = one(rows);
      return {
        total: row.total,
        active: row.active,
        byRole: { admin: row.admin, regular: row.regular, guest: row.guest },
      };
    },

    async countActiveAdmins() {
      const { rows } = await db.query<{ n: number }>(SQL.countActiveAdmins);
      return one(rows).n;
    },
  };
}

/** `q` is a literal substring: LIKE's wildcards and the escape character lose their meaning. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
