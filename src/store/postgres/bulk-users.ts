/**
 * Writes users in batches for migrate-users and import: one transaction per batch,
 * one lookup of the users that already exist, then one multi-row INSERT … ON
 * CONFLICT DO NOTHING and one multi-row UPDATE, each fed by typed arrays through
 * unnest() (11 parameters whatever the batch size, so no 65535-parameter limit).
 * A batch is all or nothing: any error rolls it back. Password hashes are written
 * exactly as read, so every user keeps their password.
 */
import type { UserRecord } from '../store.js';
import { planUserBatch, type ExistingUser, type OnConflict, type PlannedFailure } from '../user-batch-plan.js';
import { createExecutor, type Queryer } from './executor.js';
import { connectionTarget, createPool, type PoolSettings } from './pool.js';

export interface BatchOutcome {
  inserted: number;
  updated: number;
  skipped: number;
  failures: PlannedFailure[];
}

export interface BulkUserWriter {
  /** @throws DATABASE_UNAVAILABLE when the database is gone; any other error means this batch was rolled back. */
  writeBatch(users: UserRecord[], onConflict: OnConflict): Promise<BatchOutcome>;
  close(): Promise<void>;
}

/** The columns as unnest() yields them; timestamps arrive as timestamptz and are stored as UTC (see 0001_users.sql). */
const ROWS = `unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::boolean[],
    $9::timestamptz[], $10::timestamptz[], $11::jsonb[])
  AS t(id, username, password_hash, role, email, profile_picture_url, yapcoin_balance, is_active, created_at, updated_at, metadata)`;

const FIND_EXISTING = `SELECT id::text AS id, username, email FROM users
  WHERE id = ANY($1::uuid[]) OR lower(username) = ANY($2::text[]) OR lower(email) = ANY($3::text[])`;

const INSERT = `INSERT INTO users (id, username, password_hash, role, email, profile_picture_url, yapcoin_balance,
    is_active, created_at, updated_at, metadata)
  SELECT id, username, password_hash, role, email, profile_picture_url, yapcoin_balance, is_active,
    created_at AT TIME ZONE 'UTC', updated_at AT TIME ZONE 'UTC', metadata
  FROM ${ROWS}
  ON CONFLICT DO NOTHING`;

// $1 carries the ids of the rows to change; the user's own id is not copied onto an existing row.
const UPDATE = `UPDATE users AS u SET username = t.username, password_hash = t.password_hash, role = t.role,
    email = t.email, profile_picture_url = t.profile_picture_url, yapcoin_balance = t.yapcoin_balance,
    is_active = t.is_active, created_at = t.created_at AT TIME ZONE 'UTC', updated_at = t.updated_at AT TIME ZONE 'UTC',
    metadata = t.metadata
  FROM ${ROWS}
  WHERE u.id = t.id`;

/** One array per column, in the order of ROWS. */
function columns(users: UserRecord[], ids: string[] = users.map((u) => u.id)): unknown[] {
  return [
    ids,
    users.map((u) => u.username),
    users.map((u) => u.passwordHash),
    users.map((u) => u.role),
    users.map((u) => u.email),
    users.map((u) => u.profilePictureUrl),
    users.map((u) => u.yapcoinBalance),
    users.map((u) => u.isActive),
    users.map((u) => u.createdAt.toISOString()),
    users.map((u) => u.updatedAt.toISOString()),
    users.map((u) => JSON.stringify(u.metadata)),
  ];
}

/**
 * The target's schema must exist (run the migrator first).
 * @example const writer = openBulkUserWriter(settings); await writer.writeBatch(users, 'skip'); await writer.close();
 */
export function openBulkUserWriter(settings: PoolSettings): BulkUserWriter {
  // A batch of thousands of rows is legitimately slower than a request's statement: no statement timeout.
  const db = createExecutor(createPool({ ...settings, poolSize: 1, maxOverflow: 1, statementTimeoutSeconds: 0 }), {
    target: connectionTarget(settings.url),
  });
  return {
    // No retry: a batch that failed is reported as failed, and the caller decides.
    writeBatch: (users, onConflict) => db.transaction((tx) => writeInTransaction(tx, users, onConflict)),
    close: () => db.close(),
  };
}

async function writeInTransaction(client: Queryer, users: UserRecord[], onConflict: OnConflict): Promise<BatchOutcome> {
  const { rows: existing } = await client.query<ExistingUser>(FIND_EXISTING, [
    users.map((u) => u.id),
    users.map((u) => u.username.toLowerCase()),
    users.flatMap((u) => (u.email === null ? [] : [u.email.toLowerCase()])),
  ]);
  const plan = planUserBatch(users, existing, onConflict);
  let inserted = 0;
  if (plan.inserts.length > 0) {
    inserted = (await client.query(INSERT, columns(plan.inserts))).rowCount ?? 0;
  }
  let updated = 0;
  if (plan.updates.length > 0) {
    const changes = plan.updates.map((u) => u.user);
    updated =
      (
        await client.query(
          UPDATE,
          columns(
            changes,
            plan.updates.map((u) => u.targetId),
          ),
        )
      ).rowCount ?? 0;
  }
  // A row the INSERT left out was created meanwhile by someone else (e.g. a registration): it exists, so it is skipped.
  const raced = plan.inserts.length - inserted + (plan.updates.length - updated);
  return { inserted, updated, skipped: plan.skipped.length + raced, failures: plan.failures };
}
