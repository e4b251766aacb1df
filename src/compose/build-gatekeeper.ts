/**
 * What `npm start` runs, short of listening: the store, the service, the jobs a
 * running instance owns (retention purge, bootstrap admin) and the HTTP app.
 * src/main.ts adds listen() and signal handling; tests use it through inject().
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AuthService } from '../auth/auth-service.js';
import type { Config } from '../config.js';
import { buildApp } from '../http/app.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import type { Store } from '../store/store.js';
import { VERSION } from '../version.js';
import { createService, type ServiceOptions } from './create-service.js';
import { openStore, type OpenedStore } from './open-store.js';

/** A built, not yet listening, Gatekeeper. */
export interface BuiltGatekeeper {
  app: FastifyInstance;
  service: AuthService;
  store: Store;
  /** The Argon2 hasher and its bounded queue (what /metrics reports as gatekeeper_password_hash_jobs). */
  hasher: PasswordHasher;
  location: string;
  /** Closes the app, stops the purge timer and closes the store it opened. */
  close(): Promise<void>;
}

export interface BuildOptions extends Omit<ServiceOptions, 'log'> {
  /** The service's logger; false or absent: silent. */
  logger?: Logger | false;
  /** A store opened by the caller, who also closes it; absent: openStore(config). */
  store?: OpenedStore;
  /** The URL of an embedded server a parent process started (cluster workers). */
  embeddedUrl?: string | null;
}

/** How often a running instance purges expired audit events, login counters and retired keys. */
const PURGE_INTERVAL_MS = 6 * 3_600_000;

/**
 * Wires config → store → security → service → HTTP app, and starts the instance's
 * own jobs: the retention purge (now and every few hours) and the bootstrap admin.
 * @example const { app, close } = await buildGatekeeper(loadConfig({ GATEKEEPER_BACKEND: 'memory' }));
 */
export async function buildGatekeeper(config: Config, options: BuildOptions = {}): Promise<BuiltGatekeeper> {
  const log = options.logger || undefined;
  const opened =
    options.store ?? (await openStore(config, { ...(log ? { log } : {}), embeddedUrl: options.embeddedUrl ?? null }));
  let purgeTimer: NodeJS.Timeout | undefined;
  try {
    const { store } = opened;
    const { service, hasher, tokens } = await createService(config, store, {
      ...(log ? { log } : {}),
      ...(options.hashParams ? { hashParams: options.hashParams } : {}),
      ...(options.now ? { now: options.now } : {}),
      ...(options.keyRefreshSeconds === undefined ? {} : { keyRefreshSeconds: options.keyRefreshSeconds }),
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
      requestDeadlineSeconds: config.requestDeadlineSeconds,
      healthTimeoutSeconds: config.healthTimeoutSeconds,
      corsOrigins: config.corsOrigins,
      metricsToken: config.metricsToken,
      listenHost: config.host,
      ...(opened.alive ? { alive: opened.alive } : {}),
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
