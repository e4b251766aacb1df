import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AuthService } from './auth/auth-service.js';
import { describeDatabaseTarget, type Config } from './config.js';
import { buildApp } from './http/app.js';
import { PasswordHasher, type Argon2Params } from './security/password-hasher.js';
import { AccessTokens, hs256Keys, newSecret } from './security/tokens.js';
import { MemoryStore } from './store/memory-store.js';
import type { Store } from './store/store.js';
import { VERSION } from './version.js';

export interface OpenedStore {
  store: Store;
  /** Where users are kept, for the start line (never a password). */
  location: string;
  /** The embedded server's URL (with its generated password), so worker processes can share it. */
  url?: string;
  close(): Promise<void>;
}

/** Opens the store the configuration asks for: memory, a PostgreSQL server, or the embedded one. */
export async function openStore(config: Config, log?: Logger): Promise<OpenedStore> {
  const echo = log ? (line: string) => log.info({ sql: line }, 'sql') : undefined;
  if (config.backend === 'memory') {
    const store = new MemoryStore();
    return { store, location: 'process memory (lost on restart)', close: () => store.close() };
  }
  // Loaded on demand: the memory backend never needs the driver or the embedded binaries.
  const { openPostgresStore } = await import('./store/postgres/postgres-store.js');
  if (config.backend === 'postgres') {
    const store = await openPostgresStore({ database: config.database, kind: 'postgres', log: echo });
    return { store, location: `PostgreSQL ${describeDatabaseTarget(config.database)}`, close: () => store.close() };
  }
  const { startEmbeddedPostgres } = await import('./store/postgres/embedded.js');
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir });
  try {
    const database = { ...config.database, url: embedded.url, sslMode: null, sslRootCert: null };
    const store = await openPostgresStore({ database, kind: 'embedded-postgres', log: echo });
    return {
      store,
      url: embedded.url,
      location: `embedded PostgreSQL ${embedded.version} in ${config.dataDir} (port ${embedded.port})`,
      close: async () => {
        await store.close();
        await embedded.stop();
      },
    };
  } catch (err) {
    await embedded.stop();
    throw err;
  }
}

export interface Gatekeeper {
  app: FastifyInstance;
  service: AuthService;
  store: Store;
  location: string;
  close(): Promise<void>;
}

/**
 * Wires config → store → security → service → HTTP app. Library users and tests
 * call this; main.ts adds listen() and signal handling.
 */
export async function createGatekeeper(
  config: Config,
  options: { logger?: Logger | false; store?: OpenedStore; hashParams?: Argon2Params } = {},
): Promise<Gatekeeper> {
  const log = options.logger || undefined;
  const opened = options.store ?? (await openStore(config, config.database.echo ? log : undefined));
  try {
    const { store } = opened;
    const secret = config.secretKey ?? (await storedSecret(store, log));
    const tokens = new AccessTokens(hs256Keys(secret), {
      accessTokenMinutes: config.accessTokenExpireMinutes,
      issuer: config.issuer,
      audience: config.audience,
    });
    const hasher = new PasswordHasher({
      level: config.passwordSecurityLevel,
      concurrency: config.hashConcurrency,
      maxQueued: config.hashQueueMax,
      ...(options.hashParams ? { params: options.hashParams } : {}),
    });
    const service = new AuthService({
      store,
      hasher,
      tokens,
      passwordPolicy: config.passwordPolicy,
      refreshTokenDays: config.refreshTokenExpireDays,
      allowRegistration: config.allowRegistration,
      ...(log ? { log } : {}),
    });
    if (config.admin) {
      const outcome = await service.ensureAdmin(config.admin);
      if (outcome !== 'exists') log?.info({ username: config.admin.username }, `admin account ${outcome}`);
    }
    const app = await buildApp({
      service,
      hasher,
      version: VERSION,
      logger: options.logger ?? false,
      trustProxy: config.trustProxy,
      requestTimeoutSeconds: config.requestTimeoutSeconds,
    });
    app.addHook('onClose', async () => {
      if (!options.store) await opened.close();
    });
    return { app, service, store, location: opened.location, close: () => app.close() };
  } catch (err) {
    if (!options.store) await opened.close();
    throw err;
  }
}

/**
 * With no GATEKEEPER_SECRET_KEY, one random secret is generated and kept in the
 * database, so every instance and every restart signs with the same key.
 */
async function storedSecret(store: Store, log: Logger | undefined): Promise<string> {
  const secret = await store.putSettingIfAbsent('jwt_hs256_secret', newSecret());
  log?.warn(
    'GATEKEEPER_SECRET_KEY is not set: using a signing secret generated once and stored in the database. Set GATEKEEPER_SECRET_KEY (32+ characters) in production.',
  );
  return secret;
}
