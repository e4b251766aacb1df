/**
 * Versioned schema migrations: plain SQL files in ./migrations named
 * `<number>_<name>.sql`, applied in numeric order, each in its own transaction,
 * recorded in `gatekeeper_migrations`, and never edited once released.
 *
 * Several Gatekeeper processes may start at once on an empty database: every
 * step runs in a transaction that first takes the same transaction-scoped
 * advisory lock, so each migration runs exactly once and the others find it
 * recorded; nothing session-level is left behind (safe behind a transaction pooler).
 */
import { readdir, readFile } from 'node:fs/promises';
import type pg from 'pg';
import { GatekeeperError } from '../../errors.js';
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
  /** Where "waiting for another instance" lines go; default: nowhere. */
  log?: (line: string) => void;
  /** How long to wait in all for the migration lock before failing; default 300. */
  lockWaitSeconds?: number;
  /** lock_timeout of one try at the lock; a try that times out is retried; default 2000. */
  lockAttemptMillis?: number;
}

/** A pool, or one client that is already connected. */
export type Queryable = pg.Pool | pg.ClientBase;

/** Arbitrary but fixed: every Gatekeeper process must use the same number. */
export const MIGRATION_LOCK_KEY = '7340298721543101';

const DEFAULT_LOCK_WAIT_SECONDS = 300;
const DEFAULT_LOCK_ATTEMPT_MILLIS = 2_000;
const WAIT_LOG_INTERVAL_MILLIS = 15_000;
/** lock_timeout expired (SQLSTATE 55P03). */
const LOCK_NOT_AVAILABLE = '55P03';

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
 * Every step (creating gatekeeper_migrations, reading what is applied, each migration) is one
 * transaction that first takes the transaction-scoped advisory lock, so nothing outlives it: behind
 * a transaction pooler (PgBouncer) a session-level lock would stay on whichever server connection
 * the pooler picked. statement_timeout is 0 in these transactions (a migration may take long);
 * lock_timeout bounds each wait, which is retried, with a log line, until `lockWaitSeconds`.
 *
 * @example
 * for (const r of await migrate(pool)) console.log(`${r.version} ${r.name}: ${r.status}`);
 */
export async function migrate(db: Queryable, options: MigrateOptions = {}): Promise<MigrationResult[]> {
  const migrations = await loadMigrations(options.directory);
  const log = options.log ?? (() => {});
  const deadline = Date.now() + (options.lockWaitSeconds ?? DEFAULT_LOCK_WAIT_SECONDS) * 1000;
  const attemptMillis = options.lockAttemptMillis ?? DEFAULT_LOCK_ATTEMPT_MILLIS;
  return withClient(db, async (client) => {
    const run = (text: string, values?: unknown[]) => {
      options.echo?.({ text, values });
      return client.query(text, values);
    };
    let lastWaitLog = 0;
    const locked = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
      for (;;) {
        let holding = false;
        try {
          await run(`BEGIN; SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = ${attemptMillis}`);
          await run(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
          holding = true;
          const result = await fn();
          await run('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          if ((err as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw err;
          if (Date.now() >= deadline) throw await lockWaitFailure(client, what, holding, options);
          if (Date.now() - lastWaitLog >= WAIT_LOG_INTERVAL_MILLIS) {
            lastWaitLog = Date.now();
            log(
              holding
                ? `Database migration ${what} is waiting for a table lock held by a running instance…`
                : 'Waiting for another Gatekeeper instance to finish migrating the database…',
            );
          }
        }
      }
    };
    await locked('setup', () => run(CREATE_TABLE));
    const applied = new Set(await locked('setup', () => appliedVersions(client)));
    const results: MigrationResult[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) {
        results.push({ version: migration.version, name: migration.name, status: 'already-applied' });
        continue;
      }
      // Read again under the lock: another instance may have applied it since the first look.
      const status = await locked(`${migration.version} (${migration.name})`, async () => {
        const done = await run('SELECT 1 FROM gatekeeper_migrations WHERE version = $1', [migration.version]);
        if (done.rowCount) return 'already-applied' as const;
        await run(migration.sql);
        await run('INSERT INTO gatekeeper_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        return 'applied' as const;
      });
      results.push({ version: migration.version, name: migration.name, status });
    }
    return results;
  });
}

/**
 * The error once the wait passed its deadline, naming who holds the lock when pg_locks and
 * pg_stat_activity tell (an advisory bigint key is classid = high 32 bits, objid = low 32 bits).
 */
async function lockWaitFailure(
  client: pg.ClientBase,
  what: string,
  holding: boolean,
  options: MigrateOptions,
): Promise<Error> {
  const seconds = options.lockWaitSeconds ?? DEFAULT_LOCK_WAIT_SECONDS;
  if (holding) {
    return new GatekeeperError(
      'DATABASE_UNAVAILABLE',
      `Database migration ${what} waited ${seconds} s for a table lock and gave up: a long transaction blocks it; end it and start again.`,
    );
  }
  let holder = '';
  try {
    const { rows } = await client.query<{
      pid: number;
      application_name: string | null;
      client_addr: string | null;
      state: string | null;
      xact_start: Date | null;
    }>(
      `SELECT l.pid, a.application_name, a.client_addr::text AS client_addr, a.state, a.xact_start
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND ((l.classid::bigint << 32) | l.objid::bigint) = ${MIGRATION_LOCK_KEY}`,
    );
    const row = rows[0];
    if (row) {
      const parts = [`PostgreSQL backend pid ${row.pid}`];
      if (row.application_name) parts.push(`application '${row.application_name}'`);
      if (row.client_addr) parts.push(`client ${row.client_addr}`);
      if (row.state) parts.push(`state '${row.state}'`);
      if (row.xact_start) parts.push(`transaction started ${row.xact_start.toISOString()}`);
      holder = ` It is held by ${parts.join(', ')}; if no Gatekeeper instance is migrating, end that session (SELECT pg_terminate_backend(${row.pid})).`;
    }
  } catch {
    // The message stays useful without the holder.
  }
  return new GatekeeperError(
    'DATABASE_UNAVAILABLE',
    `Waited ${seconds} s for the database migration lock (another Gatekeeper instance migrating) and gave up.${holder}`,
  );
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
