/**
 * The PostgreSQL implementation of the storage contract (src/store/store.ts).
 * All of Gatekeeper's SQL is in this file (and the migrations): plain
 * parameterized statements, written once, each with the positions of the
 * parameters that must never be logged. snake_case rows become camelCase records
 * in one function per table (toUser, toSession).
 */
import pg from 'pg';
import { GatekeeperError } from '../../errors.js';
import type {
  AuditEventRecord,
  AuditQuery,
  LoginFailures,
  NewAuditEvent,
  NewSession,
  NewSigningKey,
  NewUser,
  PoolFigures,
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
} from '../store.js';
import {
  describeConnectionError,
  isConnectionError,
  isLostConnection,
  translateError,
  type ConnectionTarget,
} from './errors.js';
import { migrate } from './migrator.js';
import { connectionTarget, createEcho, createPool, type PoolSettings, type Statement } from './pool.js';
import type { SigningAlgorithm } from '../../core/algorithms.js';
import type { AuditEventType } from '../../core/audit-events.js';
import type { Role } from '../../core/roles.js';
import { UUID_PATTERN } from '../../core/limits.js';

export interface OpenPostgresStoreOptions {
  /** The database part of the config (DatabaseConfig fits). */
  database: PoolSettings;
  /** As /health reports it; default `postgres`. */
  kind?: 'postgres' | 'embedded-postgres';
  /** Receives applied migrations, pool errors and, with `database.echo`, every statement. */
  log?: (line: string) => void;
  /** Apply pending migrations before returning; default true. */
  migrate?: boolean;
}

/** SQL text plus which parameters hold secrets; values are given when it runs. */
type Sql = Omit<Statement, 'values'>;

/** Taken (per transaction) by everything that may lower the number of active admins. */
const ADMIN_LOCK_KEY = '7340298721543102';
/** Taken (per transaction) by key rotation, so two rotations at once retire each other's key in turn. */
const SIGNING_KEY_LOCK_KEY = '7340298721543103';
/** Deadlocks and serialization failures are retried this many times in all. */
const TRANSACTION_ATTEMPTS = 3;

/** users.created_at/updated_at are TIMESTAMP (no time zone) holding UTC, to the millisecond. */
const NOW_UTC = `date_trunc('milliseconds', now() AT TIME ZONE 'UTC')`;
const utc = (n: number) => `($${n}::timestamptz AT TIME ZONE 'UTC')`;

const USER_COLUMNS = `id, username, password_hash, role, email, profile_picture_url, yapcoin_balance, is_active,
  created_at, updated_at, metadata`;
const SESSION_COLUMNS = 'id, user_id, created_at, expires_at, revoked_at, revoked_reason';
const FAILURE_COLUMNS = 'key, count, first_at, last_at';
const KEY_COLUMNS = 'kid, algorithm, public_jwk, private_jwk, created_at, retired_at';
const AUDIT_COLUMNS = 'id, at, event, username, user_id, ip, detail';
/** A window that opened at or before this instant has closed ($2 = now, $3 = window seconds). */
const WINDOW_START = '($2::timestamptz - make_interval(secs => $3::double precision))';
const USER_FILTER = `($1::text IS NULL OR username ILIKE $1 ESCAPE '\\' OR email ILIKE $1 ESCAPE '\\')
  AND ($2::text IS NULL OR role = $2)
  AND ($3::boolean IS NULL OR is_active = $3)`;

