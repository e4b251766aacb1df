import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isSchemaCurrent,
  loadMigrations,
  migrate,
  migrationStatus,
  MIGRATION_LOCK_KEY,
} from '../../src/store/postgres/migrator.js';
import { createPool } from '../../src/store/postgres/pool.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const settings = (url: string) => ({
  url,
  sslMode: null,
  sslRootCert: null,
  poolSize: 1,
  maxOverflow: 2,
  poolTimeoutSeconds: 10,
  echo: false,
});

/** Closed after each test, in reverse order. */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  return db;
}

function pool(url: string): pg.Pool {
  const p = createPool(settings(url));
  cleanups.push(() => p.end());
  return p;
}

async function recorded(url: string): Promise<{ version: number; name: string }[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT version, name FROM gatekeeper_migrations ORDER BY version')).rows;
  } finally {
    await client.end();
  }
}

async function advisoryLocks(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not come within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('migrator', () => {
  it('reads the shipped migrations sorted by their numeric prefix', async () => {
    const migrations = await loadMigrations();
    expect(migrations.map((m) => [m.version, m.name])).toEqual([
      [1, 'users'],
      [2, 'sessions'],
      [3, 'settings'],
      [4, 'login_failures'],
      [5, 'signing_keys'],
      [6, 'audit_events'],
      [7, 'users_search'],
      [8, 'oauth_clients'],
      [9, 'invalidations'],
      [10, 'one_time_tokens'],
      [11, 'email_verification'],
      [12, 'session_details'],
      [13, 'mfa'],
    ]);
    expect(migrations[0]?.sql).toContain('CREATE TABLE users');
  });

  it('3 migrators starting at once on an empty database apply each migration exactly once', async () => {
    const db = await freshDatabase();
    const shipped = await loadMigrations();
    const runs = await Promise.all([pool(db.url), pool(db.url), pool(db.url)].map((p) => migrate(p)));
    for (const version of shipped.map((m) => m.version)) {
      const statuses = runs.map((results) => results.find((r) => r.version === version)?.status);
      expect(statuses.filter((s) => s === 'applied')).toHaveLength(1);
      expect(statuses.filter((s) => s === 'already-applied')).toHaveLength(2);
    }
    expect(await recorded(db.url)).toEqual(shipped.map((m) => ({ version: m.version, name: m.name })));
  });

  it('3 stores opening at once on an empty database all start and share one schema', async () => {
    const db = await freshDatabase();
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore({ database: settings(db.url) })));
    for (const store of stores) cleanups.push(() => store.close());
    expect(await recorded(db.url)).toHaveLength((await loadMigrations()).length);
    const user = await stores[0]!.createUser({ username: 'shared', passwordHash: 'h' });
    expect((await stores[2]!.getUserByUsername('SHARED'))?.id).toBe(user.id);
  });

  it("running again reports every migration as 'already-applied' and changes nothing", async () => {
    const db = await freshDatabase();
    const p = pool(db.url);
    const first = await migrate(p);
    expect(first.every((r) => r.status === 'applied')).toBe(true);
    const before = await recorded(db.url);
    const again = await migrate(p);
    expect(again).toEqual(first.map((r) => ({ ...r, status: 'already-applied' })));
    expect(await recorded(db.url)).toEqual(before);
  });

  it('isSchemaCurrent() is false on an empty database and true once migrated', async () => {
    const db = await freshDatabase();
    const p = pool(db.url);
    expect(await isSchemaCurrent(p)).toBe(false);
    const all = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
    expect((await migrationStatus(p)).pending.map((m) => m.version)).toEqual(all);
    await migrate(p);
    expect(await isSchemaCurrent(p)).toBe(true);
    expect(await migrationStatus(p)).toEqual({
      applied: all,
      pending: [],
      unknown: [],
    });
  });

  it('a failing migration is rolled back, recorded nowhere, and releases the lock', async () => {
    const db = await freshDatabase();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gk-migrations-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first_table (id int);');
    await writeFile(path.join(dir, '0010_broken.sql'), 'CREATE TABLE half_done (id int);\nSELEKT 1;');
    const directory = pathToFileURL(`${dir}/`);
    const p = pool(db.url);

    await expect(migrate(p, { directory })).rejects.toMatchObject({ code: '42601' });
    expect(await recorded(db.url)).toEqual([{ version: 1, name: 'first' }]);
    const half = await p.query(`SELECT to_regclass('half_done') IS NULL AS absent`);
    expect(half.rows[0].absent).toBe(true);

    await writeFile(path.join(dir, '0010_broken.sql'), 'CREATE TABLE half_done (id int);');
    // Another connection can take the lock again: the failed run released it.
    expect(await migrate(pool(db.url), { directory })).toEqual([
      { version: 1, name: 'first', status: 'already-applied' },
      { version: 10, name: 'broken', status: 'applied' },
    ]);
  });

  it('5 migrators on their own pools at once: each migration once, all succeed, no advisory lock left', async () => {
    const db = await freshDatabase();
    const shipped = await loadMigrations();
    const runs = await Promise.all([1, 2, 3, 4, 5].map(() => migrate(pool(db.url))));
    for (const version of shipped.map((m) => m.version)) {
      const statuses = runs.map((results) => results.find((r) => r.version === version)?.status);
      expect(statuses.filter((s) => s === 'applied')).toHaveLength(1);
      expect(statuses.filter((s) => s === 'already-applied')).toHaveLength(4);
    }
    expect(await recorded(db.url)).toEqual(shipped.map((m) => ({ version: m.version, name: m.name })));
    expect(await advisoryLocks(db.url)).toBe(0);
  });

  it('waits, saying so, while another connection holds the migration lock, and completes once it is released', async () => {
    const db = await freshDatabase();
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query(`BEGIN; SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    const lines: string[] = [];
    let announced!: () => void;
    const waiting = new Promise<void>((resolve) => (announced = resolve));
    const running = migrate(pool(db.url), {
      lockAttemptMillis: 200,
      log: (line) => {
        lines.push(line);
        if (/another Gatekeeper instance to finish migrating/.test(line)) announced();
      },
    });
    await withDeadline(waiting, 10_000, 'the waiting line');
    expect(await recorded(db.url).catch(() => [])).toEqual([]);
    await holder.query('COMMIT');
    const results = await withDeadline(running, 30_000, 'migrate() after the release');
    expect(results.every((r) => r.status === 'applied')).toBe(true);
    expect(lines[0]).toMatch(/^Waiting for another Gatekeeper instance to finish migrating/);
    expect(await advisoryLocks(db.url)).toBe(0);
  });

  it('gives up after its deadline with a message naming the holder of the lock', async () => {
    const db = await freshDatabase();
    const holder = new pg.Client({ connectionString: db.url, application_name: 'stuck-migrator' });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const started = Date.now();
    const failure = migrate(pool(db.url), { lockWaitSeconds: 1, lockAttemptMillis: 200 });
    await expect(failure).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    await expect(failure).rejects.toThrow(
      new RegExp(`pid ${pid}, application 'stuck-migrator'.*pg_terminate_backend\\(${pid}\\)`),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a migration longer than the statement timeout of the connection and of the database still runs', async () => {
    const db = await freshDatabase();
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`ALTER DATABASE "${new URL(db.url).pathname.slice(1)}" SET statement_timeout = '1s'`);
    await admin.end();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gk-migrations-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, '0001_slow.sql'), 'SELECT pg_sleep(1.5); CREATE TABLE slow_done (id int);');
    const p = createPool({ ...settings(db.url), statementTimeoutSeconds: 1 });
    cleanups.push(() => p.end());
    // The pool's connections really have the 1 s timeout outside the migrator.
    await expect(p.query('SELECT pg_sleep(1.5)')).rejects.toMatchObject({ code: '57014' });
    expect(await migrate(p, { directory: pathToFileURL(`${dir}/`) })).toEqual([
      { version: 1, name: 'slow', status: 'applied' },
    ]);
    expect((await p.query(`SELECT to_regclass('slow_done') IS NOT NULL AS made`)).rows[0].made).toBe(true);
  });

  it('a store with a direct URL migrates over it, and leaves no lock or connection of it behind', async () => {
    const db = await freshDatabase();
    const lines: string[] = [];
    const store = await openPostgresStore({
      database: { ...settings('postgresql://nobody:wrong@127.0.0.1:1/none'), directUrl: db.url },
      pool: pool(db.url),
      log: (line) => lines.push(line),
    });
    cleanups.push(() => store.close());
    expect(await recorded(db.url)).toHaveLength((await loadMigrations()).length);
    expect(lines.some((line) => /Applied database migration 1 /.test(line))).toBe(true);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'gatekeeper-migrations'`,
      );
      expect(rows[0]!.n).toBe(0);
    } finally {
      await admin.end();
    }
    expect(await advisoryLocks(db.url)).toBe(0);
  });

  it('a migration directory with a badly named file is refused before touching the database', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gk-migrations-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'users.sql'), 'SELECT 1;');
    await expect(loadMigrations(pathToFileURL(`${dir}/`))).rejects.toThrow(/0001_name\.sql/);
  });
});
