/**
 * The programmatic entry of the package: `createGatekeeper(options)` builds the
 * same Gatekeeper `npm start` runs (store, service, jobs, HTTP app) inside the
 * caller's process. Settings are read exactly as the service reads its
 * environment (docs/DESIGN.md lists them), from `options.env` or process.env;
 * `options.database` says where users are kept without any variable.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { AuthService } from '../auth/auth-service.js';
import { loadConfig, type Config } from '../config.js';
import { createLogger, resolveLogFormat } from '../logger.js';
import { isPool } from '../store/postgres/pool-shape.js';
import type { Store } from '../store/store.js';
import type { Mailer } from '../mail/mailer.js';
import { buildGatekeeper, type BuildOptions } from './build-gatekeeper.js';
import type { OpenedStore } from './open-store.js';

/**
 * Where users are kept, instead of DATABASE_URL / GATEKEEPER_BACKEND:
 * - a `pg.Pool` of yours: Gatekeeper runs its SQL on it and leaves it open on close();
 *   each of its connections is set to `TIME ZONE 'UTC'` when Gatekeeper first uses it;
 *   the per-process user cache is off (it would need a LISTEN connection of its own);
 * - a connection string (`postgres://…`, as DATABASE_URL);
 * - `{ embedded: { dataDir } }`: the embedded PostgreSQL, started in `dataDir` (default ./data);
 * - `{ memory: true }`: process memory, lost when the process ends (tests, demos).
 */
export type DatabaseOption = pg.Pool | string | { embedded: { dataDir?: string } } | { memory: true };

export interface CreateGatekeeperOptions {
  /** The settings, named as the environment variables of docs/DESIGN.md; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where users are kept; overrides DATABASE_URL, POSTGRES_* and GATEKEEPER_BACKEND of `env`. */
  database?: DatabaseOption;
  /** A pino logger, or false for none; default a logger at LOG_LEVEL in LOG_FORMAT, on stdout. */
  logger?: Logger | false;
  /** Argon2id parameters instead of the security level's (tests use cheap ones); for tests only. */
  hashParams?: BuildOptions['hashParams'];
}

/** A running (not listening) Gatekeeper in your process. */
export interface Gatekeeper {
  /** The use cases: register, login, refresh, logout, authenticate, profile, admin calls… */
  service: AuthService;
  /** The HTTP app with every route of the contract; `await app.listen({ port })` to serve it. */
  app: FastifyInstance;
  /** The settings in effect, as read from `env` and `database`. */
  config: Config;
  /**
   * Outgoing mail: SMTP when GATEKEEPER_SMTP_URL is set, else the outbox; with the memory
   * backend `mailer.outbox.mails` holds every mail sent, for your tests.
   */
  mailer: Mailer;
  /** Stops the jobs, closes the app and the store (and the embedded server, if one was started). */
  close(): Promise<void>;
}

/**
 * @throws ConfigError (its `problems` list each bad setting) for invalid settings;
 *   GatekeeperError `DATABASE_UNAVAILABLE` when the database cannot be reached.
 * @example
 * const gatekeeper = await createGatekeeper({ database: { memory: true } });
 * const user = await gatekeeper.service.register({ username: 'alice', password: 'Sup3r-Secret!' });
 * await gatekeeper.close();
 */
export async function createGatekeeper(options: CreateGatekeeperOptions = {}): Promise<Gatekeeper> {
  const database = options.database;
  const pool = database !== undefined && isPool(database) ? database : null;
  const config = loadConfig({ ...(options.env ?? process.env), ...databaseEnv(database) });
  const logger =
    options.logger === undefined
      ? createLogger(config.logLevel, resolveLogFormat(config.logFormat, process.stdout.isTTY))
      : options.logger;
  const opened = pool ? await openPool(pool, config, logger || undefined) : undefined;
  try {
    const built = await buildGatekeeper(config, {
      logger,
      ...(opened ? { store: opened } : {}),
      ...(options.hashParams ? { hashParams: options.hashParams } : {}),
    });
    const close = async () => {
      await built.close();
      await opened?.close();
    };
    return { service: built.service, app: built.app as FastifyInstance, config, mailer: built.mailer, close };
  } catch (err) {
    await opened?.close();
    throw err;
  }
}

/** The variables a `database` option stands for. */
function databaseEnv(database: DatabaseOption | undefined): Record<string, string> {
  if (database === undefined) return {};
  if (typeof database === 'string') return { GATEKEEPER_BACKEND: 'postgres', DATABASE_URL: database };
  if (isPool(database)) return { GATEKEEPER_BACKEND: 'postgres', GATEKEEPER_USER_CACHE_SECONDS: '0' };
  if ('memory' in database && database.memory) return { GATEKEEPER_BACKEND: 'memory' };
  if ('embedded' in database) {
    const dataDir = database.embedded.dataDir;
    return { GATEKEEPER_BACKEND: 'embedded', ...(dataDir ? { GATEKEEPER_DATA_DIR: dataDir } : {}) };
  }
  throw new TypeError('database must be a pg.Pool, a connection string, { embedded: { dataDir } } or { memory: true }');
}

async function openPool(pool: pg.Pool, config: Config, log: FastifyBaseLogger | undefined): Promise<OpenedStore> {
  const { openPostgresStore } = await import('../store/postgres/postgres-store.js');
  const store: Store = await openPostgresStore({
    database: config.database,
    pool,
    ...(log ? { log: (line: string) => log.info(line) } : {}),
  });
  return { store, location: 'PostgreSQL (a pool of the application)', close: () => store.close() };
}