const SQL = {
  begin: { text: 'BEGIN' },
  commit: { text: 'COMMIT' },
  rollback: { text: 'ROLLBACK' },
  ping: { text: 'SELECT 1' },
  serverVersion: { text: `SELECT current_setting('server_version') AS version` },

  insertUser: {
    text: `INSERT INTO users (id, username, password_hash, role, email, profile_picture_url, yapcoin_balance, is_active,
        created_at, updated_at, metadata)
      VALUES (coalesce($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8,
        coalesce(${utc(9)}, ${NOW_UTC}), coalesce(${utc(10)}, ${utc(9)}, ${NOW_UTC}), $11::jsonb)
      RETURNING ${USER_COLUMNS}`,
    secretParams: [3],
  },
  userById: { text: `SELECT ${USER_COLUMNS} FROM users WHERE id = $1` },
  userByUsername: { text: `SELECT ${USER_COLUMNS} FROM users WHERE lower(username) = lower($1)` },
  userByLogin: {
    // A username match wins over an email match.
    text: `SELECT ${USER_COLUMNS} FROM users
      WHERE lower(username) = lower($1) OR ($2::boolean AND lower(email) = lower($1))
      ORDER BY lower(username) = lower($1) DESC LIMIT 1`,
  },
  lockAdmins: { text: `SELECT pg_advisory_xact_lock(${ADMIN_LOCK_KEY})` },
  lockUser: { text: 'SELECT role, is_active FROM users WHERE id = $1 FOR UPDATE' },
  countActiveAdmins: { text: `SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND is_active` },
  updateUser: {
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
        updated_at = ${NOW_UTC}
      WHERE id = $1
      RETURNING ${USER_COLUMNS}`,
    secretParams: [3],
  },
  deleteUser: { text: 'DELETE FROM users WHERE id = $1' }, // sessions and their tokens go by ON DELETE CASCADE
  listUsers: {
    text: `SELECT ${USER_COLUMNS} FROM users WHERE ${USER_FILTER} ORDER BY created_at, id OFFSET $4 LIMIT $5`,
  },
  countUsers: { text: `SELECT count(*)::int AS n FROM users WHERE ${USER_FILTER}` },
  addToBalance: {
    // Atomic: the check and the change are one row update, so concurrent calls lose nothing.
    text: `UPDATE users SET yapcoin_balance = coalesce(yapcoin_balance, 0) + $2, updated_at = ${NOW_UTC}
      WHERE id = $1 AND coalesce(yapcoin_balance, 0) + $2 >= 0
      RETURNING yapcoin_balance`,
  },
  userExists: { text: 'SELECT 1 FROM users WHERE id = $1' },
  userStats: {
    text: `SELECT count(*)::int AS total,
        count(*) FILTER (WHERE is_active)::int AS active,
        count(*) FILTER (WHERE role = 'admin')::int AS admin,
        count(*) FILTER (WHERE role = 'regular')::int AS regular,
        count(*) FILTER (WHERE role = 'guest')::int AS guest
      FROM users`,
  },

  insertSession: {
    text: `WITH session AS (
        INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $4, $5) RETURNING ${SESSION_COLUMNS}
      ), token AS (
        INSERT INTO refresh_tokens (token_hash, session_id, expires_at, created_at)
        SELECT $3, id, expires_at, created_at FROM session
      )
      SELECT ${SESSION_COLUMNS} FROM session`,
    secretParams: [3],
  },
  sessionById: { text: `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1` },
  sessionByToken: {
    text: `SELECT ${SESSION_COLUMNS} FROM sessions
      WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1)`,
    secretParams: [1],
  },
  // Rotation locks the session row first, then the token row: the same order as
  // cleanup() and deleteUser() (parent before child), so they cannot deadlock.
  lockSessionByToken: {
    text: `SELECT ${SESSION_COLUMNS} FROM sessions
      WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1) FOR UPDATE`,
    secretParams: [1],
  },
  lockToken: {
    text: 'SELECT expires_at, used_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE',
    secretParams: [1],
  },
  rotate: {
    text: `WITH used AS (
        UPDATE refresh_tokens SET used_at = $4 WHERE token_hash = $1
      ), fresh AS (
        INSERT INTO refresh_tokens (token_hash, session_id, expires_at, created_at) VALUES ($2, $5, $3, $4)
      )
      UPDATE sessions SET expires_at = $3 WHERE id = $5 RETURNING ${SESSION_COLUMNS}`,
    secretParams: [1, 2],
  },
  revokeSession: {
    text: 'UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL',
  },
  revokeUserSessions: {
    text: 'UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE user_id = $1 AND revoked_at IS NULL',
  },
  countActiveSessions: {
    text: 'SELECT count(*)::int AS n FROM sessions WHERE revoked_at IS NULL AND expires_at > $1',
  },
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

  getSetting: { text: 'SELECT value FROM settings WHERE key = $1' },
  insertSetting: {
    text: 'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value',
    secretParams: [2],
  },

  recordLoginFailure: {
    // One atomic upsert: concurrent failures on several instances all count, and a
    // closed window restarts at this failure instead of adding to it.
    text: `INSERT INTO login_failures AS f (key, count, first_at, last_at) VALUES ($1, 1, $2, $2)
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN f.first_at <= ${WINDOW_START} THEN 1 ELSE f.count + 1 END,
        first_at = CASE WHEN f.first_at <= ${WINDOW_START} THEN $2 ELSE f.first_at END,
        last_at = CASE WHEN f.first_at <= ${WINDOW_START} THEN $2 ELSE greatest(f.last_at, $2) END
      RETURNING ${FAILURE_COLUMNS}`,
  },
  getLoginFailures: {
    text: `SELECT ${FAILURE_COLUMNS} FROM login_failures WHERE key = ANY($1::text[]) AND first_at > ${WINDOW_START}`,
  },
  clearLoginFailures: { text: 'DELETE FROM login_failures WHERE key = $1' },
  purgeLoginFailures: {
    text: `DELETE FROM login_failures WHERE first_at <= ($1::timestamptz - make_interval(secs => $2::double precision))`,
  },

  listSigningKeys: {
    text: `SELECT ${KEY_COLUMNS} FROM signing_keys WHERE algorithm = $1
      ORDER BY retired_at IS NOT NULL, created_at DESC`,
  },
  activeSigningKey: { text: `SELECT ${KEY_COLUMNS} FROM signing_keys WHERE algorithm = $1 AND retired_at IS NULL` },
  insertSigningKeyIfNone: {
    // The partial unique index (one active key per algorithm) decides between instances starting together.
    text: `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk, created_at)
      VALUES ($1, $2, $3::jsonb, $4::jsonb, $5)
      ON CONFLICT (algorithm) WHERE retired_at IS NULL DO NOTHING`,
    secretParams: [4],
  },
  lockSigningKeys: { text: `SELECT pg_advisory_xact_lock(${SIGNING_KEY_LOCK_KEY})` },
  retireSigningKey: {
    text: `UPDATE signing_keys SET retired_at = $2 WHERE algorithm = $1 AND retired_at IS NULL RETURNING ${KEY_COLUMNS}`,
  },
  insertSigningKey: {
    text: `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk, created_at)
      VALUES ($1, $2, $3::jsonb, $4::jsonb, $5)`,
    secretParams: [4],
  },
  purgeSigningKeys: { text: 'DELETE FROM signing_keys WHERE retired_at < $1' },

  insertAuditEvent: {
    text: `INSERT INTO audit_events (at, event, username, user_id, ip, detail) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
  },
  listAuditEvents: {
    text: `SELECT ${AUDIT_COLUMNS} FROM audit_events
      WHERE (($1::text IS NULL AND $2::uuid IS NULL) OR lower(username) = lower($1) OR user_id = $2)
        AND ($3::text IS NULL OR event = $3)
        AND ($4::timestamptz IS NULL OR at >= $4)
      ORDER BY at DESC, id DESC LIMIT $5`,
  },
  purgeAuditEvents: { text: 'DELETE FROM audit_events WHERE at < $1' },
} satisfies Record<string, Sql>;

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
}

