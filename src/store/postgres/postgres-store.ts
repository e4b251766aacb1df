/**
 * The PostgreSQL implementation of the storage contract (src/store/store.ts), as a
 * composition: the pool (./pool.ts), the executor every statement goes through
 * (./executor.ts), the migrations (./migrator.ts, ./migrations/), one module per
 * facet with that facet's SQL and row mapper (./facets/*.ts), and health and close
 * here. This file holds no table's SQL; the rules both stores share are in
 * src/store/rules.ts.
 */
import { GatekeeperError } from '../../errors.js';
import { systemClock } from '../rules.js';
import type { Clock, PoolFigures, Store, StoreHealth } from '../store.js';
import type pg from 'pg';
import { describeServerAddress } from './database-config.js';
import { describeConnectionError, isLostConnection, readOnlyServer, translateError } from './errors.js';
import { createExecutor, type Executor } from './executor.js';
import { createPostgresAudit } from './facets/audit.js';
import { createPostgresClients } from './facets/clients.js';
import { createPostgresOneTimeTokens } from './facets/one-time-tokens.js';
import { createPostgresMfa } from './facets/mfa.js';
import { createPostgresSessions } from './facets/sessions.js';
import { createPostgresSettings } from './facets/settings.js';
import { createPostgresSigningKeys } from './facets/signing-keys.js';
import { createPostgresThrottle } from './facets/throttle.js';
import { createPostgresUsers } from './facets/users.js';
import { migrate, type MigrateOptions, type MigrationResult } from './migrator.js';
import {
  connectionTarget,
  createEcho,
  createPool,
  poolTarget,
  statementDeadlineMillis,
  transactionSetup,
  type PoolSettings,
} from './pool.js';

export interface OpenPostgresStoreOptions {
  /** The database part of the config (DatabaseConfig fits); ignored for the connection when `pool` is given. */
  database: PoolSettings & { directUrl?: string | null };
  /** A pool of the caller's to use instead of creating one; it stays open when the store closes. */
  pool?: pg.Pool;
  /** As /health reports it; default `postgres`. */
  kind?: 'postgres' | 'embedded-postgres';
  /** Receives applied migrations, pool errors and, with `database.echo`, every statement. */
  log?: (line: string) => void;
  /** Apply pending migrations before returning; default true. */
  migrate?: boolean;
  /** Where createdAt/updatedAt come from when the store stamps them; default the system clock. */
  now?: Clock;
}

const SERVER_VERSION = {
  text: `SELECT current_setting('server_version') AS version,
    pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on' AS read_only`,
};

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
  const echo = options.database.echo ? createEcho(log) : undefined;
  const settings = options.database;
  const statementDeadlineMs = statementDeadlineMillis(settings);
  const db = options.pool
    ? createExecutor(options.pool, {
        target: poolTarget(options.pool),
        echo,
        sharedPool: true,
        statementDeadlineMs,
        transactionSetup: transactionSetup(settings, true),
      })
    : createExecutor(createPool(settings, { log }), {
        target: connectionTarget(settings.url),
        echo,
        statementDeadlineMs,
        transactionSetup: transactionSetup(settings),
      });
  const target = db.target;
  // Checked out connections, so close() can end those still running a statement (nobody waits for them).
  const busy = new Set<pg.PoolClient>();
  if (!options.pool) {
    db.pool.on('acquire', (client) => busy.add(client));
    db.pool.on('release', (_err, client) => busy.delete(client));
    db.pool.on('remove', (client) => busy.delete(client as pg.PoolClient));
  }
  try {
    // The first statement proves the database answers, and says whether it takes writes.
    const { rows } = await db.query<{ read_only: boolean }>(SERVER_VERSION);
    if (options.migrate ?? true) {
      // A standby answers reads and refuses every write: better one clear line at start than 503s later.
      if (rows[0]?.read_only) {
        throw new GatekeeperError('DATABASE_UNAVAILABLE', readOnlyServer(describeServerAddress(db.target)));
      }
      for (const result of await migrateOver(settings, db, { echo, log })) {
        if (result.status === 'applied') log(`Applied database migration ${result.version} (${result.name}).`);
      }
    }
  } catch (err) {
    await db.close().catch(() => {});
    throw translateError(err, target);
  }
  const now = options.now ?? systemClock;
  return {
    kind: options.kind ?? 'postgres',
    ...createPostgresUsers(db, now),
    ...createPostgresSessions(db),
    ...createPostgresSettings(db),
    ...createPostgresThrottle(db),
    ...createPostgresSigningKeys(db),
    ...createPostgresAudit(db),
    ...createPostgresClients(db),
    ...createPostgresOneTimeTokens(db),
    ...createPostgresMfa(db),
    health: () => health(db),
    poolFigures: () => poolFigures(db),
    close: () => closeBounded(db, busy, log),
  };
}

