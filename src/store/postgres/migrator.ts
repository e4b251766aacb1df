/**
 * Versioned schema migrations: plain SQL files in ./migrations named
 * `<number>_<name>.sql`, applied in numeric order, each in its own transaction,
 * recorded in `gatekeeper_migrations`, and never edited once released.
 *
 * Several Gatekeeper processes may start at once on an empty database: all of
 * them take the same session-level advisory lock on one connection before
 * looking at what is applied, so each migration runs exactly once and the others
 * find it recorded.
 */
import { readdir, readFile } from 'node:fs/promises';
import type pg from 'pg';
import { translateError, type ConnectionTarget } from './errors.js';
import { createExecutor } from './executor.js';
import { isPool } from './pool-shape.js';
import { poolTarget, type Statement } from './pool.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrationResult {
  version: number;
  name: string;
  status: 'applied' | 'already-applied';
}

export interface MigrationStatus {
  /** Versions recorded in the database, known or not. */
  applied: number[];
  /** Migrations on disk that the database has not recorded yet. */
  pending: Migration[];
  /** Recorded versions this code does not know (a newer Gatekeeper ran here). */
  unknown: number[];
}

export interface MigrateOptions {
  /** Where the migrations are read from; default: the migrations folder next to this module. */
  directory?: URL;
  /** Called with every statement the migrator runs (POSTGRES_ECHO). */
  echo?: (statement: Statement) => void;
}

/** A pool, or one client that is already connected. */
export type Queryable = pg.Pool | pg.ClientBase;

/** Arbitrary but fixed: every Gatekeeper process must use the same number. */
export const MIGRATION_LOCK_KEY = '7340298721543101';

const DEFAULT_DIRECTORY = new URL('./migrations/', import.meta.url);
const FILE_NAME = /^(\d+)_([\w-]+)\.sql$/;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS gatekeeper_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`;

/** The migrations shipped with this code, sorted by their numeric prefix. */
export async function loadMigrations(directory: URL = DEFAULT_DIRECTORY): Promise<Migration[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (err) {
    // E.g. a build that compiled the TypeScript but did not copy the .sql files next to it.
    throw new Error(`Cannot read Gatekeeper's database migrations in ${directory.pathname}`, { cause: err });
  }
  const files = names.filter((file) => file.endsWith('.sql'));
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_NAME.exec(file);
    if (!match) throw new Error(`Migration file name must look like 0001_name.sql: ${file}`);
    const [, version = '', name = ''] = match;
    migrations.push({ version: Number(version), name, sql: await readFile(new URL(file, directory), 'utf8') });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i += 1) {
    if (migrations[i]?.version === migrations[i - 1]?.version) {
      throw new Error(`Two migrations have version ${migrations[i]?.version}`);
    }
  }
  return migrations;
}

/**
 * Applies every pending migration and reports each one, in order.
 *
 * @example
 * for (const r of await migrate(pool)) console.log(`${r.version} ${r.name}: ${r.status}`);
 */
export async function migrate(db: Queryable, options: MigrateOptions = {}): Promise<MigrationResult[]> {
  const migrations = await loadMigrations(options.directory);
  const run = (client: pg.ClientBase, text: string, values?: unknown[]) => {
    options.echo?.({ text, values });
    return client.query(text, values);
  };
  return withClient(db, async (client) => {
    // Session-level lock on this one connection: it is held across the per-migration
    // transactions and released in `finally` (or by the server if the connection dies).
    await run(client, `SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    try {
      await run(client, CREATE_TABLE);
      const applied = new Set(await appliedVersions(client));
      const results: MigrationResult[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.version)) {
          results.push({ version: migration.version, name: migration.name, status: 'already-applied' });
          continue;
        }
        await run(client, 'BEGIN');
        try {
          await run(client, migration.sql);
          await run(client, 'INSERT INTO gatekeeper_migrations (version, name) VALUES ($1, $2)', [
            migration.version,
            migration.name,
          ]);
          await run(client, 'COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        }
        results.push({ version: migration.version, name: migration.name, status: 'applied' });
      }
      return results;
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`).catch(() => {});
    }
  });
}

/** What is applied and what is pending, without changing anything. */
export async function migrationStatus(db: Queryable, directory?: URL): Promise<MigrationStatus> {
  const migrations = await loadMigrations(directory);
  const applied = await withClient(db, async (client): Promise<number[]> => {
    const exists = await client.query<{ exists: boolean }>(
      `SELECT to_regclass('gatekeeper_migrations') IS NOT NULL AS exists`,
    );
    return exists.rows[0]?.exists ? appliedVersions(client) : [];
  });
  const known = new Set(migrations.map((m) => m.version));
  return {
    applied,
    pending: migrations.filter((m) => !applied.includes(m.version)),
    unknown: applied.filter((v) => !known.has(v)),
  };
}

/** True when every migration of this code is applied (for `setup-postgres --test`). */
export async function isSchemaCurrent(db: Queryable, directory?: URL): Promise<boolean> {
  return (await migrationStatus(db, directory)).pending.length === 0;
}

async function appliedVersions(client: pg.ClientBase): Promise<number[]> {
  const result = await client.query<{ version: number }>('SELECT version FROM gatekeeper_migrations ORDER BY version');
  return result.rows.map((row) => row.version);
}

/**
 * Runs `fn` on one connection (from a pool through the executor, which gives it back
 * or destroys it if anything failed: it might still hold the lock) and turns
 * connection failures into DATABASE_UNAVAILABLE.
 */
async function withClient<T>(db: Queryable, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  const target = targetOf(db);
  if (isPool(db)) return createExecutor(db, { target }).withConnection(fn);
  try {
    return await fn(db);
  } catch (err) {
    throw translateError(err, target);
  }
}

function targetOf(db: Queryable): ConnectionTarget {
  if (isPool(db)) return poolTarget(db);
  const client = db as pg.Client;
  return {
    user: client.user ?? '?',
    host: client.host ?? '?',
    port: client.port ?? 5432,
    database: client.database ?? '?',
  };
}