interface SessionRow {
  id: string;
  user_id: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

interface FailureRow {
  key: string;
  count: number;
  first_at: Date;
  last_at: Date;
}

interface KeyRow {
  kid: string;
  algorithm: string;
  public_jwk: Record<string, unknown>;
  private_jwk: Record<string, unknown>;
  created_at: Date;
  retired_at: Date | null;
}

interface AuditRow {
  id: string; // BIGSERIAL arrives as a string; ids stay far below 2^53
  at: Date;
  event: string;
  username: string | null;
  user_id: string | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
}

function toFailures(row: FailureRow): LoginFailures {
  return { key: row.key, count: row.count, firstAt: row.first_at, lastAt: row.last_at };
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

function toAuditEvent(row: AuditRow): AuditEventRecord {
  return {
    id: Number(row.id),
    at: row.at,
    event: row.event as AuditEventType,
    username: row.username,
    userId: row.user_id,
    ip: row.ip,
    detail: row.detail ?? {},
  };
}

/** Rows of users written by other tools may hold the seed's NULLs; they read as the defaults (inactive if unknown). */
function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    role: row.role as Role,
    email: row.email,
    profilePictureUrl: row.profile_picture_url,
    yapcoinBalance: row.yapcoin_balance ?? 0,
    isActive: row.is_active === true,
    createdAt: row.created_at ?? new Date(0),
    updatedAt: row.updated_at ?? row.created_at ?? new Date(0),
    metadata: row.metadata ?? {},
  };
}

