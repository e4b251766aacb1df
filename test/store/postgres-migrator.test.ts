import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { isSchemaCurrent, loadMigrations, migrate, migrationStatus } from '../../src/store/postgres/migrator.js';
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
    expect((await migrationStatus(p)).pending.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    await migrate(p);
    expect(await isSchemaCurrent(p)).toBe(true);
    expect(await migrationStatus(p)).toEqual({ applied: [1, 2, 3, 4, 5, 6, 7, 8], pending: [], unknown: [] });
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

  it('a migration directory with a badly named file is refused before touching the database', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gk-migrations-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'users.sql'), 'SELECT 1;');
    await expect(loadMigrations(pathToFileURL(`${dir}/`))).rejects.toThrow(/0001_name\.sql/);
  });
});
