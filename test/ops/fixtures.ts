/**
 * Users to migrate: an embedded data directory like `npm start` leaves behind, a
 * database written by the Python Reynard Gatekeeper (its SQLAlchemy table, made
 * by SQL), and ten thousand users made in one statement.
 */
import { hash } from '@node-rs/argon2';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/postgres/embedded.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { NewUser } from '../../src/store/store.js';
import { CHEAP_HASH } from '../support/app.js';

/** Argon2id in PHC form with cheap parameters, as the service would verify it. */
export function cheapHash(password: string): Promise<string> {
  return hash(password, { ...CHEAP_HASH, algorithm: 2 });
}

export interface PlainUser extends Omit<NewUser, 'passwordHash'> {
  username: string;
  password: string;
}

/** Starts the embedded PostgreSQL of `dataDir` (creating it), stores the users, and leaves it running. */
export async function embeddedWithUsers(dataDir: string, users: PlainUser[]): Promise<EmbeddedPostgres> {
  const server = await startEmbeddedPostgres({ dataDir, port: 0 });
  const database = {
    url: server.url,
    sslMode: null,
    sslRootCert: null,
    poolSize: 1,
    maxOverflow: 1,
    poolTimeoutSeconds: 10,
    echo: false,
  };
  const store = await openPostgresStore({ database, kind: 'embedded-postgres' });
  try {
    for (const { password, ...user } of users)
      await store.createUser({ ...user, passwordHash: await cheapHash(password) });
  } finally {
    await store.close();
  }
  return server;
}

/** Runs statements on a database URL with one short-lived connection. */
export async function sql(url: string, statement: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.query(statement, values);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The table SQLAlchemy's create_all() makes for the Python Reynard Gatekeeper's UserModel:
 * `user_metadata` JSON instead of `metadata`, naive TIMESTAMPs holding UTC, unique indexes
 * instead of constraints, no server defaults.
 */
export const REYNARD_USERS_TABLE = `
  CREATE TABLE users (
    id UUID NOT NULL,
    username VARCHAR(50) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    role VARCHAR(20) NOT NULL,
    email VARCHAR(255),
    profile_picture_url VARCHAR(500),
    yapcoin_balance INTEGER,
    is_active BOOLEAN,
    created_at TIMESTAMP WITHOUT TIME ZONE,
    updated_at TIMESTAMP WITHOUT TIME ZONE,
    user_metadata JSON,
    PRIMARY KEY (id)
  );
  CREATE UNIQUE INDEX ix_users_username ON users (username);
  CREATE UNIQUE INDEX ix_users_email ON users (email);`;

/** A digest of every column of every user, to compare two databases. */
export async function usersDigest(url: string): Promise<{ count: number; digest: string }> {
  const { rows } = await sql(
    url,
    `SELECT count(*)::int AS count, md5(coalesce(string_agg(concat_ws('|', id, username, password_hash, role, email,
        profile_picture_url, yapcoin_balance, is_active, created_at, updated_at, metadata::text), ',' ORDER BY id), '')) AS digest
     FROM users`,
  );
  return rows[0] as { count: number; digest: string };
}

/** `count` users in one INSERT: user1 … userN, all with the same (cheap) hash, varied columns. */
export async function insertManyUsers(url: string, count: number, passwordHash: string): Promise<void> {
  await sql(
    url,
    `INSERT INTO users (username, password_hash, role, email, yapcoin_balance, is_active, created_at, updated_at, metadata)
     SELECT 'user' || g, $1, CASE WHEN g % 100 = 0 THEN 'admin' WHEN g % 10 = 0 THEN 'guest' ELSE 'regular' END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'user' || g || '@example.com' END, g % 1000, g % 50 <> 0,
       timestamp '2024-01-01' + g * interval '1 minute', timestamp '2024-06-01' + g * interval '1 second',
       jsonb_build_object('n', g, 'quote', 'it''s "quoted" \\ and ünïcode')
     FROM generate_series(1, $2::int) AS g`,
    [passwordHash, count],
  );
}