function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
  };
}

/**
 * Opens the store: creates the pool, checks that the database answers, applies
 * pending migrations (unless `migrate: false`) and returns the Store. Failures are
 * a GatekeeperError DATABASE_UNAVAILABLE whose message is one line naming the
 * cause and the fix.
 *
 * @example
 * const store = await openPostgresStore({ database: config.database, log: (line) => logger.info(line) });
 */
export async function openPostgresStore(options: OpenPostgresStoreOptions): Promise<Store> {
  const log = options.log ?? (() => {});
  const pool = createPool(options.database, { log });
  const target = connectionTarget(options.database.url);
  const echo = options.database.echo ? createEcho(log) : undefined;
  try {
    echo?.(SQL.ping);
    await pool.query(SQL.ping.text);
    if (options.migrate ?? true) {
      for (const result of await migrate(pool, { echo })) {
        if (result.status === 'applied') log(`Applied database migration ${result.version} (${result.name}).`);
      }
    }
  } catch (err) {
    await pool.end().catch(() => {});
    throw translateError(err, target);
  }
  return new PostgresStore(pool, options.kind ?? 'postgres', target, echo);
}

class PostgresStore implements Store {
  readonly kind: 'postgres' | 'embedded-postgres';
  readonly #pool: pg.Pool;
  readonly #target: ConnectionTarget;
  readonly #echo: ((statement: Statement) => void) | undefined;
  #closed = false;

  constructor(
    pool: pg.Pool,
    kind: 'postgres' | 'embedded-postgres',
    target: ConnectionTarget,
    echo: ((statement: Statement) => void) | undefined,
  ) {
    this.#pool = pool;
    this.kind = kind;
    this.#target = target;
    this.#echo = echo;
  }

  // Users