/** How long close() waits for connections that do not end (a server that does not answer). */
const CLOSE_GRACE_MILLIS = 500;

/**
 * Ends the pool. Statements still running when the store closes serve nobody any more (the service
 * closes its HTTP server first), so their connections are ended too; and since a connection to a
 * server that does not answer never finishes ending, close() returns after a short grace anyway:
 * a stuck database connection must not keep the process alive.
 */
async function closeBounded(db: Executor, busy: Set<pg.PoolClient>, log: (line: string) => void): Promise<void> {
  const ended = db.close().then(() => true);
  const stuck = busy.size;
  for (const client of busy) void client.end().catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), CLOSE_GRACE_MILLIS);
    timer.unref();
  });
  try {
    if (!(await Promise.race([ended, grace]))) {
      log(`Closed the database pool with ${stuck} connection(s) still running a statement, left unfinished.`);
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Migrations over GATEKEEPER_DATABASE_DIRECT_URL when given (past a transaction pooler), on a small
 * pool of their own that is closed afterwards; else over the main pool.
 */
async function migrateOver(
  settings: OpenPostgresStoreOptions['database'],
  db: Executor,
  options: MigrateOptions,
): Promise<MigrationResult[]> {
  if (!settings.directUrl) return migrate(db.pool, options);
  const direct = { ...settings, url: settings.directUrl, poolSize: 1, maxOverflow: 0, minConnections: 0 };
  const pool = createPool(direct, {
    applicationName: 'gatekeeper-migrations',
    ...(options.log ? { log: options.log } : {}),
  });
  try {
    return await migrate(pool, options);
  } finally {
    await pool.end().catch(() => {});
  }
}

async function health(db: Executor): Promise<StoreHealth> {
  let failure: unknown;
  // A second try when a pooled connection turns out to be dead (the server restarted
  // since it was last used): the fresh connection then tells the real state.
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    try {
      const answer = await db.withConnection(async (_client, session) => {
        const started = performance.now();
        const { rows } = await session.query<{ version: string; read_only: boolean }>(SERVER_VERSION);
        return {
          latencyMs: Math.round((performance.now() - started) * 100) / 100,
          version: rows[0]?.version ?? null,
          readOnly: rows[0]?.read_only === true,
        };
      });
      // Reachable but refusing writes (a standby): not a database the service can run on.
      if (answer.readOnly) {
        return {
          reachable: false,
          latencyMs: answer.latencyMs,
          serverVersion: answer.version,
          pool: poolFigures(db),
          error: readOnlyServer(describeServerAddress(db.target)),
        };
      }
      // The figures once the connection is back in the pool, as a caller sees it between requests.
      return { reachable: true, latencyMs: answer.latencyMs, serverVersion: answer.version, pool: poolFigures(db) };
    } catch (err) {
      // The executor wrapped the driver's error; what broke is its cause.
      failure = err instanceof GatekeeperError && err.code === 'DATABASE_UNAVAILABLE' ? err.cause : err;
      if (!isLostConnection(failure)) break;
    }
  }
  return {
    reachable: false,
    latencyMs: null,
    serverVersion: null,
    pool: poolFigures(db),
    error: describeConnectionError(failure, db.target),
  };
}

function poolFigures(db: Executor): PoolFigures {
  const pool = db.pool;
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max };
}
