/**
 * The one function that opens a store: memory, a PostgreSQL server, or the
 * embedded one (started here, borrowed from a running service, or handed over by
 * a parent process). The service, its cluster workers and every CLI command open
 * their store through it, so they all see the same database the same way.
 */
import type { Logger } from 'pino';
import { describeDatabaseTarget, type Config, type DatabaseConfig } from '../config.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import type { Store } from '../store/store.js';
import { withUserStateCache } from '../store/user-state-cache.js';
import { startEmbedded } from './embedded-server.js';

/** An open store, where it is, and how to close it (and the embedded server it may have started). */
export interface OpenedStore {
  store: Store;
  /** Where users are kept, for the start line (never a password). */
  location: string;
  /** The embedded server's URL (with its generated password), so worker processes can share it. */
  url?: string;
  /** False once the embedded server this store runs on died and could not be restarted. */
  alive?: () => boolean;
  close(): Promise<void>;
}

/**
 * What the store is opened for:
 * - `service`: the configured pool, pending migrations applied, the per-process user-state cache;
 *   an embedded server is started for the service and stopped with the store.
 * - `command`: a one-shot CLI command. A small pool; migrations and the cache as for the service
 *   (its notifications tell running instances to drop what a command changed); an embedded
 *   server a running service owns is borrowed and left running.
 * - `inspection`: a command that only looks (health): as `command`, but no migrations and no cache.
 */
export type StoreUse = 'service' | 'command' | 'inspection';

export interface OpenStoreOptions {
  /** Default `service`. */
  use?: StoreUse;
  /** Applied migrations, pool errors and (with POSTGRES_ECHO) statements, already redacted by the store. */
  log?: Logger;
  /** The URL of an embedded server a parent process started (cluster workers); null or absent: none. */
  embeddedUrl?: string | null;
}

/** A one-shot command needs few connections; the service's pool size is for serving traffic. */
const ONE_SHOT_POOL = { poolSize: 1, maxOverflow: 3 };

/**
 * @example const opened = await openStore(config, { use: 'inspection' }); try { … } finally { await opened.close(); }
 */
export async function openStore(config: Config, options: OpenStoreOptions = {}): Promise<OpenedStore> {
  const use = options.use ?? 'service';
  if (config.backend === 'memory') {
    const store = new MemoryStore();
    return { store, location: 'process memory (lost on restart)', close: () => store.close() };
  }
  const pool = use === 'service' ? config.database : { ...config.database, ...ONE_SHOT_POOL };
  const open = (database: DatabaseConfig, kind: PostgresKind) => openPostgres(config, database, kind, use, options.log);
  if (config.backend === 'postgres') {
    const store = await open(pool, 'postgres');
    return { store, location: `PostgreSQL ${describeDatabaseTarget(config.database)}`, close: () => store.close() };
  }
  // The embedded server speaks plain TCP on 127.0.0.1: TLS settings meant for a remote server do not apply.
  const at = (url: string): DatabaseConfig => ({ ...pool, url, sslMode: null, sslRootCert: null });
  if (options.embeddedUrl) {
    const store = await open(at(options.embeddedUrl), 'embedded-postgres');
    return { store, url: options.embeddedUrl, location: 'embedded PostgreSQL', close: () => store.close() };
  }
  const log = options.log;
  const embedded = await startEmbedded(
    config.dataDir,
    use === 'service' ? 'own' : 'borrow',
    log ? (line, level) => log[level](line) : undefined,
  );
  try {
    const store = await open(at(embedded.url), 'embedded-postgres');
    // A borrowed server's port belongs to the service that started it; the start line names it.
    const port = use === 'service' ? ` (port ${embedded.port})` : '';
    return {
      store,
      url: embedded.url,
      alive: embedded.alive,
      location: `embedded PostgreSQL ${embedded.version} in ${config.dataDir}${port}`,
      close: async () => {
        await store.close();
        await embedded.release();
      },
    };
  } catch (err) {
    await embedded.release();
    throw err;
  }
}

type PostgresKind = 'postgres' | 'embedded-postgres';

/** The PostgreSQL store, behind the per-process user-state cache unless GATEKEEPER_USER_CACHE_SECONDS=0. */
async function openPostgres(
  config: Config,
  database: DatabaseConfig,
  kind: PostgresKind,
  use: StoreUse,
  log: Logger | undefined,
): Promise<Store> {
  // Loaded on demand: the memory backend never needs pg.
  const { openPostgresStore } = await import('../store/postgres/postgres-store.js');
  const echo = log ? (line: string) => log.info(line) : undefined;
  if (use === 'inspection') return openPostgresStore({ database, kind, migrate: false });
  const store = await openPostgresStore({ database, kind, log: echo });
  if (config.userCacheSeconds === 0) return store;
  try {
    const { createNotificationBus } = await import('../store/postgres/notifications.js');
    // The whole database config: the pool mode and the direct URL decide between LISTEN and polling.
    const bus = await createNotificationBus(database, (line, level = 'warn') => log?.[level](line));
    return withUserStateCache(store, bus, { ttlMs: config.userCacheSeconds * 1000 });
  } catch (err) {
    await store.close();
    throw err;
  }
}