  async createUser(user: NewUser): Promise<UserRecord> {
    const { rows } = await this.#query<UserRow>(SQL.insertUser, [
      user.id ?? null,
      user.username,
      user.passwordHash,
      user.role ?? 'regular',
      user.email ?? null,
      user.profilePictureUrl ?? null,
      user.yapcoinBalance ?? 0,
      user.isActive ?? true,
      user.createdAt?.toISOString() ?? null,
      user.updatedAt?.toISOString() ?? null,
      JSON.stringify(user.metadata ?? {}),
    ]);
    return toUser(one(rows));
  }

  async getUserById(id: string): Promise<UserRecord | null> {
    if (!UUID_PATTERN.test(id)) return null;
    const { rows } = await this.#query<UserRow>(SQL.userById, [id]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async getUserByUsername(username: string): Promise<UserRecord | null> {
    const { rows } = await this.#query<UserRow>(SQL.userByUsername, [username]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async getUserByLogin(login: string): Promise<UserRecord | null> {
    const { rows } = await this.#query<UserRow>(SQL.userByLogin, [login, login.includes('@')]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async updateUser(id: string, patch: UserPatch): Promise<UserRecord | null> {
    if (!UUID_PATTERN.test(id)) return null;
    const mayDemote = patch.role !== undefined || patch.isActive !== undefined;
    return this.#transaction(async (client) => {
      // Two concurrent demotions of the last two admins: the advisory lock makes the
      // second wait until the first commits, and then it counts one admin and refuses.
      if (mayDemote) await this.#query(SQL.lockAdmins, [], client);
      const { rows } = await this.#query<Pick<UserRow, 'role' | 'is_active'>>(SQL.lockUser, [id], client);
      const current = rows[0];
      if (!current) return null;
      const wasActiveAdmin = current.role === 'admin' && current.is_active === true;
      const staysActiveAdmin =
        (patch.role ?? current.role) === 'admin' && (patch.isActive ?? current.is_active) === true;
      if (wasActiveAdmin && !staysActiveAdmin) await this.#refuseLastAdmin(client);
      const updated = await this.#query<UserRow>(
        SQL.updateUser,
        [
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
        ],
        client,
      );
      return toUser(one(updated.rows));
    });
  }

  async deleteUser(id: string): Promise<boolean> {
    if (!UUID_PATTERN.test(id)) return false;
    return this.#transaction(async (client) => {
      await this.#query(SQL.lockAdmins, [], client);
      const { rows } = await this.#query<Pick<UserRow, 'role' | 'is_active'>>(SQL.lockUser, [id], client);
      const current = rows[0];
      if (!current) return false;
      if (current.role === 'admin' && current.is_active === true) await this.#refuseLastAdmin(client);
      await this.#query(SQL.deleteUser, [id], client);
      return true;
    });
  }

  async listUsers(query: UserQuery): Promise<UserPage> {
    const filters = [
      query.q === undefined ? null : `%${escapeLike(query.q)}%`,
      query.role ?? null,
      query.isActive ?? null,
    ];
    const skip = Math.max(0, Math.trunc(query.skip));
    const limit = Math.max(0, Math.trunc(query.limit));
    const [page, count] = await Promise.all([
      this.#query<UserRow>(SQL.listUsers, [...filters, skip, limit]),
      this.#query<{ n: number }>(SQL.countUsers, filters),
    ]);
    return { users: page.rows.map(toUser), total: count.rows[0]?.n ?? 0 };
  }

  async addToBalance(id: string, delta: number): Promise<number | null> {
    if (!UUID_PATTERN.test(id)) return null;
    const { rows } = await this.#query<{ yapcoin_balance: number }>(SQL.addToBalance, [id, delta]);
    if (rows[0]) return rows[0].yapcoin_balance;
    const exists = await this.#query(SQL.userExists, [id]);
    if (exists.rowCount === 0) return null;
    throw new GatekeeperError('INSUFFICIENT_BALANCE', 'The balance cannot go below zero.');
  }

  async userStats(): Promise<UserStats> {
    const { rows } = await this.#query<Record<'total' | 'active' | Role, number>>(SQL.userStats, []);
    const row = one(rows);
    return {
      total: row.total,
      active: row.active,
      byRole: { admin: row.admin, regular: row.regular, guest: row.guest },
    };
  }

  async countActiveAdmins(): Promise<number> {
    const { rows } = await this.#query<{ n: number }>(SQL.countActiveAdmins, []);
    return one(rows).n;
  }

  // Sessions and refresh tokens

  async createSession(session: NewSession): Promise<SessionRecord> {
    const { rows } = await this.#query<SessionRow>(SQL.insertSession, [
      session.id,
      session.userId,
      session.refreshTokenHash,
      session.createdAt.toISOString(),
      session.expiresAt.toISOString(),
    ]);
    return toSession(one(rows));
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    if (!UUID_PATTERN.test(id)) return null;
    const { rows } = await this.#query<SessionRow>(SQL.sessionById, [id]);
    return rows[0] ? toSession(rows[0]) : null;
  }

  async rotateRefreshToken(
    oldTokenHash: string,
    newTokenHash: string,
    newExpiresAt: Date,
    now: Date,
  ): Promise<RotateResult> {
    // Both rows are locked before anything is decided, so of two concurrent rotations
    // of one token the second waits, then sees `used_at` set and reports reuse.
    return this.#transaction(async (client) => {
      const sessions = await this.#query<SessionRow>(SQL.lockSessionByToken, [oldTokenHash], client);
      const session = sessions.rows[0];
      if (!session || session.revoked_at !== null || session.expires_at <= now) return { status: 'invalid' };
      const tokens = await this.#query<{ expires_at: Date; used_at: Date | null }>(
        SQL.lockToken,
        [oldTokenHash],
        client,
      );
      const token = tokens.rows[0];
      if (!token || token.expires_at <= now) return { status: 'invalid' };
      if (token.used_at !== null) return { status: 'reused', session: toSession(session) };
      const rotated = await this.#query<SessionRow>(
        SQL.rotate,
        [oldTokenHash, newTokenHash, newExpiresAt.toISOString(), now.toISOString(), session.id],
        client,
      );
      return { status: 'rotated', session: toSession(one(rotated.rows)) };
    });
  }

  async findSessionByRefreshToken(tokenHash: string): Promise<SessionRecord | null> {
    const { rows } = await this.#query<SessionRow>(SQL.sessionByToken, [tokenHash]);
    return rows[0] ? toSession(rows[0]) : null;
  }

  async revokeSession(id: string, reason: string, now: Date): Promise<boolean> {
    if (!UUID_PATTERN.test(id)) return false;
    const result = await this.#query(SQL.revokeSession, [id, now.toISOString(), reason]);
    return result.rowCount === 1;
  }

  async revokeUserSessions(userId: string, reason: string, now: Date): Promise<number> {
    if (!UUID_PATTERN.test(userId)) return 0;
    const result = await this.#query(SQL.revokeUserSessions, [userId, now.toISOString(), reason]);
    return result.rowCount ?? 0;
  }

  async countActiveSessions(now: Date): Promise<number> {
    const { rows } = await this.#query<{ n: number }>(SQL.countActiveSessions, [now.toISOString()]);
    return one(rows).n;
  }

  async cleanup(now: Date): Promise<number> {
    const { rows } = await this.#query<{ n: number }>(SQL.cleanup, [now.toISOString()]);
    return one(rows).n;
  }

  // Settings

  async getSetting(key: string): Promise<string | null> {
    const { rows } = await this.#query<{ value: string }>(SQL.getSetting, [key]);
    return rows[0]?.value ?? null;
  }

  async putSettingIfAbsent(key: string, value: string): Promise<string> {
    const inserted = await this.#query<{ value: string }>(SQL.insertSetting, [key, value]);
    if (inserted.rows[0]) return inserted.rows[0].value;
    // ON CONFLICT DO NOTHING waited for a concurrent first writer to commit, so its row is visible now.
    const stored = await this.getSetting(key);
    if (stored === null) throw new Error(`Setting ${key} vanished between insert and read`);
    return stored;
  }

  // Login throttling

  async recordLoginFailure(key: string, now: Date, windowSeconds: number): Promise<LoginFailures> {
    const { rows } = await this.#query<FailureRow>(SQL.recordLoginFailure, [key, now.toISOString(), windowSeconds]);
    return toFailures(one(rows));
  }

  async getLoginFailures(keys: readonly string[], now: Date, windowSeconds: number): Promise<LoginFailures[]> {
    if (keys.length === 0) return [];
    const { rows } = await this.#query<FailureRow>(SQL.getLoginFailures, [[...keys], now.toISOString(), windowSeconds]);
    return rows.map(toFailures);
  }

  async clearLoginFailures(key: string): Promise<void> {
    await this.#query(SQL.clearLoginFailures, [key]);
  }

  async purgeLoginFailures(now: Date, windowSeconds: number): Promise<number> {
    const result = await this.#query(SQL.purgeLoginFailures, [now.toISOString(), windowSeconds]);
    return result.rowCount ?? 0;
  }

  // Signing keys

  async listSigningKeys(algorithm: SigningAlgorithm): Promise<SigningKeyRecord[]> {
    const { rows } = await this.#query<KeyRow>(SQL.listSigningKeys, [algorithm]);
    return rows.map(toSigningKey);
  }

  async addSigningKeyIfNone(key: NewSigningKey): Promise<SigningKeyRecord> {
    await this.#query(SQL.insertSigningKeyIfNone, signingKeyValues(key));
    // Inserted or not, the active key is visible now: DO NOTHING waited for a concurrent writer to commit.
    const { rows } = await this.#query<KeyRow>(SQL.activeSigningKey, [key.algorithm]);
    return toSigningKey(one(rows));
  }

  async rotateSigningKey(key: NewSigningKey): Promise<SigningKeyRecord | null> {
    return this.#transaction(async (client) => {
      await this.#query(SQL.lockSigningKeys, [], client);
      const retired = await this.#query<KeyRow>(
        SQL.retireSigningKey,
        [key.algorithm, key.createdAt.toISOString()],
        client,
      );
      await this.#query(SQL.insertSigningKey, signingKeyValues(key), client);
      return retired.rows[0] ? toSigningKey(retired.rows[0]) : null;
    });
  }

  async purgeSigningKeys(retiredBefore: Date): Promise<number> {
    const result = await this.#query(SQL.purgeSigningKeys, [retiredBefore.toISOString()]);
    return result.rowCount ?? 0;
  }

  // Audit trail

  async recordAuditEvent(event: NewAuditEvent): Promise<void> {
    await this.#query(SQL.insertAuditEvent, [
      event.at.toISOString(),
      event.event,
      event.username,
      event.userId !== null && UUID_PATTERN.test(event.userId) ? event.userId : null,
      event.ip,
      JSON.stringify(event.detail),
    ]);
  }

  async listAuditEvents(query: AuditQuery): Promise<AuditEventRecord[]> {
    const userId = query.userId !== undefined && UUID_PATTERN.test(query.userId) ? query.userId : null;
    // An id that cannot exist matches nothing, rather than dropping the filter.
    if (query.userId !== undefined && userId === null && query.username === undefined) return [];
    const { rows } = await this.#query<AuditRow>(SQL.listAuditEvents, [
      query.username ?? null,
      userId,
      query.event ?? null,
      query.since?.toISOString() ?? null,
      Math.max(0, Math.trunc(query.limit)),
    ]);
    return rows.map(toAuditEvent);
  }

  async purgeAuditEvents(before: Date): Promise<number> {
    const result = await this.#query(SQL.purgeAuditEvents, [before.toISOString()]);
    return result.rowCount ?? 0;
  }

  // Health and lifetime

  async health(): Promise<StoreHealth> {
    let failure: unknown;
    // A second try when a pooled connection turns out to be dead (the server restarted
    // since it was last used): the fresh connection then tells the real state.
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      let client: pg.PoolClient | undefined;
      try {
        client = await this.#pool.connect();
        const started = performance.now();
        this.#echo?.(SQL.serverVersion);
        const { rows } = await client.query<{ version: string }>(SQL.serverVersion.text);
        const latencyMs = Math.round((performance.now() - started) * 100) / 100;
        client.release();
        return { reachable: true, latencyMs, serverVersion: rows[0]?.version ?? null, pool: this.#poolFigures() };
      } catch (err) {
        client?.release(true);
        failure = err;
        if (!isLostConnection(err)) break;
      }
    }
    return {
      reachable: false,
      latencyMs: null,
      serverVersion: null,
      pool: this.#poolFigures(),
      error: describeConnectionError(failure, this.#target),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  // Internals

  #poolFigures(): PoolFigures {
    const pool = this.#pool;
    return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max };
  }

  /** Inside a transaction holding the admin lock: throws LAST_ADMIN unless another active admin remains. */
  async #refuseLastAdmin(client: pg.ClientBase): Promise<void> {
    const { rows } = await this.#query<{ n: number }>(SQL.countActiveAdmins, [], client);
    if (one(rows).n <= 1) throw new GatekeeperError('LAST_ADMIN', 'This would leave no active admin.');
  }

  /**
   * Runs one statement, echoing it first. On the pool (no `client`): driver errors
   * come back translated. On a transaction's client: raw, for #transaction to judge.
   */
  async #query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: Sql,
    values: unknown[],
    client?: pg.ClientBase,
  ): Promise<pg.QueryResult<R>> {
    this.#echo?.({ ...sql, values });
    if (client) return client.query<R>(sql.text, values);
    // Not pool.query(): it would close the connection after any error, even a unique violation.
    let pooled: pg.PoolClient;
    try {
      pooled = await this.#pool.connect();
    } catch (err) {
      throw translateError(err, this.#target);
    }
    try {
      const result = await pooled.query<R>(sql.text, values);
      pooled.release();
      return result;
    } catch (err) {
      pooled.release(isConnectionError(err));
      throw translateError(err, this.#target);
    }
  }

  /** One checked-out client per transaction; deadlocks and serialization failures are retried. */
  async #transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (err) {
        throw translateError(err, this.#target);
      }
      let broken = false;
      try {
        await this.#query(SQL.begin, [], client);
        const result = await fn(client);
        await this.#query(SQL.commit, [], client);
        return result;
      } catch (err) {
        broken = isConnectionError(err);
        if (!broken) {
          await this.#query(SQL.rollback, [], client).catch(() => {
            broken = true;
          });
        }
        if (!broken && attempt < TRANSACTION_ATTEMPTS && isRetryable(err)) continue;
        throw translateError(err, this.#target);
      } finally {
        client.release(broken);
      }
    }
  }
}

function signingKeyValues(key: NewSigningKey): unknown[] {
  return [
    key.kid,
    key.algorithm,
    JSON.stringify(key.publicJwk),
    JSON.stringify(key.privateJwk),
    key.createdAt.toISOString(),
  ];
}

function one<T>(rows: T[]): T {
  const row = rows[0];
  if (row === undefined) throw new Error('Expected one row, got none');
  return row;
}

/** `q` is a literal substring: LIKE's wildcards and the escape character lose their meaning. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
}
