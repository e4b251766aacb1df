import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatekeeperError } from '../../src/errors.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const settings = (url: string) => ({
  url,
  sslMode: null,
  sslRootCert: null,
  poolSize: 2,
  maxOverflow: 4,
  poolTimeoutSeconds: 10,
  echo: false,
});

let db: TestDatabase;
let store: Store;
let sql: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  store = await openPostgresStore({ database: settings(db.url) });
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
});

afterAll(async () => {
  await store?.close();
  await sql?.end();
  await db?.drop();
});

describe('PostgreSQL schema', () => {
  it('the users table matches the seed column for column', async () => {
    const { rows } = await sql.query(
      `SELECT column_name, data_type, character_maximum_length AS length, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'users'
        ORDER BY ordinal_position`,
    );
    expect(rows).toEqual([
      { column_name: 'id', data_type: 'uuid', length: null, is_nullable: 'NO', column_default: 'gen_random_uuid()' },
      { column_name: 'username', data_type: 'character varying', length: 50, is_nullable: 'NO', column_default: null },
      {
        column_name: 'password_hash',
        data_type: 'character varying',
        length: 255,
        is_nullable: 'NO',
        column_default: null,
      },
      {
        column_name: 'role',
        data_type: 'character varying',
        length: 20,
        is_nullable: 'NO',
        column_default: "'regular'::character varying",
      },
      { column_name: 'email', data_type: 'character varying', length: 255, is_nullable: 'YES', column_default: null },
      {
        column_name: 'profile_picture_url',
        data_type: 'character varying',
        length: 500,
        is_nullable: 'YES',
        column_default: null,
      },
      { column_name: 'yapcoin_balance', data_type: 'integer', length: null, is_nullable: 'YES', column_default: '0' },
      { column_name: 'is_active', data_type: 'boolean', length: null, is_nullable: 'YES', column_default: 'true' },
      {
        column_name: 'created_at',
        data_type: 'timestamp without time zone',
        length: null,
        is_nullable: 'YES',
        column_default: 'CURRENT_TIMESTAMP',
      },
      {
        column_name: 'updated_at',
        data_type: 'timestamp without time zone',
        length: null,
        is_nullable: 'YES',
        column_default: 'CURRENT_TIMESTAMP',
      },
      { column_name: 'metadata', data_type: 'jsonb', length: null, is_nullable: 'YES', column_default: `'{}'::jsonb` },
    ]);
  });

  it("the users table keeps the seed's UNIQUE constraints on username and email and its primary key", async () => {
    const { rows } = await sql.query(
      `SELECT tc.constraint_type AS type, string_agg(kcu.column_name, ',') AS columns
         FROM information_schema.table_constraints tc
         JOIN information_schema.key_column_usage kcu
           ON kcu.constraint_name = tc.constraint_name AND kcu.table_name = tc.table_name
        WHERE tc.table_name = 'users' AND tc.constraint_type IN ('UNIQUE', 'PRIMARY KEY')
        GROUP BY tc.constraint_name, tc.constraint_type ORDER BY 1, 2`,
    );
    expect(rows).toEqual([
      { type: 'PRIMARY KEY', columns: 'id' },
      { type: 'UNIQUE', columns: 'email' },
      { type: 'UNIQUE', columns: 'username' },
    ]);
  });

  it('the users table has the seed indexes plus unique indexes on lower(username) and lower(email)', async () => {
    const { rows } = await sql.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'users'`,
    );
    const defs = Object.fromEntries(rows.map((r) => [r.indexname, r.indexdef.replace(/ public\./g, ' ')]));
    expect(defs.idx_users_username).toBe('CREATE INDEX idx_users_username ON users USING btree (username)');
    expect(defs.idx_users_email).toBe('CREATE INDEX idx_users_email ON users USING btree (email)');
    expect(defs.idx_users_username_lower).toBe(
      'CREATE UNIQUE INDEX idx_users_username_lower ON users USING btree (lower((username)::text))',
    );
    expect(defs.idx_users_email_lower).toBe(
      'CREATE UNIQUE INDEX idx_users_email_lower ON users USING btree (lower((email)::text))',
    );
  });

  it('admin search by substring can use the trigram indexes on username and email', async () => {
    const { rows } = await sql.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'users' AND indexdef LIKE '%gin_trgm_ops%' ORDER BY 1`,
    );
    expect(rows.map((r) => r.indexname)).toEqual(['idx_users_email_trgm', 'idx_users_username_trgm']);
    try {
      // On a near-empty table the planner rightly prefers a scan; forbid it to see that the index can serve the query.
      await sql.query('SET enable_seqscan = off');
      const plan = await sql.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT id FROM users WHERE username ILIKE '%lic%' ESCAPE '\\' OR email ILIKE '%lic%' ESCAPE '\\'`,
      );
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).toContain('idx_users_username_trgm');
      expect(text).toContain('idx_users_email_trgm');
    } finally {
      await sql.query('RESET enable_seqscan');
    }
  });

  it('sessions, refresh_tokens and settings exist and cascade from users', async () => {
    const user = await store.createUser({ username: 'cascade', passwordHash: 'h' });
    const now = new Date();
    await store.createSession({
      id: crypto.randomUUID(),
      userId: user.id,
      refreshTokenHash: 'a'.repeat(64),
      createdAt: now,
      expiresAt: new Date(now.getTime() + 60_000),
    });
    await sql.query('DELETE FROM users WHERE id = $1', [user.id]);
    const { rows } = await sql.query(
      'SELECT (SELECT count(*) FROM sessions)::int AS s, (SELECT count(*) FROM refresh_tokens)::int AS t',
    );
    expect(rows[0]).toEqual({ s: 0, t: 0 });
    const settingsTable = await sql.query(`SELECT to_regclass('settings') IS NOT NULL AS present`);
    expect(settingsTable.rows[0].present).toBe(true);
  });

  it('created_at is stored as UTC and round-trips to the millisecond whatever the process time zone', async () => {
    const previous = process.env.TZ;
    process.env.TZ = 'America/New_York'; // pg would read TIMESTAMP as local time: 5 hours off here
    try {
      const createdAt = new Date('2024-01-02T03:04:05.678Z');
      const user = await store.createUser({ username: 'tz_user', passwordHash: 'h', createdAt });
      expect(user.createdAt.toISOString()).toBe('2024-01-02T03:04:05.678Z');
      expect((await store.getUserById(user.id))?.createdAt.toISOString()).toBe('2024-01-02T03:04:05.678Z');
      const raw = await sql.query(`SELECT created_at::text AS c, updated_at::text AS u FROM users WHERE id = $1`, [
        user.id,
      ]);
      expect(raw.rows[0]).toEqual({ c: '2024-01-02 03:04:05.678', u: '2024-01-02 03:04:05.678' });

      const fresh = await store.createUser({ username: 'tz_now', passwordHash: 'h' });
      expect(Math.abs(fresh.createdAt.getTime() - Date.now())).toBeLessThan(10_000);
      const lag = await sql.query(
        `SELECT abs(extract(epoch FROM (now() AT TIME ZONE 'UTC') - created_at)) AS seconds FROM users WHERE id = $1`,
        [fresh.id],
      );
      expect(Number(lag.rows[0].seconds)).toBeLessThan(10);
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });

  it('updated_at follows every change while created_at stays', async () => {
    const old = new Date('2020-05-05T05:05:05.005Z');
    const user = await store.createUser({ username: 'stamp', passwordHash: 'h', createdAt: old, updatedAt: old });
    await store.addToBalance(user.id, 3);
    const afterBalance = await store.getUserById(user.id);
    expect(afterBalance?.updatedAt.getTime()).toBeGreaterThan(old.getTime());
    expect(afterBalance?.createdAt.toISOString()).toBe(old.toISOString());
    const afterUpdate = await store.updateUser(user.id, { profilePictureUrl: 'https://example.com/x.png' });
    expect(afterUpdate?.updatedAt.getTime()).toBeGreaterThanOrEqual(afterBalance!.updatedAt.getTime());
  });

  it('unique violations become USERNAME_TAKEN and EMAIL_TAKEN whatever the case, keeping the driver error as cause', async () => {
    await store.createUser({ username: 'Unique_One', passwordHash: 'h', email: 'One@Example.com' });
    const byName = await store.createUser({ username: 'UNIQUE_one', passwordHash: 'h' }).catch((e: unknown) => e);
    expect(byName).toBeInstanceOf(GatekeeperError);
    expect(byName).toMatchObject({ code: 'USERNAME_TAKEN', message: 'That username is already taken.' });
    expect(((byName as Error).cause as { code?: string }).code).toBe('23505');
    const byEmail = await store
      .createUser({ username: 'unique_two', passwordHash: 'h', email: 'one@EXAMPLE.COM' })
      .catch((e: unknown) => e);
    expect(byEmail).toMatchObject({ code: 'EMAIL_TAKEN' });
    const other = await store.createUser({ username: 'unique_three', passwordHash: 'h' });
    await expect(store.updateUser(other.id, { username: 'unique_ONE' })).rejects.toMatchObject({
      code: 'USERNAME_TAKEN',
    });
    await expect(store.updateUser(other.id, { email: 'ONE@example.com' })).rejects.toMatchObject({
      code: 'EMAIL_TAKEN',
    });
  });

  it('a username longer than the seed allows is a VALIDATION_ERROR, not a driver error', async () => {
    await expect(store.createUser({ username: 'x'.repeat(51), passwordHash: 'h' })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
  });

  it('ids that are not UUIDs are simply absent', async () => {
    expect(await store.getUserById('not-a-uuid')).toBeNull();
    expect(await store.updateUser('42', { isActive: false })).toBeNull();
    expect(await store.deleteUser("1' OR '1'='1")).toBe(false);
    expect(await store.getSession('nope')).toBeNull();
  });

  it('rows written by other tools with the seed NULLs read as defaults', async () => {
    const { rows } = await sql.query<{ id: string }>(
      `INSERT INTO users (username, password_hash, yapcoin_balance, is_active, metadata)
       VALUES ('legacy', 'h', NULL, NULL, NULL) RETURNING id`,
    );
    const user = await store.getUserById(rows[0]!.id);
    expect(user).toMatchObject({
      username: 'legacy',
      role: 'regular',
      yapcoinBalance: 0,
      isActive: false,
      metadata: {},
    });
    expect(await store.addToBalance(rows[0]!.id, 2)).toBe(2);
  });
});
