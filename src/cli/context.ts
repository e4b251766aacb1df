/**
 * What most commands need first: the service's configuration, its store, and the
 * AuthService wired exactly as the service wires it (openStore + createGatekeeper),
 * so CLI changes get the same validation, errors and side effects as the API,
 * including telling running instances to drop their cached copy of a user.
 */
import type { AuthService } from '../auth/auth-service.js';
import { describeDatabaseTarget, loadConfig, type Config } from '../config.js';
import { createGatekeeper, openStore, type OpenedStore } from '../gatekeeper.js';
import { openPostgresStore } from '../store/postgres/postgres-store.js';
import { UsageError, type CliIo } from './command.js';
import { borrowEmbedded } from './embedded-server.js';

/** A one-shot command needs few connections; the service's pool size is for serving traffic. */
const CLI_POOL = { poolSize: 1, maxOverflow: 3 };

/** loadConfig on the CLI's environment; a ConfigError becomes exit 2 with every problem listed. */
export function loadCliConfig(io: CliIo): Config {
  return loadConfig(io.env);
}

function refuseMemory(config: Config): void {
  if (config.backend === 'memory') {
    throw new UsageError(
      'GATEKEEPER_BACKEND=memory keeps users inside the service process, out of reach of this command; ' +
        'point DATABASE_URL (or POSTGRES_*) at the database instead',
    );
  }
}

/**
 * The configured store as the service opens it (pending migrations applied). An
 * embedded server already running for a service is borrowed, not stopped afterwards.
 */
export async function openServiceStore(config: Config): Promise<OpenedStore> {
  refuseMemory(config);
  const small = { ...config, database: { ...config.database, ...CLI_POOL } };
  if (config.backend === 'postgres') return openStore(small);
  const embedded = await borrowEmbedded(config.dataDir);
  try {
    const opened = await openStore(small, undefined, { embeddedUrl: embedded.url });
    return {
      ...opened,
      location: `embedded PostgreSQL ${embedded.version} in ${config.dataDir}`,
      close: async () => {
        await opened.close();
        await embedded.release();
      },
    };
  } catch (err) {
    await embedded.release();
    throw err;
  }
}

/** The configured store, opened read-only: no migrations, no cache (health). */
export async function openStoreForInspection(config: Config): Promise<OpenedStore> {
  refuseMemory(config);
  if (config.backend === 'postgres') {
    const database = { ...config.database, ...CLI_POOL };
    const store = await openPostgresStore({ database, kind: 'postgres', migrate: false });
    const location = `PostgreSQL ${describeDatabaseTarget(config.database)}`;
    return { store, location, close: () => store.close() };
  }
  const embedded = await borrowEmbedded(config.dataDir);
  try {
    const database = { ...config.database, ...CLI_POOL, url: embedded.url, sslMode: null, sslRootCert: null };
    const store = await openPostgresStore({ database, kind: 'embedded-postgres', migrate: false });
    return {
      store,
      location: `embedded PostgreSQL ${embedded.version} in ${config.dataDir}`,
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

/** Runs `fn` with the service's AuthService on the configured store, and closes everything after. */
export async function withService<T>(io: CliIo, fn: (service: AuthService) => Promise<T>): Promise<T> {
  const config = loadCliConfig(io);
  const opened = await openServiceStore(config);
  try {
    const gatekeeper = await createGatekeeper(config, { logger: false, store: opened });
    try {
      return await fn(gatekeeper.service);
    } finally {
      await gatekeeper.close();
    }
  } finally {
    await opened.close();
  }
}
