import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AuthService } from './auth/auth-service.js';
import { KeyRing } from './auth/key-ring.js';
import { describeDatabaseTarget, type Config } from './config.js';
import { buildApp } from './http/app.js';
import { PasswordHasher, type Argon2Params } from './security/password-hasher.js';
import { AccessTokens, hs256Keys, newSecret, type SigningKeys } from './security/tokens.js';
import { MemoryStore } from './store/memory-store.js';
import type { Store } from './store/store.js';
import { withUserStateCache } from './store/user-state-cache.js';
import { VERSION } from './version.js';

export interface OpenedStore {
  store: Store;
  /** Where users are kept, for the start line (never a password). */
  location: string;
  /** The embedded server's URL (with its generated password), so worker processes can share it. */
  url?: string;
  close(): Promise<void>;
}

/**
 * Opens the store the configuration asks for: memory, a PostgreSQL server, or the
 * embedded one (`embeddedUrl`: one already started by a parent process).
 */
export async function openStore(
  config: Config,
  log?: Logger,
  options: { embeddedUrl?: string | null } = {},
): Promise<OpenedStore> {
  // Applied migrations, pool errors and (with POSTGRES_ECHO) statements, already redacted by the store.
  const echo = log ? (line: string) => log.info(line) : undefined;
  if (config.backend === 'memory') {
    const store = new MemoryStore();
    return { store, location: 'process memory (lost on restart)', close: () => store.close() };
  }
  if (config.backend === 'postgres') {
    const store = await openPostgres(config, config.database, 'postgres', echo, log);
    return { store, location: `PostgreSQL ${describeDatabaseTarget(config.database)}`, close: () => store.close() };
  }
  const withUrl = (url: string) => ({ ...config.database, url, sslMode: null, sslRootCert: null });
  if (options.embeddedUrl) {
    const store = await openPostgres(config, withUrl(options.embeddedUrl), 'embedded-postgres', echo, log);
    return { store, url: options.embeddedUrl, location: 'embedded PostgreSQL', close: () => store.close() };
  }
  // Loaded on demand: the other backends never need the embedded binaries.
  const { startEmbeddedPostgres } = await import('./store/postgres/embedded.js');
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir });
  try {
    const store = await openPostgres(config, withUrl(embedded.url), 'embedded-postgres', echo, log);
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

/** The PostgreSQL store, behind the per-process user-state cache unless GATEKEEPER_USER_CACHE_SECONDS=0. */
async function openPostgres(
  config: Config,
  database: Config['database'],
  kind: 'postgres' | 'embedded-postgres',
  echo: ((line: string) => void) | undefined,
  log: Logger | undefined,
): Promise<Store> {
  const { openPostgresStore } = await import('./store/postgres/postgres-store.js');
  const store = await openPostgresStore({ database, kind, log: echo });
  if (config.userCacheSeconds === 0) return store;
  try {
    const { createNotificationBus } = await import('./store/postgres/notifications.js');
    const bus = await createNotificationBus(database, (line) => log?.warn(line));
    return withUserStateCache(store, bus, { ttlMs: config.userCacheSeconds * 1000 });
  } catch (err) {
    await store.close();
    throw err;
  }
}

export interface Gatekeeper {
  app: FastifyInstance;
  service: AuthService;
  store: Store;
  /** The Argon2 hasher and its bounded queue (what /metrics reports as gatekeeper_password_hash_jobs). */
  hasher: PasswordHasher;
  location: string;
  close(): Promise<void>;
}

/**
 * Wires config → store → security → service → HTTP app. Library users and tests
 * call this; main.ts adds listen() and signal handling.
 */
export async function createGatekeeper(
  config: Config,
  options: {
    logger?: Logger | false;
    store?: OpenedStore;
    hashParams?: Argon2Params;
    embeddedUrl?: string | null;
    /** The clock of the service and its key ring (tests move it instead of sleeping). */
    now?: () => Date;
    /** Seconds between reloads of asymmetric signing keys from the store; default 60. */
    keyRefreshSeconds?: number;
  } = {},
): Promise<Gatekeeper> {
  const log = options.logger || undefined;
  const opened = options.store ?? (await openStore(config, log, { embeddedUrl: options.embeddedUrl ?? null }));
  let purgeTimer: NodeJS.Timeout | undefined;
  try {
    const { store } = opened;
    const keys = await openSigningKeys(config, store, log, options);
    const tokens = new AccessTokens(keys, {
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
      throttle: {
        windowSeconds: config.loginWindowSeconds,
        accountMaxFailures: config.loginAccountMaxFailures,
        ipMaxFailures: config.loginIpMaxFailures,
      },
      auditRetentionDays: config.auditRetentionDays,
      ...(options.now ? { now: options.now } : {}),
      ...(log ? { log } : {}),
    });
    // Retention holds even if nobody calls POST /auth/cleanup: at start, then every few hours.
    await service.purgeExpired();
    purgeTimer = setInterval(() => {
      service.purgeExpired().catch((err: unknown) => log?.warn({ err }, 'purging expired audit events failed'));
    }, PURGE_INTERVAL_MS);
    purgeTimer.unref();
    if (config.admin) {
      const outcome = await service.ensureAdmin(config.admin);
      if (outcome !== 'exists') log?.info({ username: config.admin.username }, `admin account ${outcome}`);
    }
    const app = await buildApp({
      service,
      hasher,
      version: VERSION,
      logger: options.logger ?? false,
      accessLog: config.accessLog,
      trustProxy: config.trustProxy,
      requestTimeoutSeconds: config.requestTimeoutSeconds,
      corsOrigins: config.corsOrigins,
      jwks: () => tokens.jwks(),
    });
    app.addHook('onClose', async () => {
      clearInterval(purgeTimer);
      if (!options.store) await opened.close();
    });
    return { app, service, store, hasher, location: opened.location, close: () => app.close() };
  } catch (err) {
    clearInterval(purgeTimer);
    if (!options.store) await opened.close();
    throw err;
  }
}

/** How often a running instance purges expired audit events, login counters and retired keys. */
const PURGE_INTERVAL_MS = 6 * 3_600_000;

/**
 * HS256 signs with one shared secret; EdDSA, ES256 and RS256 with a key ring kept
 * in the store (created on first start, rotated by `gatekeeper keys rotate`).
 */
async function openSigningKeys(
  config: Config,
  store: Store,
  log: Logger | undefined,
  options: { now?: () => Date; keyRefreshSeconds?: number },
): Promise<SigningKeys> {
  if (config.jwtAlgorithm === 'HS256') return hs256Keys(config.secretKey ?? (await storedSecret(store, log)));
  return KeyRing.open({
    store,
    algorithm: config.jwtAlgorithm,
    accessTokenSeconds: config.accessTokenExpireMinutes * 60,
    ...(options.keyRefreshSeconds === undefined ? {} : { refreshSeconds: options.keyRefreshSeconds }),
    ...(options.now ? { now: options.now } : {}),
    ...(log ? { log } : {}),
  });
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
