/**
 * What `setup-postgres` does over the service's own connection (same URL, same TLS
 * settings, same role): create the tables with the migrator, and the seed's
 * connection test. Failures are DATABASE_UNAVAILABLE carrying the same one-line
 * explanation the service prints at start.
 */
import pg from 'pg';
import { translateError } from './errors.js';
import { createExecutor, type Executor } from './executor.js';
import { loadMigrations, migrate, migrationStatus, type MigrationResult, type MigrationStatus } from './migrator.js';
import { connectionTarget, createPool, type PoolSettings } from './pool.js';

export interface ConnectionReport {
  serverVersion: string;
  /** Null when the connection is not encrypted. */
  ssl: { version: string | null; cipher: string | null } | null;
  /** Round trip of one trivial query on the open connection. */
  latencyMs: number;
  schema: MigrationStatus & { known: number };
  /** Null while there is no users table yet. */
  users: number | null;
}

/**
 * Applies pending migrations as the service role and reports each one; `log` hears the waiting line
 * while another instance holds the migration lock.
 */
export async function createTables(settings: PoolSettings, log?: (line: string) => void): Promise<MigrationResult[]> {
  return withServicePool(settings, (db) => migrate(db.pool, log ? { log } : {}));
}

/**
 * Connects as the service would and reports version, TLS, latency, schema state and user count.
 * @example const report = await checkServiceConnection(config.database);
 */
export async function checkServiceConnection(settings: PoolSettings): Promise<ConnectionReport> {
  return withServicePool(settings, (db) =>
    db.withConnection(async (client) => {
      await client.query('SELECT 1'); // warm-up: the first query on a connection also pays for parsing setup
      const started = performance.now();
      await client.query('SELECT 1');
      const latencyMs = Math.round((performance.now() - started) * 100) / 100;
      const { rows } = await client.query<{
        version: string;
        ssl: boolean | null;
        tls: string | null;
        cipher: string | null;
        has_users: boolean;
      }>(
        `SELECT current_setting('server_version') AS version, s.ssl, s.version AS tls, s.cipher,
           to_regclass('users') IS NOT NULL AS has_users
         FROM (SELECT 1) AS one LEFT JOIN pg_stat_ssl s ON s.pid = pg_backend_pid()`,
      );
      const info = rows[0];
      const users = info?.has_users ? await countUsers(client) : null;
      const [status, known] = await Promise.all([migrationStatus(client), loadMigrations()]);
      return {
        serverVersion: info?.version ?? 'unknown',
        ssl: info?.ssl ? { version: info.tls, cipher: info.cipher } : null,
        latencyMs,
        schema: { ...status, known: known.length },
        users,
      };
    }),
  );
}

async function countUsers(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
  return rows[0]?.n ?? 0;
}

async function withServicePool<T>(settings: PoolSettings, fn: (db: Executor) => Promise<T>): Promise<T> {
  const target = connectionTarget(settings.url);
  const db = createExecutor(createPool({ ...settings, poolSize: 1, maxOverflow: 1 }), { target });
  try {
    return await fn(db);
  } catch (err) {
    throw translateError(err, target);
  } finally {
    await db.close().catch(() => undefined);
  }
}
